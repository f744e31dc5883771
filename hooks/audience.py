"""Hook: audience-filtered builds — restricted links, level badges, the build's report.

Thin glue to :mod:`kb.audience.filter`. The filtering itself (pages above ``KB_AUDIENCE`` and the files
only they use) runs in ``hooks/documents.py`` ``on_files`` right after the catalog is built, so no
other hook sees those files. Listed after ``hooks/roots.py`` (its link rewriter runs first).
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb.audience import filter as kb_audience
from kb.content import catalog as kb_catalog
from kb.config import KBSettings, audience, kb_settings
from kb.content.roots import ContentRoots

_settings: KBSettings | None = None


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Register the restricted-link rewriter once; start this build's state."""
    global _settings
    _settings = kb_settings(config)
    state = kb_audience.state()
    state.reset(audience(), ContentRoots.from_config(config, _settings))
    if not any(isinstance(e, kb_audience.RestrictedLinkExtension)
               for e in config.markdown_extensions):
        config.markdown_extensions.append(  # type: ignore[arg-type]
            kb_audience.RestrictedLinkExtension(state))
    return config


def on_pre_build(*, config: MkDocsConfig) -> None:
    """Drop a search index the site folder kept from a build for another audience."""
    kb_audience.clear_other_audience(config.site_dir, audience())


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Tell the restricted-link rewriter which page is being rendered."""
    kb_audience.state().page = page.file
    return markdown


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Restrict links to left-out pages written as raw HTML (Markdown links are done already)."""
    return kb_audience.restrict_html(html, page.file)


def on_page_context(context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                    nav: Navigation) -> dict[str, Any]:
    """Level badge above pages that have no document-control block (it shows the level)."""
    assert _settings is not None
    catalog = kb_catalog.current()
    entry = catalog.by_src_uri(page.file.src_uri)
    if entry is not None and entry.controlled is not None:
        return context
    state = kb_audience.state()
    repo_path = state.roots.repo_path(page.file) if state.roots else page.file.src_uri
    level = kb_audience.page_level(page.file.src_uri, page.file.url, repo_path, catalog,
                                   _settings, page.meta.get("confidentiality"))
    top = getattr(page, "kb_top", None) or []
    top.insert(0, kb_audience.level_banner(level))
    page.kb_top = top  # type: ignore[attr-defined]
    return context


def on_post_build(*, config: MkDocsConfig) -> None:
    """List the restricted links (INFO) and write the report outside the site."""
    assert _settings is not None
    kb_audience.write_report(kb_audience.report_path(config, _settings, audience()),
                             config.site_dir)
    kb_audience.mark_site(config.site_dir, audience())
