"""Parse a query string: words, ``"phrases"``, ``-exclusions``, ``field:value`` filters.

The parser never fails: whatever the input, it returns a :class:`ParsedQuery`, possibly empty.
Input is cut to :data:`MAX_QUERY_CHARS` characters and :data:`MAX_TERMS` pieces; wildcard
characters are dropped except a trailing ``*`` after two or more letters (a bounded prefix
search); ``~N`` fuzziness marks are dropped (the engine applies its own, bounded, fuzziness).

Exclusion: ``-word`` or ``-"a phrase"`` excludes pages; a dash before one or two letters or
digits (``kill -9``, ``tail -f``, ``ls -la``) is a command-line flag and searched as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from search.analysis import normalize, runs
from search.text import CJK

MAX_QUERY_CHARS = 200
MAX_TERMS = 16
FILTER_NAMES = {"type": "type", "tag": "tags", "tags": "tags", "status": "status",
                "archived": "archived"}

_PIECE = re.compile(
    r'(?P<neg>(?<!\S)-)?"(?P<phrase>[^"]*)"'
    r"|(?P<fneg>(?<!\S)-)?(?P<fname>type|tags?|status|archived):(?P<fval>[^\s\"]+)"
    rf"|(?<!\S)-(?!-)(?P<excl>[^\s\"]{{3,}}|[{CJK}][^\s\"]*)"
)
_PREFIX = re.compile(r"(?<![\w*?])([a-z][a-z0-9]+)\*")
_JUNK = re.compile(r"[*?~^\\(){}\[\]<>|!]+|~\d*")


@dataclass
class ParsedQuery:
    """The parts of a query string, normalised (NFKC, lower case)."""

    raw: str
    text: str = ""
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)
    excluded_filters: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when nothing is left to search for."""
        return not (any(runs(self.text)) or self.phrases or self.prefixes)


def parse(raw: str) -> ParsedQuery:
    """Split ``raw`` into its parts (never raises)."""
    q = normalize((raw or "")[: MAX_QUERY_CHARS * 4])[:MAX_QUERY_CHARS]
    out = ParsedQuery(raw=raw or "")
    rest: list[str] = []
    pos = 0
    pieces = 0
    for m in _PIECE.finditer(q):
        rest.append(q[pos : m.start()])
        pos = m.end()
        pieces += 1
        if pieces > MAX_TERMS:
            continue
        if m.group("phrase") is not None:
            text = _JUNK.sub(" ", m.group("phrase")).strip()
            if text:
                (out.excluded if m.group("neg") else out.phrases).append(text)
        elif m.group("fname"):
            name = FILTER_NAMES[m.group("fname")]
            target = out.excluded_filters if m.group("fneg") else out.filters
            target.setdefault(name, []).append(m.group("fval"))
        else:
            text = _JUNK.sub(" ", m.group("excl")).strip()
            if text:
                out.excluded.append(text)
    rest.append(q[pos:])
    text = " ".join(rest).replace('"', " ")
    for m in _PREFIX.finditer(text):
        if len(out.prefixes) < 3:
            out.prefixes.append(m.group(1))
    text = _PREFIX.sub(" ", text)
    text = _JUNK.sub(" ", text)
    out.text = " ".join(text.split()[: MAX_TERMS * 2])
    return out
