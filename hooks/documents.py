"""Hook: controlled documents — catalog, validation, control block, registers, ``kb:`` meta tags.

Thin glue from MkDocs events to :mod:`kb.content.catalog`, :mod:`kb.documents.control` and :mod:`kb.documents.registers`.
Errors found in ``on_files`` (and any a later hook adds to ``kb.content.catalog.current().errors`` in its
own ``on_files``) are raised together in ``on_nav``, before any page is read or written.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb.content import catalog as kb_catalog
from kb.audience.filter import apply as apply_audience
from kb.clock import today
from kb.config import KBSettings, audience, kb_settings, preview
from kb.documents.control import meta_tags, page_top
from kb.errors import raise_collected
from kb.documents.registers import replace_markers
from kb.content.roots import ContentRoots

_settings: KBSettings | None = None
_roots: ContentRoots | None = None


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Read the settings once per build."""
    global _settings, _roots
    _settings = kb_settings(config)
    _roots = ContentRoots.from_config(config, _settings)
    return config


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Parse and validate every page once; leave drafts out unless ``KB_PREVIEW=1``, and pages
    above ``KB_AUDIENCE`` with the files only they use (:func:`kb.audience.filter.apply`)."""
    assert _settings is not None and _roots is not None
    catalog = kb_catalog.build_catalog(files, _settings, _roots)
    kb_catalog.set_current(catalog)
    catalog.leave_out(kb_catalog.draft_reason(preview()), files)
    apply_audience(catalog, files, config, _settings, _roots, audience())  # issue 9
    return files


@event_priority(100)  # first of all on_nav handlers: fail before anything else happens
def on_nav(nav: Navigation, *, config: MkDocsConfig, files: Files) -> Navigation:
    """Report every content error of the build together and stop it."""
    raise_collected(kb_catalog.current().errors)
    return nav


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Feed the validated tags to Material's tags plugin (it reads ``page.meta.tags`` later)."""
    entry = kb_catalog.current().by_src_uri(page.file.src_uri)
    if entry is not None:
        page.meta["tags"] = entry.tags
    return markdown


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace register markers with the 制度目录 / 手册目录 tables."""
    assert _settings is not None
    return replace_markers(html, kb_catalog.current(), page.url, today(),
                           _settings.review_warning_days)


def on_page_context(context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                    nav: Navigation) -> dict[str, Any]:
    """Add ``kb:`` meta tags to ``page.kb_head`` and control block + banners to ``page.kb_top``."""
    assert _settings is not None
    entry = kb_catalog.current().by_src_uri(page.file.src_uri)
    if entry is None:
        return context
    head = getattr(page, "kb_head", None) or []
    top = getattr(page, "kb_top", None) or []
    head += meta_tags(entry)
    top += page_top(entry, kb_catalog.current(), today(), _settings.review_warning_days)
    page.kb_head, page.kb_top = head, top  # type: ignore[attr-defined]
    return context
