"""Page slots: where fragments computed by hooks are placed on a page.

Each page has one :class:`PageSlots` (:func:`slots`, kept on the page as ``page.kb_slots``).
Hooks append HTML strings to its ``top`` (banners, the document-control block, PDF and print
buttons, level badges); :func:`place_top` puts them right below the page's title, so a reader
sees the title first and the document's status next. Its ``head`` goes into ``<head>`` through
``docs/overrides/main.html`` (``page.kb_slots.head``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: the page attribute holding the slots (read by docs/overrides/main.html)
ATTRIBUTE = "kb_slots"


@dataclass
class PageSlots:
    """HTML fragments hooks add to one page."""

    #: placed below the page title (hooks/slots.py), in the order added
    top: list[str] = field(default_factory=list)
    #: placed in ``<head>`` by the template
    head: list[str] = field(default_factory=list)


def slots(page: Any) -> PageSlots:
    """The slots of ``page`` (a MkDocs page), made empty on first use."""
    value = getattr(page, ATTRIBUTE, None)
    if not isinstance(value, PageSlots):
        value = PageSlots()
        setattr(page, ATTRIBUTE, value)
    return value

_H1_END = re.compile(r"</h1\s*>", re.IGNORECASE)


def place_top(content: str, fragments: Sequence[str]) -> str:
    """``content`` with ``fragments`` after its first ``<h1>`` (or first, when it has none)."""
    if not fragments:
        return content
    block = "\n".join(fragments)
    match = _H1_END.search(content)
    if match is None:
        return f"{block}\n{content}"
    return f"{content[:match.end()]}\n{block}\n{content[match.end():]}"
