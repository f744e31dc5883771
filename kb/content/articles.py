"""Permalinks for articles of a policy (``**第五条** …``): each gets an anchor to link to.

A Python-Markdown extension, listed in mkdocs.yml as ``kb.content.articles``. A paragraph (or list
item) that starts with a bold ``第N条`` (Chinese numerals, optionally ``之一``) gets
``id="第N条"`` and, like headings, a ``¶`` link to itself (``headerlink``: Material shows it on
hover and focus), so staff can copy a link to 第五条 and send it. An id already used in the page
(an article number written twice) gets a suffix ``_2``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor

ARTICLE = re.compile(r"^第[一二三四五六七八九十百零〇两\d]+条(?:之[一二三四五六七八九十]+)?$")


class _Articles(Treeprocessor):
    def run(self, root: ET.Element) -> None:
        used = {el.get("id") for el in root.iter() if el.get("id")}
        for block in root.iter():
            if block.tag not in ("p", "li") or block.get("id") or (block.text or "").strip():
                continue
            first = block[0] if len(block) else None
            if first is None or first.tag != "strong" or len(first):
                continue
            label = (first.text or "").strip()
            if not ARTICLE.match(label):
                continue
            anchor, n = label, 1
            while anchor in used:
                n += 1
                anchor = f"{label}_{n}"
            used.add(anchor)
            block.set("id", anchor)
            block.set("class", (block.get("class", "") + " kb-article").strip())
            link = ET.Element("a", {"class": "headerlink", "href": f"#{anchor}",
                                    "title": f"{label}的链接"})
            link.text = "¶"
            link.tail = first.tail
            first.tail = None
            block.insert(1, link)


class ArticleAnchors(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Markdown's API)
        # after inline parsing (20), before MkDocs collects the anchors it validates links against (5)
        md.treeprocessors.register(_Articles(md), "kb_article_anchors", 8)


def makeExtension(**kwargs: object) -> ArticleAnchors:  # noqa: N802 (Markdown's API)
    return ArticleAnchors(**kwargs)
