"""Scale benchmark: our build vs plain Material on synthetic knowledge bases of N pages.

For each N it generates the same pages twice (bench/synth.py): once with this repository's
configuration and hooks (committed to a git repository), once for plain Material (no hooks,
default navigation, Material's search plugin), and builds them in fresh processes:

* ``ours cold``  — empty caches (search analysis, fallback segments, git data) and a new site
  folder; only jieba's dictionary cache (not content) is copied in, as on any machine that built
  once;
* ``ours warm``  — the same build again: same site folder (its ``.search-index`` is updated in
  place) and caches; nothing changed;
* ``plain``      — plain Material, same pages.

Per page figures divide by the number of source Markdown pages. ``KB/page`` counts the served
site (everything but dot folders); the Whoosh index (``SITE_DIR/.search-index``, never served)
is given separately. ``index s`` is the indexer's own time (``build.json`` ``seconds``). Peak
memory is the largest resident size of the build process or any child it waited for.

    .venv/bin/python bench/scale.py                 # N = 500, 2000, 5000
    .venv/bin/python bench/scale.py --sizes 500 --no-plain
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
INDEX_DIR = ".search-index"

# Runs one mkdocs build in this child process and reports its peak memory (self + children).
_CHILD = r"""
import json, resource, sys, time
from mkdocs.__main__ import cli
start = time.perf_counter()
try:
    cli.main(args=sys.argv[1:], standalone_mode=False)
    code = 0
except SystemExit as exc:
    code = exc.code or 0
except Exception as exc:
    print(f"build failed: {exc}", file=sys.stderr)
    code = 1
elapsed = time.perf_counter() - start
self_ru = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
peak = max(self_ru.ru_maxrss, kids.ru_maxrss)
print("KB-BENCH " + json.dumps({"seconds": elapsed, "peak_kb": peak,
      "cpu": self_ru.ru_utime + self_ru.ru_stime + kids.ru_utime + kids.ru_stime,
      "cpu_main": self_ru.ru_utime + self_ru.ru_stime, "code": code}), file=sys.stderr)
"""


@dataclass
class Result:
    label: str
    pages: int  # source Markdown pages
    html: int  # HTML pages written
    seconds: float
    cpu: float  # the build's process and every child it waited for
    peak_mb: float
    output_kb: float
    index_kb: float
    index_seconds: float | None
    cpu_main: float = 0.0  # the build's own process only: the critical path on idle cores

    @property
    def ms_per_page(self) -> float:
        return self.seconds * 1000 / self.pages

    @property
    def kb_per_page(self) -> float:
        return self.output_kb / self.pages


def _size_kb(folder: Path, *, skip_dot: bool) -> float:
    total = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        if skip_dot:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            filenames = [f for f in filenames if not f.startswith(".")]
        total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in filenames)
    return total / 1024


def source_pages(project: Path) -> int:
    """Markdown pages of a synthetic project (docs/ plus the content roots)."""
    return sum(1 for sub in ("docs", "policies", "manuals") if (project / sub).is_dir()
               for _ in (project / sub).rglob("*.md"))


def build(project: Path, site: Path, label: str, env: dict[str, str]) -> Result:
    """Build ``project`` into ``site`` in a fresh process; measure time, memory and output."""
    cmd = [sys.executable, "-c", _CHILD, "build", "-q", "-f", str(project / "mkdocs.yml"),
           "-d", str(site)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=project)
    line = next((ln for ln in proc.stderr.splitlines() if ln.startswith("KB-BENCH ")), None)
    if line is None or json.loads(line[9:])["code"] != 0:
        raise SystemExit(f"{label}: build failed\n{proc.stderr[-3000:]}")
    data = json.loads(line[9:])
    index = site / INDEX_DIR
    index_seconds = None
    meta = index / "build.json"
    if meta.is_file():
        index_seconds = json.loads(meta.read_text(encoding="utf-8")).get("seconds")
    html = sum(1 for p in site.rglob("*.html") if not any(s.startswith(".") for s in p.parts))
    return Result(label, source_pages(project), html, data["seconds"], data["cpu"],
                  data["peak_kb"] / 1024, _size_kb(site, skip_dot=True),
                  _size_kb(index, skip_dot=False) if index.is_dir() else 0.0, index_seconds,
                  data.get("cpu_main", 0.0))


def fresh_cache(folder: Path) -> Path:
    """An empty search cache folder, with jieba's dictionary cache (not content) copied in."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    from search.lexicon import cache_root

    jieba_cache = cache_root() / "jieba.cache"
    if jieba_cache.is_file():
        shutil.copy2(jieba_cache, folder / "jieba.cache")
    return folder


