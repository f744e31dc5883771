"""Page slots: where fragments computed by hooks are placed on a page.

Hooks append HTML strings to ``page.kb_top`` (banners, the document-control block, PDF and print
buttons, level badges). :func:`place_top` puts them right below the page's title, so a reader sees
the title first and the document's status next; ``page.kb_head`` goes into ``<head>`` through
``docs/overrides/main.html``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

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
