"""Snippets: the stretch of a section's text with the most query terms, HTML-escaped, terms in
``<mark>``. Everything that is not highlight markup is escaped, so page text such as
``<script>`` shows as text.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

WIDTH = 140
MAX_TERMS = 40


@lru_cache(maxsize=512)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    parts = []
    for term in sorted({t for t in terms if t.strip()}, key=len, reverse=True)[:MAX_TERMS]:
        esc = re.escape(term)
        if term.isascii() and term[:1].isalnum():
            parts.append(rf"(?<![a-z0-9]){esc}[a-z0-9]*" if term[-1:].isalnum() else esc)
        else:
            parts.append(esc)
    if not parts:
        return None
    return re.compile("|".join(parts), re.IGNORECASE)


def highlight(text: str, terms: list[str] | tuple[str, ...], width: int = WIDTH) -> str:
    """The best window of ``text`` (about ``width`` characters) with ``terms`` marked."""
    pat = _pattern(tuple(terms))
    matches = list(pat.finditer(text)) if pat else []
    if not matches:
        cut = text[:width]
        return html.escape(cut) + ("…" if len(text) > width else "")
    best_start, best_score = 0, -1
    for i, m in enumerate(matches):
        seen = set()
        for n in matches[i:]:
            if n.end() - m.start() > width:
                break
            seen.add(n.group(0).lower())
        if len(seen) > best_score:
            best_start, best_score = m.start(), len(seen)
    start = max(0, best_start - width // 5)
    # move the start back to a sentence or word boundary when one is close
    for j in range(best_start, start, -1):
        if text[j - 1] in "。；！？.;!?\n":
            start = j
            break
    end = min(len(text), start + width)
    out = ["…" if start > 0 else ""]
    pos = start
    for m in matches:
        if m.start() < start or m.end() > end:
            continue
        out.append(html.escape(text[pos : m.start()]))
        out.append(f"<mark>{html.escape(m.group(0))}</mark>")
        pos = m.end()
    out.append(html.escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out).strip()
