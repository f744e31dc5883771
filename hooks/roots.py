"""Hook: content roots outside docs/ (policies/, manuals/) and repository-form links.

Thin glue from MkDocs events to :mod:`kb.content.roots`.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from kb.config import kb_settings
from kb.content.roots import ContentRoots, LinkState, RepoLinkExtension

_state = LinkState()


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Register the link rewriter once; remember where the roots are."""
    _state.roots = ContentRoots.from_config(config, kb_settings(config))
    if not any(isinstance(ext, RepoLinkExtension) for ext in config.markdown_extensions):
        config.markdown_extensions.append(RepoLinkExtension(_state))  # type: ignore[arg-type]
    return config


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Add every file of every content root to the site."""
    assert _state.roots is not None
    _state.files = _state.roots.add_to(files, config)
    return _state.files


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Tell the link rewriter which page is being rendered."""
    _state.page, _state.files = page.file, files
    return markdown


def on_serve(server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
    """``mkdocs serve`` reloads on edits in every content root too."""
    assert _state.roots is not None
    for root in _state.roots.roots:
        server.watch(f"{_state.roots.project_dir}/{root}")
    return server
