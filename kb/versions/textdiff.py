"""Readable comparisons of two versions of a Markdown document, as HTML.

Lines are aligned first (``difflib`` over lines); a changed run of lines is then compared token
by token: a token is one Chinese character, one English word or number, one run of spaces, or
one other character, so English changes are marked by word and Chinese changes by character.
Short unchanged islands (one or two characters or a single space) between two changes are
folded into the change, so a rewritten Chinese phrase reads as one deletion and one insertion
instead of a confetti of single characters. Inserted text is ``<ins>``, deleted text ``<del>``.

The result is grouped by sections (a Markdown heading starts one); unchanged sections are
collapsed into ``<details>``, so a reader sees the changes first. Text is shown as its Markdown
source (escaped), which is what writers edit and auditors compare.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from html import escape

from search.text import CJK

_TOKEN = re.compile(
    r"[A-Za-z0-9_]+(?:[.'’-][A-Za-z0-9_]+)*"  # an English word or number (3.14, don't, e-mail)
    r"|[ \t]+"  # a run of spaces
    r"|\n"
    rf"|[{CJK}]"  # one CJK character
    r"|.",  # anything else, one character at a time
    re.S,
)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
#: unchanged runs at most this long between two changes are folded into the change
_ISLAND = 2


def tokens(text: str) -> list[str]:
    """Split ``text`` into diff tokens (see the module docstring)."""
    return _TOKEN.findall(text)


def _folded(old: list[str], new: list[str]) -> list[tuple[str, str, str]]:
    """Token-level opcodes as ``(tag, old_text, new_text)`` with short equal islands folded."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    ops: list[tuple[str, str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        ops.append((tag, "".join(old[i1:i2]), "".join(new[j1:j2])))
    out: list[tuple[str, str, str]] = []
    for index, (tag, a, b) in enumerate(ops):
        island = (tag == "equal" and 0 < index < len(ops) - 1 and "\n" not in a
                  and (len(a) <= _ISLAND and not a.isascii() or a.strip() == ""))
        if island:
            tag = "replace"
        if out and tag != "equal" and out[-1][0] != "equal":
            _, pa, pb = out[-1]
            out[-1] = ("replace", pa + a, pb + b)
        else:
            out.append((tag, a, b))
    return out


def inline_diff(old: str, new: str) -> str:
    """HTML of ``new`` with deletions from ``old`` as ``<del>`` and insertions as ``<ins>``."""
    parts: list[str] = []
    for tag, a, b in _folded(tokens(old), tokens(new)):
        if tag == "equal":
            parts.append(escape(a))
            continue
        if a:
            parts.append(f"<del>{escape(a)}</del>")
        if b:
            parts.append(f"<ins>{escape(b)}</ins>")
    return "".join(parts)


@dataclass
class Section:
    """A part of the compared document that starts at a heading (or the document's start)."""

    title: str
    html: list[str] = field(default_factory=list)
    changed: bool = False


def _heading(line: str) -> str | None:
    match = _HEADING.match(line)
    return match.group(2) if match else None


def compare(old: str, new: str, *, start_title: str = "（开头）") -> list[Section]:
    """Compare two Markdown texts; return sections with their HTML and whether they changed."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    sections = [Section(start_title)]

    def add(html: str, changed: bool, title: str | None = None) -> None:
        if title is not None and (sections[-1].html or sections[-1].changed):
            sections.append(Section(title))
        elif title is not None:
            sections[-1].title = title
        sections[-1].html.append(html)
        sections[-1].changed |= changed

    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for line in new_lines[j1:j2]:
                add(escape(line), False, _heading(line))
            continue
        if tag == "delete":
            for line in old_lines[i1:i2]:
                add(f"<del>{escape(line)}</del>" if line else "", True)
            continue
        if tag == "insert":
            for line in new_lines[j1:j2]:
                add(f"<ins>{escape(line)}</ins>" if line else "", True, _heading(line))
            continue
        # replace: one inline comparison; it opens a section when the new run starts at a heading
        html = inline_diff("\n".join(old_lines[i1:i2]), "\n".join(new_lines[j1:j2]))
        add(html, True, _heading(new_lines[j1]))
    return [s for s in sections if s.html]


def render(sections: list[Section], *, unchanged_label: str = "未修改") -> str:
    """HTML of compared sections: changed ones open, unchanged ones collapsed."""
    out: list[str] = []
    for section in sections:
        body = "\n".join(section.html)
        title = escape(section.title)
        if section.changed:
            out.append(f'<section class="kb-diff-section kb-diff-changed">'
                       f'<h3 class="kb-diff-title">{title}</h3>'
                       f'<div class="kb-diff-text">{body}</div></section>')
        else:
            out.append(f'<details class="kb-diff-section kb-diff-same">'
                       f'<summary>{title} · {unchanged_label}</summary>'
                       f'<div class="kb-diff-text">{body}</div></details>')
    return "\n".join(out)


def meta_changes(old: dict, new: dict, labels: dict[str, str],
                 skip: frozenset[str] = frozenset({"history"}),
                 value_labels: dict[str, dict[str, str]] | None = None,
                 ) -> list[tuple[str, str, str]]:
    """Front-matter fields whose value differs: ``(label, old, new)``, in the new file's order;
    values of keys in ``value_labels`` (status, confidentiality) shown by their Chinese label."""
    rows = []
    names = value_labels or {}
    for key in [*new, *(k for k in old if k not in new)]:
        if key in skip or old.get(key) == new.get(key):
            continue
        label = labels.get(key, key)
        show = names.get(key, {})
        rows.append((label, _show(show.get(str(old.get(key)), old.get(key))),
                     _show(show.get(str(new.get(key)), new.get(key)))))
    return rows


def _show(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)
