"""Benchmark: building the controlled-documents catalog (parse + validate + site rules).

Usage: ``.venv/bin/python bench/catalog.py [mkdocs.yml] [--repeat N]``. Prints pages, errors and
ms per catalog build / per page (config loading is timed separately, once). The catalog runs once per ``mkdocs build`` in ``on_files``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from kb.content.catalog import build_catalog, load_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", nargs="?", default="mkdocs.yml")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    start = time.perf_counter()
    files, settings, roots = load_files(args.config)
    load_ms = (time.perf_counter() - start) * 1000
    timings = []
    catalog = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        catalog = build_catalog(files, settings, roots)
        timings.append((time.perf_counter() - start) * 1000)
    assert catalog is not None
    pages = len(catalog.entries)
    p50 = statistics.median(timings)
    print(f"config + file list {load_ms:.0f} ms (once)")
    print(f"pages {pages}, errors {len(catalog.errors)}, catalog p50 {p50:.1f} ms "
          f"({p50 / max(pages, 1):.2f} ms/page), min {min(timings):.1f} ms, "
          f"max {max(timings):.1f} ms over {args.repeat} runs")


if __name__ == "__main__":
    main()
