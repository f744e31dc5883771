"""The ``kb`` command: a thin dispatcher.

Each sub-command lives in its own module, which exposes ``add_parser(subparsers)``; that function
registers the sub-command and sets ``func`` (called with the parsed arguments, returning an exit
code). Modules are imported only when listed here, so adding a command is one line.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: sub-command modules, in the order ``kb --help`` lists them
COMMAND_MODULES: tuple[str, ...] = (
    "kb.commands.build",
    "kb.commands.new",
    "kb.commands.check",
    "kb.commands.check_versions",
    "kb.commands.publish",
    "kb.commands.rollback",
    "kb.commands.report",
    "kb.commands.index",
    "kb.commands.search",
    "kb.commands.serve",
    "kb.commands.pdf",
)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kb", description="InfoCenter KB (信息中心知识库): build, check, search and publish."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a command whose module is not written yet
            if exc.name != name:
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from mkdocs.exceptions import ConfigurationError

    try:
        return int(args.func(args) or 0)
    except ConfigurationError as exc:  # mkdocs.yml refused: say where, no traceback
        print(f"kb {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
