"""The README documents every ``kb`` command and every ``extra.kb`` option."""

from __future__ import annotations

import re

from conftest import ROOT
from kb.cli import make_parser
from kb.config import KBSettings

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_documented() -> None:
    """Each sub-command of ``kb`` appears in the README's command table."""
    parser = make_parser()
    sub = next(a for a in parser._actions if a.dest == "command")  # noqa: SLF001
    commands = set(sub.choices)
    assert {"new", "check", "serve", "search", "index", "publish", "rollback", "pdf"} <= commands
    missing = [c for c in commands if f"| `kb {c}` |" not in README]
    assert not missing


def test_every_setting_is_documented() -> None:
    """Each option of ``KBSettings`` has a row in the README's configuration table."""
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", README, flags=re.M))
    missing = sorted(set(KBSettings.model_fields) - documented)
    assert not missing


def test_the_two_commands_are_the_makefile_targets() -> None:
    """The README's two set-up commands exist in the Makefile and .ci/run calls the test one."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "make serve" in README and "make test" in README
    assert re.search(r"^serve:", makefile, flags=re.M) and re.search(r"^test:", makefile, flags=re.M)
    assert "make test" in (ROOT / ".ci/run").read_text(encoding="utf-8")
