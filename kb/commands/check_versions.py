"""``kb check-versions --base REF``: version discipline of controlled documents since ``REF``.

Fails (exit 1) when a policy or manual changed since ``REF`` without a higher ``version`` and a
matching ``history`` entry, or when a version went down; each line names the file and what to
add. Exit 2 when ``REF`` is unknown. ``kb check --base REF`` runs the same check through
:func:`run_check`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kb.errors import ContentError


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "check-versions", help="controlled documents changed since REF carry a new version",
        description="Compare the working tree with REF (a commit, branch or tag, e.g. "
                    "origin/main): every changed policy or manual needs a higher version and "
                    "a history entry for it; versions never go down.")
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", required=True, metavar="REF",
                        help="the revision to compare with, e.g. origin/main")
    parser.add_argument("-f", "--config-file", default="mkdocs.yml", help="the site's mkdocs.yml")


def run_check(config_file: str | Path, base: str) -> tuple[list[ContentError], str | None]:
    """The version-discipline errors of the project of ``config_file`` against ``base``, or a
    reason the check could not run (``(errors, None)`` when it ran)."""
    from kb.versions.check import check_project

    config_file = Path(config_file).resolve()
    if not config_file.is_file():
        return [], f"{config_file}: no such file (run in the repository or use -f)"
    errors = check_project(config_file, base)
    if len(errors) == 1 and errors[0].file == "--base":
        return [], errors[0].hint
    return errors, None


def run(args: argparse.Namespace) -> int:
    errors, problem = run_check(args.config_file, args.base)
    if problem:
        print(f"kb check-versions: {problem}", file=sys.stderr)
        return 2
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if errors:
        print(f"kb check-versions: {len(errors)} document(s) changed since {args.base} without "
              "a proper new version", file=sys.stderr)
        return 1
    print(f"kb check-versions: every changed controlled document since {args.base} carries a "
          "new version and history entry")
    return 0
