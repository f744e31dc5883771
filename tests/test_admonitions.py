"""Admonitions and collapsible blocks without a title get the Chinese name of their type."""

from __future__ import annotations

import markdown

EXTENSIONS = ["admonition", "pymdownx.details", "kb.content.admonitions"]


def render(text: str) -> str:
    return markdown.markdown(text, extensions=EXTENSIONS)


def test_untitled_boxes_get_chinese_titles() -> None:
    """``!!! note`` shows 注意, ``??? tip`` 提示, ``!!! warning`` 警告."""
    html = render("!!! note\n    正文。\n\n??? tip\n    细节。\n\n!!! warning\n    小心。\n")
    assert '<p class="admonition-title">注意</p>' in html
    assert "<summary>提示</summary>" in html
    assert '<p class="admonition-title">警告</p>' in html
    assert "Note" not in html and "Tip" not in html


def test_titles_written_by_the_writer_are_kept() -> None:
    """A given title, even one equal to another type's name, is not replaced."""
    html = render('!!! note "停电安排"\n    正文。\n\n!!! danger "Warning"\n    正文。\n')
    assert '<p class="admonition-title">停电安排</p>' in html
    assert '<p class="admonition-title">Warning</p>' in html
