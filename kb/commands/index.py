"""``kb index SITE_DIR``: (re)build the search index of a built site."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "index",
        help="build the search index of a built site (SITE_DIR/.search-index)",
        description="Read the HTML of a site built with MkDocs + Material and write its Whoosh "
        "search index to SITE_DIR/.search-index (replaced whole, atomically).",
    )
    p.add_argument("site_dir", metavar="SITE_DIR", help="the built site folder")
    p.add_argument("--procs", type=int, default=None, help="worker processes (default: cores)")
    p.add_argument("--no-cache", action="store_true", help="analyse every page again")
    p.add_argument("--cache-dir", default=None, help="analysis cache folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kb.content.model import search_vocabulary
    from search import build_index

    try:
        info = build_index(
            args.site_dir, procs=args.procs, cache_dir=args.cache_dir, use_cache=not args.no_cache,
            vocabulary=search_vocabulary(),
        )
    except FileNotFoundError as exc:
        print(f"kb index: {exc}", file=sys.stderr)
        return 2
    print(
        f"indexed {info.pages} pages ({info.documents} sections) in {info.seconds:.2f}s "
        f"[{info.analysed} analysed, {info.cached} from cache, {info.unchanged} unchanged]; "
        f"build {info.build_id}"
    )
    return 0
