"""Hook: analyse finished pages for the search index in a background process during the build
(:mod:`kb.search_prewarm`), so ``hooks/search_index.py`` mostly finds them in its cache.

Listed right BEFORE ``hooks/search_index.py``: it stops its process in ``on_post_build`` before
that hook indexes the site, and sees each page's final HTML in ``on_post_page``.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from kb.search_prewarm import Prewarmer, wanted

_prewarm: Prewarmer | None = None


def _stop() -> None:
    global _prewarm
    if _prewarm is not None:
        _prewarm.stop()
        _prewarm = None


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Start the background analysis when the site will be indexed and is big enough."""
    global _prewarm
    _stop()
    indexed = any(Path(str(h)).name == "search_index.py" for h in config.hooks)
    if indexed and wanted(len(files.documentation_pages())):
        _prewarm = Prewarmer()
    return files


def on_post_page(output: str, *, page: Page, config: MkDocsConfig) -> str:
    """Hand the page's final HTML to the background analysis."""
    if _prewarm is not None:
        _prewarm.submit(page.file.dest_uri, output)
    return output


def on_post_build(*, config: MkDocsConfig) -> None:
    """All pages are rendered: stop the background analysis before the index is built."""
    _stop()


def on_build_error(*, error: Exception) -> None:
    """Never leave the background process behind."""
    _stop()
