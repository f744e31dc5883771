"""Hook: controlled documents — catalog, validation, control block, registers, ``kb:`` meta tags.

Thin glue from MkDocs events to :mod:`kb.content.catalog`, :mod:`kb.documents.control` and :mod:`kb.documents.registers`.
Errors found in ``on_files`` (and any a later hook adds to the build's ``catalog.errors`` in its
own ``on_files``) are raised together in ``on_nav``, before any page is read or written.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb import buildstate
from kb.content import catalog as kb_catalog
from kb.audience.filter import AudienceState
from kb.audience.filter import apply as apply_audience
from kb.clock import today
from kb.config import preview
from kb.documents.control import meta_tags, page_top
from kb.errors import raise_collected
from kb.documents.registers import replace_markers
from kb.content.slots import slots


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Parse and validate every page once; leave drafts out unless ``KB_PREVIEW=1``, and pages
    above ``KB_AUDIENCE`` with the files only they use (:func:`kb.audience.filter.apply`)."""
    state = buildstate.of(config)
    catalog = kb_catalog.build_catalog(files, state.settings, state.roots)
    state.catalog = catalog
    catalog.leave_out(kb_catalog.draft_reason(preview()), files)
    apply_audience(catalog, files, config, state.settings, state.roots, state.audience,
                   state.part(AudienceState))  # issue 9
    return files


@event_priority(100)  # first of all on_nav handlers: fail before anything else happens
def on_nav(nav: Navigation, *, config: MkDocsConfig, files: Files) -> Navigation:
    """Report every content error of the build together and stop it."""
    raise_collected(buildstate.of(config).catalog.errors)
    return nav


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Feed the validated tags to Material's tags plugin (it reads ``page.meta.tags`` later)."""
    entry = buildstate.of(config).catalog.by_src_uri(page.file.src_uri)
    if entry is not None:
        page.meta["tags"] = entry.tags
    return markdown


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace register markers with the 制度目录 / 手册目录 tables."""
    state = buildstate.of(config)
    return replace_markers(html, state.catalog, page.url, today(),
                           state.settings.review_warning_days)


def on_page_context(context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                    nav: Navigation) -> dict[str, Any]:
    """Add ``kb:`` meta tags to the page's head slot, control block + banners to its top."""
    state = buildstate.of(config)
    entry = state.catalog.by_src_uri(page.file.src_uri)
    if entry is None:
        return context
    page_slots = slots(page)
    page_slots.head += meta_tags(entry, today())
    page_slots.top += page_top(entry, state.catalog, today(), state.settings.review_warning_days)
    return context
