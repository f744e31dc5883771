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

from kb import buildstate
from kb.print.buttons import PrintBuild
from kb.content.slots import slots

#: content types whose pages get the buttons
DOCUMENT_TYPES = ("policy", "manual", "chapter", "course")


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """This build's PDFs (``kb pdf`` reads them from the build state afterwards)."""
    state = buildstate.of(config)
    state.print = PrintBuild(state.settings, os.path.dirname(os.path.abspath(
        config.config_file_path)), state.audience)
    return config


def _build(config: MkDocsConfig) -> PrintBuild:
    build = buildstate.of(config).print
    assert build is not None, "hooks/print.py: on_config did not run"
    return build


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Decide this build's PDFs from the catalog (hooks/documents.py builds it before us)."""
    _build(config).plan(buildstate.of(config).catalog_for(files))
    return files


def on_page_context(context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                    nav: Navigation) -> dict[str, Any]:
    """Add the 下载 PDF / 打印 buttons to the page's top slot."""
    entry = buildstate.of(config).catalog.by_src_uri(page.file.src_uri)
    if entry is None:
        return context
    actions = _build(config).page_actions(entry.repo_path, page.file.dest_uri,
                                          entry.type in DOCUMENT_TYPES)
    if actions is not None:
        slots(page).top.append(actions)
    return context


def on_post_build(*, config: MkDocsConfig) -> None:
    """Render the PDFs from the written site (cached ones are copied)."""
    _build(config).render(config.site_dir, config.site_url, config.site_author or config.site_name)
