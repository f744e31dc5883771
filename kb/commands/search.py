"""``kb search``: query a built site's search index from the command line."""

from __future__ import annotations

import argparse
import html
import json
import re
import sys

_MARK = re.compile(r"</?mark>")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "search",
        help="search a built site",
        description="Search the index written by `kb index` (or the mkdocs build hook).",
    )
    p.add_argument("query", nargs="*", metavar="QUERY", help="words, \"phrases\", -exclusions")
    p.add_argument("--site", default="site", metavar="SITE_DIR", help="built site (default: site)")
    p.add_argument("--json", action="store_true", help="print the hits as JSON")
    p.add_argument("--limit", type=int, default=10, help="number of hits (default 10)")
    p.add_argument("--type", default=None, help="only pages of this kb: type")
    p.add_argument("--tag", default=None, help="only pages with this tag")
    p.add_argument("--status", default=None, help="only pages with this status")
    p.add_argument("--archived", action="store_true", help="include archived versions")
    p.add_argument("--batch", metavar="FILE", help="one query per line; one JSON line each")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from search import SearchEngine

    engine = SearchEngine(args.site)
    try:
        engine.info()
    except FileNotFoundError as exc:
        print(f"kb search: {exc}", file=sys.stderr)
        return 2
    opts = dict(type=args.type, tag=args.tag, status=args.status, archived=args.archived,
                size=args.limit)
    if args.batch:
        stream = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")
        with stream:
            for line in stream:
                hits = engine.search(line.rstrip("\n"), **opts).hits
                print(json.dumps(hits, ensure_ascii=False), flush=True)
        return 0
    query = " ".join(args.query)
    if not query.strip():
        print("kb search: give a query (or --batch FILE)", file=sys.stderr)
        return 2
    resp = engine.search(query, **opts)
    if args.json:
        print(json.dumps(resp.hits, ensure_ascii=False, indent=1))
        return 0
    print(f"{resp.total} pages ({resp.took_ms:.1f} ms)")
    if resp.suggestion:
        print(f"did you mean: {resp.suggestion}")
    if resp.partial:
        print(f"未找到同时包含“{'”“'.join(resp.partial['words'])}”的"
              f"结果，以下结果包含“{'”“'.join(resp.partial['found'])}”")
    for i, hit in enumerate(resp.hits, 1):
        where = f" › {hit['section']}" if hit["section"] else ""
        meta = " ".join(x for x in (hit["type"], hit["doc_id"], hit["version"]) if x)
        print(f"{i:2}. {hit['title']}{where}  [{meta}]" if meta else f"{i:2}. {hit['title']}{where}")
        print(f"    {hit['url']}")
        print(f"    {html.unescape(_MARK.sub('', hit['snippet']))}")
    return 0
