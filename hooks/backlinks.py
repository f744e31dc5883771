"""Hook: 引用本文的页面 below each page that other pages link to (:mod:`kb.backlinks`)."""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb.backlinks import Backlinks

_links = Backlinks()


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    global _links
    _links = Backlinks()  # a fresh map per build (mkdocs serve rebuilds in one process)
    return config


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    _links.record(html, page)
    return html


def on_page_context(context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                    nav: Navigation) -> dict[str, Any]:
    if page.content is not None:
        page.content = _links.place(page.content, page)
    return context
