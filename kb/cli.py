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


#: commands whose name is their module's (parsed alone when they are the one asked for)
_ONE_WORD_COMMANDS = frozenset(m.rsplit(".", 1)[1] for m in COMMAND_MODULES if "_" not in m)


def make_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every sub-command, or of ``command`` only when it names one (a one-off
    ``kb search`` then imports neither MkDocs nor the other commands' modules)."""
    parser = argparse.ArgumentParser(
        prog="kb", description="InfoCenter KB (信息中心知识库): build, check, search and publish."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = [m for m in COMMAND_MODULES if command and m.rsplit(".", 1)[1] == command]
    for name in modules or COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a command whose module is not written yet
            if exc.name != name:
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = make_parser(argv[0] if argv and argv[0] in _ONE_WORD_COMMANDS else None)
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
