"""Readable text of a Markdown body, as the reader sees the page: what comparisons compare.

A comparison of two versions shows what changed for a reader, so it compares rendered text, not
Markdown source: ``**第五条**`` reads 第五条, a table reads as its rows (cells joined by ｜), an
image as ［图：its alt text］, a link as its words, a list item with its bullet or number, an
admonition as 【its title】 and its text. The body is rendered with the site's own Markdown
extensions; headings keep a ``#`` mark so :func:`kb.versions.textdiff.compare` can split sections.

One block is one line (a table row, a list item, a paragraph; code keeps its lines), blocks are
separated by blank lines, so unchanged blocks align and a changed one is compared by character.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import markdown
from lxml import html as lxml_html

_BLOCKS = {"p", "pre", "table", "ul", "ol", "dl", "blockquote", "hr", "div", "details",
           "h1", "h2", "h3", "h4", "h5", "h6", "figure"}
_SPACE = re.compile(r"[ \t\r\n]+")


class Renderer:
    """Markdown → readable text with the given extensions (the site's ``markdown_extensions``)."""

    def __init__(self, extensions: list[Any] | None = None,
                 configs: Mapping[str, Any] | None = None) -> None:
        self._md = markdown.Markdown(extensions=list(extensions or ["tables"]),
                                     extension_configs=dict(configs or {}))

    def text(self, body: str) -> str:
        self._md.reset()
        try:
            rendered = self._md.convert(body)
        except Exception:  # noqa: BLE001 - an old version that no longer renders: compare source
            return body
        return html_text(rendered)


def html_text(fragment: str) -> str:
    """Readable text of an HTML fragment (see the module docstring)."""
    if not fragment.strip():
        return ""
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    lines: list[str] = []
    _blocks(root, lines, depth=0)
    out: list[str] = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    return "\n".join(out).strip("\n") + "\n"


def _inline(el: Any) -> str:
    """Text of an inline run: emphasis dropped, images as ［图：alt］, permalinks left out."""
    parts: list[str] = [el.text or ""] if isinstance(el.tag, str) else []
    for child in el:
        if not isinstance(child.tag, str):  # comment, processing instruction
            parts.append(child.tail or "")
            continue
        classes = (child.get("class") or "").split()
        if "headerlink" in classes or child.tag in ("script", "style"):
            pass
        elif child.tag == "img":
            alt = (child.get("alt") or "").strip()
            parts.append(f"［图：{alt}］" if alt else "［图］")
        elif child.tag == "br":
            parts.append("\n")
        elif child.tag == "svg":
            title = child.find(".//title")
            parts.append(title.text_content().strip() if title is not None else "")
        else:
            parts.append(_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _clean(text: str) -> str:
    lines = [_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    return " ".join(line for line in lines if line)


def _has_blocks(el: Any) -> bool:
    return any(isinstance(c.tag, str) and c.tag in _BLOCKS | {"li"} for c in el)


def _blocks(el: Any, lines: list[str], depth: int, prefix: str = "") -> None:
    """Append the lines of ``el``'s children to ``lines``."""
    loose = _clean(el.text or "")
    if loose:
        lines += [prefix + loose, ""]
    for child in el:
        if isinstance(child.tag, str):
            _block(child, lines, depth, prefix)
        tail = _clean(child.tail or "")
        if tail:
            lines += [prefix + tail, ""]


def _block(el: Any, lines: list[str], depth: int, prefix: str) -> None:
    tag = el.tag
    classes = (el.get("class") or "").split()
    if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        lines += ["#" * int(tag[1]) + " " + _clean(_inline(el)), ""]
    elif tag == "p":
        text = _clean(_inline(el))
        if text:
            lines += [prefix + text, ""]
    elif tag == "pre":
        # code is indented, so a comment line (``# …``) is never taken for a heading
        lines += [prefix + "    " + line for line in el.text_content().rstrip("\n").split("\n")]
        lines.append("")
    elif tag == "table":
        for row in el.iter("tr"):
            cells = [_clean(_inline(c)) for c in row if isinstance(c.tag, str) and c.tag in ("th", "td")]
            lines.append(prefix + " ｜ ".join(cells))
        lines.append("")
    elif tag in ("ul", "ol"):
        number = int(el.get("start") or 1)
        for li in el:
            if not isinstance(li.tag, str) or li.tag != "li":
                continue
            mark = f"{number}. " if tag == "ol" else "• "
            number += 1
            if _has_blocks(li):
                head = _clean(li.text or "")
                first = len(lines)
                if head:
                    lines.append(prefix + "  " * depth + mark + head)
                for child in li:
                    if not isinstance(child.tag, str):
                        continue
                    if child.tag in ("ul", "ol"):
                        _block(child, lines, depth + 1, prefix)
                    elif child.tag == "p" and len(lines) == first:
                        lines.append(prefix + "  " * depth + mark + _clean(_inline(child)))
                    elif child.tag in _BLOCKS:
                        _block(child, lines, depth + 1, prefix)
                    else:
                        text = _clean(_inline(child))
                        if text:
                            lines.append(prefix + "  " * depth + mark + text)
                    tail = _clean(child.tail or "")
                    if tail:
                        lines.append(prefix + "  " * (depth + 1) + tail)
            else:
                lines.append(prefix + "  " * depth + mark + _clean(_inline(li)))
        lines.append("")
    elif tag == "dl":
        for child in el:
            if isinstance(child.tag, str):
                text = _clean(_inline(child))
                lines.append(prefix + ("  " if child.tag == "dd" else "") + text)
        lines.append("")
    elif tag == "hr":
        lines += [prefix + "——", ""]
    elif tag in ("div", "details", "blockquote", "figure", "section") and (
            "admonition" in classes or tag == "details"):
        title_el = next((c for c in el if isinstance(c.tag, str) and (
            "admonition-title" in (c.get("class") or "") or c.tag == "summary")), None)
        title = _clean(_inline(title_el)) if title_el is not None else ""
        lines += [prefix + f"【{title}】" if title else prefix + "【提示】"]
        for child in el:
            if child is title_el or not isinstance(child.tag, str):
                continue
            _block(child, lines, depth, prefix)
        lines.append("")
    elif tag == "blockquote":
        _blocks(el, lines, depth, prefix + "｜ ")
    elif tag in _BLOCKS or tag == "section":
        if _has_blocks(el):
            _blocks(el, lines, depth, prefix)
        else:
            text = _clean(_inline(el))
            if text:
                lines += [prefix + text, ""]
    else:  # an inline element at block level (md_in_html, raw HTML)
        text = _clean(_inline(el))
        if text:
            lines += [prefix + text, ""]
