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
from kb import buildstate
from kb.audience.filter import AudienceState
from kb.content.slots import slots


def _state(config: MkDocsConfig) -> AudienceState:
    return buildstate.of(config).part(AudienceState)


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Register the restricted-link rewriter of this build's audience state."""
    build = buildstate.of(config)
    state = _state(config)
    state.reset(build.audience, build.roots)
    if not any(isinstance(e, kb_audience.RestrictedLinkExtension)
               for e in config.markdown_extensions):
        config.markdown_extensions.append(  # type: ignore[arg-type]
            kb_audience.RestrictedLinkExtension(state))
    return config


def on_pre_build(*, config: MkDocsConfig) -> None:
    """Drop a search index the site folder kept from a build for another audience."""
    kb_audience.clear_other_audience(config.site_dir, buildstate.of(config).audience)


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Tell the restricted-link rewriter which page is being rendered."""
    _state(config).page = page.file
    return markdown


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Restrict links to left-out pages written as raw HTML (Markdown links are done already)."""
    return kb_audience.restrict_html(html, page.file, _state(config))


def on_page_context(context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                    nav: Navigation) -> dict[str, Any]:
    """Level badge above pages that have no document-control block (it shows the level)."""
    build = buildstate.of(config)
    catalog = build.catalog
    entry = catalog.by_src_uri(page.file.src_uri)
    if entry is not None and entry.controlled is not None:
        return context
    level = kb_audience.page_level(page.file.src_uri, page.file.url,
                                   build.roots.repo_path(page.file), catalog, build.settings,
                                   page.meta.get("confidentiality"))
    slots(page).top.insert(0, kb_audience.level_banner(level))
    return context


def on_post_build(*, config: MkDocsConfig) -> None:
    """List the restricted links (INFO) and write the report outside the site."""
    build = buildstate.of(config)
    kb_audience.write_report(kb_audience.report_path(config, build.settings, build.audience),
                             config.site_dir, _state(config))
    kb_audience.mark_site(config.site_dir, build.audience)
