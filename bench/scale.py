"""Scale benchmark: our build vs plain Material on synthetic knowledge bases of N pages.

For each N it generates the same pages twice (bench/synth.py): once with this repository's
configuration and hooks, once for plain Material (no hooks, default navigation), builds both in
fresh processes and prints build ms/page, output KB/page, search index seconds and size, peak
memory, and our build time as a ratio of plain Material's in the same run.

    .venv/bin/python bench/scale.py                 # N = 500, 2000, 5000
    .venv/bin/python bench/scale.py --sizes 500 --no-plain
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
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
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print("KB-BENCH " + json.dumps({"seconds": elapsed, "peak_kb": peak, "code": code}), file=sys.stderr)
"""


@dataclass
class Result:
    label: str
    pages: int
    seconds: float
    peak_mb: float
    output_kb: float
    index_kb: float
    index_seconds: float | None

    @property
    def ms_per_page(self) -> float:
        return self.seconds * 1000 / self.pages

    @property
    def kb_per_page(self) -> float:
        return self.output_kb / self.pages


def _size_kb(folder: Path, *, skip: str | None = None) -> float:
    total = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        if skip and skip in dirnames:
            dirnames.remove(skip)
        total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in filenames)
    return total / 1024


def build(project: Path, site: Path, label: str, env: dict[str, str]) -> Result:
    """Build ``project`` into ``site`` in a fresh process; measure time, memory and output."""
    cmd = [sys.executable, "-c", _CHILD, "build", "-q", "-f", str(project / "mkdocs.yml"),
           "-d", str(site)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=project)
    line = next((ln for ln in proc.stderr.splitlines() if ln.startswith("KB-BENCH ")), None)
    if line is None or json.loads(line[9:])["code"] != 0:
        raise SystemExit(f"{label}: build failed\n{proc.stderr[-3000:]}")
    data = json.loads(line[9:])
    pages = sum(1 for _ in site.rglob("index.html"))
    index = site / INDEX_DIR
    index_seconds = None
    meta = index / "build.json"
    if meta.is_file():
        index_seconds = json.loads(meta.read_text(encoding="utf-8")).get("seconds")
    return Result(label, pages, data["seconds"], data["peak_kb"] / 1024,
                  _size_kb(site, skip=INDEX_DIR), _size_kb(index) if index.is_dir() else 0.0,
                  index_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 5000])
    parser.add_argument("--no-plain", action="store_true", help="skip the plain Material builds")
    parser.add_argument("--work", type=Path, default=None, help="folder for projects and sites")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kb-scale-"))
    env = {**os.environ, "KB_TODAY": "2026-11-27", "NO_MKDOCS_2_WARNING": "1"}
    results: list[tuple[Result, Result | None]] = []
    for n in args.sizes:
        ours = build(synth.write_project(n, work / f"ours-{n}"), work / f"ours-{n}-site",
                     "ours", env)
        plain = None
        if not args.no_plain:
            plain = build(synth.write_plain_project(n, work / f"plain-{n}"),
                          work / f"plain-{n}-site", "plain Material", env)
        results.append((ours, plain))
        _print_row(n, ours, plain)
    if len(results) > 1:
        small, large = results[0][0], results[-1][0]
        print(f"\nnear-linear: time at {args.sizes[-1]} = {large.seconds / small.seconds:.1f}x "
              f"time at {args.sizes[0]} ({args.sizes[-1] / args.sizes[0]:.0f}x the pages)")
    print(f"work folder: {work}")


def _print_row(n: int, ours: Result, plain: Result | None) -> None:
    print(f"\nN = {n}")
    header = f"{'build':16} {'pages':>6} {'s':>7} {'ms/page':>8} {'KB/page':>8} {'peak MB':>8} " \
             f"{'index s':>8} {'index MB':>9}"
    print(header)
    for r in (ours, plain):
        if r is None:
            continue
        idx_s = f"{r.index_seconds:.2f}" if r.index_seconds is not None else "-"
        print(f"{r.label:16} {r.pages:6d} {r.seconds:7.2f} {r.ms_per_page:8.2f} "
              f"{r.kb_per_page:8.1f} {r.peak_mb:8.0f} {idx_s:>8} {r.index_kb / 1024:9.1f}")
    if plain is not None:
        print(f"ours / plain Material time: {ours.seconds / plain.seconds:.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
