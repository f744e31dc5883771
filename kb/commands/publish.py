"""``kb publish --target DIR [--keep 5]``: build, verify and atomically switch to a new release.

The release goes to ``DIR/releases/<UTC time>-<commit>/`` (site and search index together) and
``DIR/current`` is switched to it only after verification; see :mod:`kb.publish.release`. Build one
target per audience: ``KB_AUDIENCE=public kb publish --target /srv/kb/public``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "publish", help="build and atomically publish a release to a target folder",
        description="Build (strict) into DIR/releases/<UTC time>-<commit>/, verify it (pages, "
                    "search index, a sample query), switch DIR/current to it atomically and "
                    "remove releases beyond --keep. The audience comes from KB_AUDIENCE.")
    parser.add_argument("--target", required=True, metavar="DIR",
                        help="deployment folder (one per audience), e.g. /srv/kb/internal")
    parser.add_argument("--keep", type=int, default=5, help="releases to keep (default 5; the "
                                                            "current and previous are always kept)")
    parser.add_argument("-f", "--config-file", default="mkdocs.yml", help="the site's mkdocs.yml")
    parser.add_argument("--pdf", action="store_true", help="render PDFs (sets extra.kb.pdf)")
    parser.add_argument("--sample-query", help="query the new index must answer "
                                               "(default: a page title)")
    parser.add_argument("--dry-run", action="store_true",
                        help="show what would happen (target state), build nothing")
    parser.set_defaults(func=run)


def _say(text: str) -> None:
    print(f"kb publish: {text}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from kb.publish import release as pub
    from kb.buildrun import find_config

    config_file = find_config(args.config_file, "publish")
    if config_file is None:
        return 2
    target = Path(args.target)
    if args.dry_run:
        names = pub.releases(target)
        print(f"target: {target.resolve()}\ncurrent: {pub.current(target) or '(none)'}\n"
              f"releases: {', '.join(names) or '(none)'}\nwould build {config_file} "
              f"(keep {args.keep}, pdf {'on' if args.pdf else 'off'})")
        return 0
    try:
        result = pub.publish(config_file, target, keep=args.keep, pdf=args.pdf,
                             sample_query=args.sample_query, say=_say)
    except pub.PublishError as exc:
        print(f"kb publish: {exc}", file=sys.stderr)
        return 1
    v = result.verification
    _say(f"verified: {v.pages} page(s)" + (
        f", index of {v.index_documents} document(s), sample query {v.sample_query!r} -> "
        f"{v.sample_hits} hit(s)" if v.index_documents is not None else "")
        + (f", {v.pdfs} PDF(s)" if args.pdf else ""))
    for note in v.notes:
        _say(f"note: {note}")
    for name in result.removed:
        _say(f"removed old release {name}")
    _say(f"current -> releases/{result.name} (was {result.previous or 'none'})")
    print(result.path)
    return 0
