"""Hook: printing — 下载 PDF / 打印 buttons on document pages, PDFs after the site is written.

Thin glue from MkDocs events to :mod:`kb.print.buttons` (PDFs only when ``extra.kb.pdf: true``).
"""

from __future__ import annotations

import os
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb.content import catalog as kb_catalog
from kb.config import audience, kb_settings
from kb.print.buttons import PrintBuild, remember
from kb.content.roots import ContentRoots

#: content types whose pages get the buttons
DOCUMENT_TYPES = ("policy", "manual", "chapter", "course")

_build: PrintBuild | None = None
_catalog: kb_catalog.Catalog | None = None


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Read the settings once per build."""
    global _build
    _build = PrintBuild(kb_settings(config), os.path.dirname(os.path.abspath(
        config.config_file_path)), audience())
    remember(_build)
    return config


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Decide this build's PDFs from the catalog (hooks/documents.py builds it before us)."""
    global _catalog
    assert _build is not None
    try:
        _catalog = kb_catalog.current()
    except RuntimeError:  # documents hook not configured: read the pages ourselves
        _catalog = kb_catalog.build_catalog(
            files, _build.settings, ContentRoots.from_config(config, _build.settings))
    _build.plan(_catalog)
    return files


def on_page_context(context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                    nav: Navigation) -> dict[str, Any]:
    """Add the 下载 PDF / 打印 buttons to ``page.kb_top``."""
    assert _build is not None and _catalog is not None
    entry = _catalog.by_src_uri(page.file.src_uri)
    if entry is None:
        return context
    actions = _build.page_actions(entry.repo_path, page.file.dest_uri,
                                  entry.type in DOCUMENT_TYPES)
    if actions is not None:
        page.kb_top = [*(getattr(page, "kb_top", None) or []), actions]  # type: ignore[attr-defined]
    return context


def on_post_build(*, config: MkDocsConfig) -> None:
    """Render the PDFs from the written site (cached ones are copied)."""
    assert _build is not None
    _build.render(config.site_dir, config.site_url, config.site_author or config.site_name)
