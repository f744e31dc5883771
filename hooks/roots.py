"""Hook: content roots outside docs/ (policies/, manuals/) and repository-form links.

Thin glue from MkDocs events to :mod:`kb.content.roots`.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from mkdocs.plugins import event_priority

from kb import buildstate
from kb.content.roots import LinkState, RepoLinkExtension


@event_priority(100)  # first on_config of all: starts this build's state (kb/buildstate.py)
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Start this build's state; register the link rewriter of its link state."""
    build = buildstate.start(config)
    state = build.part(LinkState)
    state.roots = build.roots
    if not any(isinstance(ext, RepoLinkExtension) for ext in config.markdown_extensions):
        config.markdown_extensions.append(RepoLinkExtension(state))  # type: ignore[arg-type]
    return config


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Add every file of every content root to the site."""
    state = buildstate.of(config).part(LinkState)
    state.files = buildstate.of(config).roots.add_to(files, config)
    return state.files


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Tell the link rewriter which page is being rendered."""
    state = buildstate.of(config).part(LinkState)
    state.page, state.files = page.file, files
    return markdown


def on_serve(server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
    """``mkdocs serve`` reloads on edits in every content root too."""
    roots = buildstate.of(config).roots
    for root in roots.roots:
        server.watch(f"{roots.project_dir}/{root}")
    return server
