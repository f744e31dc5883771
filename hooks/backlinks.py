"""Hook: 引用本文的页面 below each page that other pages link to (:mod:`kb.content.backlinks`).
The links of this build live on its build state (a fresh map per build)."""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb import buildstate
from kb.content.backlinks import Backlinks


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    buildstate.of(config).part(Backlinks).record(html, page)
    return html


def on_page_context(context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                    nav: Navigation) -> dict[str, Any]:
    if page.content is not None:
        page.content = buildstate.of(config).part(Backlinks).place(page.content, page)
    return context
