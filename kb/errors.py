"""Errors about content, collected over a whole build and reported together."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from mkdocs.exceptions import PluginError

log = logging.getLogger("mkdocs.plugins.kb")


@dataclass(frozen=True, order=True)
class ContentError:
    """One problem in one source file: where it is, which field, what was expected and found."""

    file: str  # repository-relative path, e.g. ``policies/network.md``
    line: int | None
    field: str | None
    expected: str
    found: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = f"{where}: {self.field}: " if self.field else f"{where}: "
        text = f"{what}expected {self.expected}"
        if self.found is not None:
            text += f", found {self.found}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "expected": self.expected,
            "found": self.found,
            "hint": self.hint,
            "message": str(self),
        }


class ContentErrors(PluginError):
    """Raised once per build with every :class:`ContentError` found; MkDocs then exits non-zero."""

    def __init__(self, errors: Iterable[ContentError]):
        self.errors = sorted(set(errors), key=lambda e: (e.file, e.line or 0, e.field or ""))
        lines = [f"{len(self.errors)} content error(s); nothing was published:"]
        lines += [f"  - {e}" for e in self.errors]
        super().__init__("\n".join(lines))


def raise_collected(errors: Iterable[ContentError]) -> None:
    """Log each error and raise :class:`ContentErrors` when there is at least one."""
    errors = list(errors)
    if not errors:
        return
    for error in errors:
        log.error(str(error))
    raise ContentErrors(errors)
