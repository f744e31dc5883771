"""Hook: notices (通知公告) — lifecycle, home list, archive pages, feeds.

Thin glue from MkDocs events to :class:`kb.notices.build.NoticeBuild`.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from kb.notices.generated import set_serving_dirty
from kb import buildstate
from kb.notices.build import NoticeBuild

def _build(config: MkDocsConfig) -> NoticeBuild:
    return buildstate.of(config).part(NoticeBuild)


def on_startup(*, command: str, dirty: bool) -> None:
    """Under ``mkdocs serve --dirty``, unchanged archive pages are not rendered again."""
    set_serving_dirty(command, dirty)


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Validate notices, drop unpublished ones, add generated notices and archive pages."""
    return _build(config).on_files(files, config)


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fill the home page and archive markers."""
    return _build(config).on_page_markdown(markdown, page, config)


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Remember notice texts for the feeds."""
    return _build(config).on_page_content(html, page)


def on_page_context(context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                    nav: Any) -> dict[str, Any]:
    """Expiry/preview banners on notice pages, feed links in <head>."""
    return _build(config).on_page_context(context, page, config)


def on_post_build(*, config: MkDocsConfig) -> None:
    """Write the RSS 2.0 and Atom feeds."""
    _build(config).on_post_build(config)