def run_size(n: int, work: Path, env: dict[str, str], plain: bool) -> list[Result]:
    """Cold and warm builds of ours (and plain Material's) for ``n`` pages."""
    project = synth.write_project(n, work / f"ours-{n}")
    site = work / f"ours-{n}-site"
    if site.exists():
        shutil.rmtree(site)
    ours_env = {**env, "KB_SEARCH_CACHE": str(fresh_cache(work / f"cache-{n}"))}
    results = [build(project, site, "ours cold", ours_env),
               build(project, site, "ours warm", ours_env)]
    if plain:
        plain_site = work / f"plain-{n}-site"
        if plain_site.exists():
            shutil.rmtree(plain_site)
        results.append(build(synth.write_plain_project(n, work / f"plain-{n}"), plain_site,
                             "plain Material", env))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 5000])
    parser.add_argument("--no-plain", action="store_true", help="skip the plain Material builds")
    parser.add_argument("--work", type=Path, default=None, help="folder for projects and sites")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    work = args.work or Path(tempfile.mkdtemp(prefix="kb-scale-"))
    env = {**os.environ, "KB_TODAY": "2026-11-27", "NO_MKDOCS_2_WARNING": "1"}
    env.pop("KB_AUDIENCE", None)
    env.pop("KB_PREVIEW", None)
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores shared: figures are noisy)")
    table: dict[int, list[Result]] = {}
    for n in args.sizes:
        table[n] = run_size(n, work, env, not args.no_plain)
        _print_rows(n, table[n])
    _print_summary(args.sizes, table)
    print(f"work folder: {work}")


def _print_rows(n: int, results: list[Result]) -> None:
    print(f"\nN = {n}  (load average {os.getloadavg()[0]:.1f})")
    print(f"{'build':15} {'pages':>6} {'html':>6} {'s':>7} {'ms/page':>8} {'cpu s':>7} "
          f"{'KB/page':>8} {'peak MB':>8} {'index s':>8} {'index MB':>9}")
    for r in results:
        idx_s = f"{r.index_seconds:.2f}" if r.index_seconds is not None else "-"
        print(f"{r.label:15} {r.pages:6d} {r.html:6d} {r.seconds:7.2f} {r.ms_per_page:8.2f} "
              f"{r.cpu:7.1f} {r.kb_per_page:8.1f} {r.peak_mb:8.0f} {idx_s:>8} "
              f"{r.index_kb / 1024:9.1f}")
    plain = next((r for r in results if r.label == "plain Material"), None)
    if plain is not None:
        ratios = ", ".join(f"{r.label} {r.seconds / plain.seconds:.2f}" for r in results
                           if r is not plain)
        print(f"time / plain Material: {ratios}")
    sys.stdout.flush()


def _print_summary(sizes: list[int], table: dict[int, list[Result]]) -> None:
    if len(sizes) < 2:
        return
    small, large = sizes[0], sizes[-1]
    print()
    for i, label in enumerate(("ours cold", "ours warm")):
        a, b = table[small][i], table[large][i]
        print(f"near-linear ({label}): time at {large} = {b.seconds / a.seconds:.1f}x time at "
              f"{small} ({b.pages / a.pages:.1f}x the pages)")


if __name__ == "__main__":
    main()
