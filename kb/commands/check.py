"""``kb check [--base REF] [--json]``: everything a pull request must pass, in one command.

Strict build, front-matter validation, links/anchors/images on the built site, version discipline
against ``--base`` and the review report; output grouped by file with line numbers and a fix hint.
Exit status 1 when there is an error or warning, 0 when clean (review notes never fail).
"""

from __future__ import annotations

import argparse
import os


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "check", help="run every pull-request check (build, metadata, links, versions)",
        description="Build strictly into a temporary folder and check metadata, links, anchors, "
                    "images, version discipline (--base) and review dates. Exit 1 on errors.")
    parser.add_argument("-f", "--config-file", default="mkdocs.yml", help="the site's mkdocs.yml")
    parser.add_argument("--base", metavar="REF",
                        help="git revision the change is compared with (e.g. origin/main)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    output.add_argument("--annotate", action="store_true",
                        help="also print CI annotations (::error file=...,line=...::)")
    parser.add_argument("--audience", choices=("public", "internal", "confidential"),
                        default=os.environ.get("KB_AUDIENCE") or "confidential",
                        help="audience of the checked build (default: KB_AUDIENCE, else "
                             "confidential, the widest build, so every page is checked)")
    parser.add_argument("--site-dir", help="keep the checked build in this folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kb.buildrun import find_config
    from kb.checks import run_checks

    config_file = find_config(args.config_file, "check")
    if config_file is None:
        return 2
    report = run_checks(config_file, base=args.base, site_dir=args.site_dir,
                        env={"KB_AUDIENCE": args.audience})
    if args.json:
        print(report.to_json())
    else:
        print(report.to_text())
        if args.annotate and report.problems:
            print(report.annotations())
    return 1 if report.failed else 0
