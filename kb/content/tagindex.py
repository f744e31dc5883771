"""The tags page (标签索引) as staff read Chinese: tags sorted by pinyin, grouped by initial
letter with a jump bar, each tag with the number of its pages.

Material's tags plugin renders the listing (one ``<h2 id="tag:…">`` and its ``<ul>`` per tag,
in code-point order: 一 list thousands of pixels long); :func:`group_by_initial` rearranges that
HTML. Each tag keeps its ``id``, so the tag links on pages (``tags/#tag:vpn``) still land on it.
"""

from __future__ import annotations

import re
from html import escape

import lxml.html
from pypinyin import Style, lazy_pinyin

_LETTER = re.compile(r"[A-Za-z]")


def sort_key(name: str) -> tuple[str, str]:
    """Pinyin of ``name`` (Latin letters as they are, lower case), then the name itself."""
    return ("".join(lazy_pinyin(name, style=Style.NORMAL, errors="default")).lower(), name)


def initial(name: str) -> str:
    """A–Z of the tag's pinyin or Latin first letter; ``#`` for digits and other signs."""
    first = sort_key(name)[0][:1]
    return first.upper() if _LETTER.match(first) else "#"


def group_by_initial(content: str) -> str:
    """``content`` with the tag listing regrouped; unchanged when it has no listing."""
    if 'id="tag:' not in content:
        return content
    root = lxml.html.fragment_fromstring(content, create_parent="div")
    heads = [h for h in root.iter("h2") if (h.get("id") or "").startswith("tag:")]
    if not heads:
        return content
    parent = heads[0].getparent()
    index = parent.index(heads[0])
    tags: list[tuple[str, lxml.html.HtmlElement, lxml.html.HtmlElement | None]] = []
    for head in heads:
        listing = head.getnext()
        if listing is not None and listing.tag != "ul":
            listing = None
        label = head.find(".//span")
        name = (label.text_content() if label is not None else head.text_content()).strip()
        tags.append((name, head, listing))
        head.getparent().remove(head)
        if listing is not None:
            listing.getparent().remove(listing)
    groups: dict[str, list[tuple[str, lxml.html.HtmlElement, lxml.html.HtmlElement | None]]] = {}
    for item in sorted(tags, key=lambda t: sort_key(t[0])):
        groups.setdefault(initial(item[0]), []).append(item)
    order = sorted(groups, key=lambda g: (g == "#", g))
    jump = "".join(f'<li><a href="#kb-tags-{g if g != "#" else "other"}">{escape(g)}</a></li>'
                   for g in order)
    parts = [f'<nav class="kb-tag-initials" aria-label="按首字母跳转"><ol>{jump}</ol></nav>']
    for g in order:
        gid = g if g != "#" else "other"
        label = g if g != "#" else "数字与符号"
        parts.append(f'<section class="kb-tag-group"><h2 id="kb-tags-{gid}">{escape(label)}</h2>'
                     '<div class="kb-tag-grid">')
        for name, head, listing in groups[g]:
            count = len(listing.findall("li")) if listing is not None else 0
            head.tag = "h3"
            head.set("class", "kb-tag__name")
            head.append(lxml.html.fragment_fromstring(
                f'<span class="kb-tag__count">{count} 篇</span>'))
            html = lxml.html.tostring(head, encoding="unicode", with_tail=False)
            if listing is not None:
                html += lxml.html.tostring(listing, encoding="unicode", with_tail=False)
            parts.append(f'<section class="kb-tag">{html}</section>')
        parts.append("</div></section>")
    block = lxml.html.fragment_fromstring("<div>" + "".join(parts) + "</div>")
    for offset, child in enumerate(list(block)):
        parent.insert(index + offset, child)
    return (root.text or "") + "".join(lxml.html.tostring(c, encoding="unicode")
                                       for c in root.iterchildren())
