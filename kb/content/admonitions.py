"""Chinese default titles for admonitions (``!!! note`` without a title shows 注意, not "Note").

A Python-Markdown extension, listed in mkdocs.yml as ``kb.content.admonitions``. An admonition or a
collapsible block (``??? tip``) written without its own title gets the Chinese name of its type;
a title the writer gave is kept. PDFs are made from the built pages, so they show the same titles.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor

#: Material's admonition types and their Chinese titles
ADMONITION_TITLES: dict[str, str] = {
    "note": "注意", "abstract": "摘要", "summary": "摘要", "tldr": "摘要", "info": "说明",
    "todo": "待办", "tip": "提示", "hint": "提示", "important": "重要", "success": "成功",
    "check": "成功", "done": "完成", "question": "问题", "help": "帮助", "faq": "常见问题",
    "warning": "警告", "caution": "小心", "attention": "注意", "failure": "失败", "fail": "失败",
    "missing": "缺失", "danger": "危险", "error": "错误", "bug": "缺陷", "example": "示例",
    "quote": "引用", "cite": "引用", "trainer": "讲师备注",
}


def chinese_title(classes: str, title: str) -> str | None:
    """The Chinese title for a box of ``classes`` whose title is ``title``, if it is the default."""
    kinds = [c for c in classes.split() if c in ADMONITION_TITLES]
    if kinds and title.strip().lower() == kinds[0]:
        return ADMONITION_TITLES[kinds[0]]
    return None


class _Titles(Treeprocessor):
    def run(self, root: ET.Element) -> None:
        for box in root.iter():
            if box.tag == "div" and "admonition" in box.get("class", "").split():
                title = next((c for c in box if c.tag == "p"
                              and "admonition-title" in c.get("class", "").split()), None)
            elif box.tag == "details":
                title = next((c for c in box if c.tag == "summary"), None)
            else:
                continue
            if title is None or len(title):  # no title, or a title with markup: the writer's
                continue
            new = chinese_title(box.get("class", ""), title.text or "")
            if new:
                title.text = new


class AdmonitionTitles(Extension):
    """Registers the tree processor (after the admonition and details block processors)."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.treeprocessors.register(_Titles(md), "kb_admonition_titles", 4)


def makeExtension(**kwargs: object) -> AdmonitionTitles:  # noqa: N802 (Markdown's API)
    return AdmonitionTitles(**kwargs)
