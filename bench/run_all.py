"""Run every benchmark of bench/ in turn and print their figures (``make bench``).

Each benchmark is a script of its own that prints its figures; this runs them one after
another in fresh processes so they do not share caches or compete for the two cores.
Figures are noisy: compare the ratios printed within one run, not absolute times across runs.

    .venv/bin/python bench/run_all.py [NAME ...]     # e.g. scale search_eval
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

#: name -> (script, arguments, what it measures)
BENCHMARKS: dict[str, tuple[str, list[str], str]] = {
    "search_eval": ("search_eval.py", [], "search quality on tldr-zh: top-1, recall@5, MRR@10"),
    "search_bench": ("search_bench.py", [], "index time/size and query p50/p95, demo and 5,000 pages"),
    "scale": ("scale.py", [], "build ms/page, KB/page, peak memory at 500/2,000/5,000 pages vs plain Material"),
    "git_history": ("git_history_bench.py", [], "git data for 2,000 files x 5,000 commits"),
    "catalog": ("catalog.py", [], "front-matter catalog of the demo"),
    "notices": ("notices.py", [], "1,000 notices: our hooks vs the blog plugin"),
    "pdf": ("pdf_bench.py", [], "seconds per PDF page vs mkdocs-to-pdf; cached rebuild"),
    "load": ("load.py", [], "32 clients for 30 s against kb serve: req/s, p50/p95/p99, errors"),
    "acks": ("acks.py", [], "阅知确认: 32 clients confirming for 20 s, SQLite and PostgreSQL: req/s, p95, errors, lost"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default all: {', '.join(BENCHMARKS)})")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; expected one of {', '.join(BENCHMARKS)}")
    failed = []
    for name in args.names or list(BENCHMARKS):
        script, extra, what = BENCHMARKS[name]
        print(f"\n=== {name}: {what}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(BENCH / script), *extra], cwd=BENCH.parent)
        print(f"=== {name}: exit {code} after {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
