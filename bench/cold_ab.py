"""Cold builds of the same synthetic pages with different code, interleaved in one run.

Each variant is a source tree (this checkout, or an exported older commit) and, optionally,
hooks left out of its ``mkdocs.yml``. The pages are generated once (bench/synth.py); each
variant gets a copy with its tree's ``mkdocs.yml``, hooks and theme files, and its builds
import ``kb`` and ``search`` from that tree (``PYTHONPATH``). Builds run round-robin (A B C A
B C ...), each cold: a new site folder and empty caches (jieba's dictionary cache copied in, as
in bench/scale.py). The machine is shared and noisy, so the median and range of each variant
are printed, and the ratio of medians to the first variant; and the CPU time of the build's
own process, which is what an idle machine's wall time cannot go below (its workers run on
other cores), and which load from other jobs changes much less than wall time.

    git archive OLD | tar -x -C /tmp/old
    .venv/bin/python bench/cold_ab.py --pages 5000 --reps 3 \\
        old=/tmp/old  old-no-prewarm=/tmp/old:-search_prewarm  new=.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale  # noqa: E402
import synth  # noqa: E402


def parse_variant(text: str) -> tuple[str, Path, list[str]]:
    """``NAME=TREE[:-hook[:-hook]]`` → (name, tree, hooks to leave out)."""
    name, _, rest = text.partition("=")
    tree, *drops = rest.split(":")
    return name, Path(tree).resolve(), [d.removeprefix("-") for d in drops]


def variant_project(pages: Path, dest: Path, tree: Path, drop: list[str]) -> Path:
    """A copy of the generated pages with ``tree``'s configuration, hooks and theme files."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(pages, dest, symlinks=True)
    synth.refresh_code(dest, root=tree)
    config = (dest / "mkdocs.yml").read_text(encoding="utf-8")
    for hook in drop:
        config = re.sub(rf"\n\s*- hooks/{re.escape(hook)}\.py[^\n]*", "", config)
    (dest / "mkdocs.yml").write_text(config, encoding="utf-8")
    status = subprocess.run(["git", "status", "--porcelain"], cwd=dest, capture_output=True,
                            text=True, check=True).stdout
    if status.strip():
        synth.commit_all(dest, "variant code")
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help="NAME=TREE[:-hook...]")
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kb-cold-ab-"))
    work.mkdir(parents=True, exist_ok=True)
    base = synth.write_project(args.pages, work / "pages")
    env = {**os.environ, "KB_TODAY": "2026-11-27", "NO_MKDOCS_2_WARNING": "1"}
    for key in ("KB_AUDIENCE", "KB_PREVIEW", "PYTHONPATH"):
        env.pop(key, None)
    variants = [parse_variant(v) for v in args.variants]
    projects = {name: variant_project(base, work / f"project-{name}", tree, drop)
                for name, tree, drop in variants}
    times: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    mains: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    print(f"{args.pages} pages, {args.reps} rounds; load average {os.getloadavg()[0]:.1f}")
    for rep in range(args.reps):
        for name, tree, _ in variants:
            site = work / f"site-{name}"
            if site.exists():
                shutil.rmtree(site)
            cache = scale.fresh_cache(work / f"cache-{name}")
            shutil.rmtree(projects[name] / ".cache", ignore_errors=True)
            run_env = {**env, "KB_SEARCH_CACHE": str(cache), "PYTHONPATH": str(tree)}
            result = scale.build(projects[name], site, name, run_env)
            times[name].append(result.ms_per_page)
            mains[name].append(result.cpu_main * 1000 / result.pages)
            print(f"round {rep + 1} {name:20} {result.seconds:7.1f} s {result.ms_per_page:6.2f} "
                  f"ms/page  cpu {result.cpu:6.1f} s (build process {result.cpu_main:5.1f} s)  "
                  f"peak {result.peak_mb:5.0f} MB  index "
                  f"{result.index_seconds if result.index_seconds is not None else '-'} s  "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
    first = statistics.median(times[variants[0][0]])
    print(f"\ncold ms/page at {args.pages} pages: median [min-max] over {args.reps} rounds")
    for name, _, _ in variants:
        med = statistics.median(times[name])
        print(f"  {name:20} {med:6.2f} [{min(times[name]):.2f}-{max(times[name]):.2f}]  "
              f"x{med / first:.2f} of {variants[0][0]};  build process CPU "
              f"{statistics.median(mains[name]):.2f} ms/page")
    print(f"work folder: {work}")


if __name__ == "__main__":
    main()
