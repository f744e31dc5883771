"""Hook: training — the 培训目录 on the training index page and 课程信息 on course pages.

Thin glue from MkDocs events to :mod:`kb.documents.training`.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb.content import catalog as kb_catalog
from kb.config import KBSettings, audience, kb_settings
from kb.print.buttons import plan_targets
from kb.content.roots import ContentRoots
from kb.documents.training import course_block, replace_marker

_settings: KBSettings | None = None
_catalog: kb_catalog.Catalog | None = None
_pdf_links: dict[str, str] = {}


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Read the settings once per build."""
    global _settings
    _settings = kb_settings(config)
    return config


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Take the catalog of this build (hooks/documents.py builds it before us)."""
    global _catalog, _pdf_links
    assert _settings is not None
    try:
        _catalog = kb_catalog.current()
    except RuntimeError:  # documents hook not configured: read the pages ourselves
        _catalog = kb_catalog.build_catalog(files, _settings,
                                            ContentRoots.from_config(config, _settings))
    _pdf_links = {t.repo_path: t.output for t in plan_targets(_catalog, _settings, audience())
                  if t.kind == "course"}
    return files


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace ``<!-- kb:training-catalog -->`` with the 培训目录."""
    assert _catalog is not None
    return replace_marker(html, _catalog, page.url, _pdf_links)


def on_page_context(context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                    nav: Navigation) -> dict[str, Any]:
    """Show the 课程信息 block above a course page."""
    assert _catalog is not None
    entry = _catalog.by_src_uri(page.file.src_uri)
    block = course_block(entry) if entry is not None and entry.type == "course" else None
    if block is not None:
        page.kb_top = [*(getattr(page, "kb_top", None) or []), block]  # type: ignore[attr-defined]
    return context
