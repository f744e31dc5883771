"""Hook: place the fragments other hooks put in the page's top slot below the page title.

Runs after every hook that fills ``slots(page).top`` in ``on_page_context`` (priority -100).
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb.content.slots import place_top, slots


@event_priority(-100)  # last on_page_context: after every hook that fills the top slot
def on_page_context(context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                    nav: Navigation) -> dict[str, Any]:
    """Move the top slot into the page content, right below the ``<h1>``."""
    top = slots(page).top
    if top and page.content is not None:
        page.content = place_top(page.content, top)
        top.clear()
    return context
