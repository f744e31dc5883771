"""``kb rollback --target DIR [--to NAME]``: switch ``DIR/current`` back to the previous release."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "rollback", help="switch a target back to its previous release",
        description="Point DIR/current at the newest release older than the current one (or at "
                    "--to NAME), atomically. `kb rollback --list` shows the releases.")
    parser.add_argument("--target", required=True, metavar="DIR", help="deployment folder")
    parser.add_argument("--to", metavar="NAME", help="a release name under DIR/releases/")
    parser.add_argument("--list", action="store_true", help="list releases, change nothing")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kb.publish import release as pub

    if args.list:
        cur = pub.current(args.target)
        for name in pub.releases(args.target):
            print(f"{'*' if name == cur else ' '} {name}")
        return 0
    try:
        before, after = pub.rollback(args.target, args.to,
                                     say=lambda s: print(f"kb rollback: {s}", file=sys.stderr))
    except pub.PublishError as exc:
        print(f"kb rollback: {exc}", file=sys.stderr)
        return 1
    print(f"kb rollback: current -> releases/{after} (was {before or 'none'})", file=sys.stderr)
    print(after)
    return 0
