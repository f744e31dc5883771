"""Hook: training — the 培训目录 on the training index page and 课程信息 on course pages.

Thin glue from MkDocs events to :mod:`kb.documents.training`.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb import buildstate
from kb.print.buttons import plan_targets
from kb.content.slots import slots
from kb.documents.training import course_block, replace_marker


class CoursePDFs(dict):
    """This build's course PDFs: course file (repository path) → PDF URL."""


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Take the catalog of this build (hooks/documents.py builds it before us) and the course
    PDFs it will have."""
    state = buildstate.of(config)
    catalog = state.catalog_for(files)  # read here when the documents hook is not listed
    state.part(CoursePDFs).update(
        (t.repo_path, t.output) for t in plan_targets(catalog, state.settings, state.audience)
        if t.kind == "course" and t.edition != "trainer")
    return files


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace ``<!-- kb:training-catalog -->`` with the 培训目录."""
    state = buildstate.of(config)
    return replace_marker(html, state.catalog, page.url, state.part(CoursePDFs))


def on_page_context(context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                    nav: Navigation) -> dict[str, Any]:
    """Show the 课程信息 block above a course page."""
    entry = buildstate.of(config).catalog.by_src_uri(page.file.src_uri)
    block = course_block(entry) if entry is not None and entry.type == "course" else None
    if block is not None:
        slots(page).top.append(block)
    return context
