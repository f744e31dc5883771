"""Hook: place the fragments other hooks put in ``page.kb_top`` below the page title.

Listed after every hook that fills ``page.kb_top`` in ``on_page_context``.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb.content.slots import place_top


def on_page_context(context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                    nav: Navigation) -> dict[str, Any]:
    """Move ``page.kb_top`` into the page content, right below the ``<h1>``."""
    fragments = getattr(page, "kb_top", None) or []
    if fragments and page.content is not None:
        page.content = place_top(page.content, fragments)
        page.kb_top = []  # type: ignore[attr-defined]
    return context
