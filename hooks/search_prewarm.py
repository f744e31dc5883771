"""Hook: analyse finished pages for the search index in a background process during the build,
and on a first build write the index there too (:mod:`kb.search_prewarm`), so
``hooks/search_index.py`` mostly finds the work done.

Listed right BEFORE ``hooks/search_index.py``: its ``on_post_build`` waits for the background
process (a stage is completed, otherwise it is just stopped) before that hook indexes the site,
and it sees each page's final HTML in ``on_post_page``.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from kb import search_prewarm
from kb.search_prewarm import Prewarmer, pages_to_render, segment_size, wanted

_prewarm: Prewarmer | None = None
#: the stopped processes of the last build, still writing the analysis cache
_closing: Prewarmer | None = None
#: drain time allowed to the background writer after the last page (then it is stopped)
DRAIN_SECONDS = 600.0


def _stop() -> None:
    global _prewarm, _closing
    if _prewarm is not None:
        _prewarm.stop(DRAIN_SECONDS, drain=_prewarm.stage is not None)
        _closing, _prewarm = _prewarm, None


def _close() -> None:
    global _closing
    if _closing is not None:
        _closing.close()
        _closing = None


def on_startup(*, command: str, dirty: bool) -> None:
    """Remember ``--dirty`` (kept in :mod:`kb.search_prewarm`: ``mkdocs serve`` reloads this
    module with the configuration on every rebuild, but calls this once)."""
    search_prewarm.dirty_builds = dirty


def _discard() -> None:
    global _prewarm
    if _prewarm is not None:
        _prewarm.discard()
        _prewarm = None


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Start the background process when the site will be indexed and is big enough; it also
    stages the index when the site folder holds none of the current analysis."""
    global _prewarm
    _close()
    _discard()
    indexed = any(Path(str(h)).name == "search_index.py" for h in config.hooks)
    pages = pages_to_render(files.documentation_pages())
    if indexed and wanted(pages):
        from kb import search_fallback
        from search.indexer import needs_stage, stage_dir_for

        stage = stage_dir_for(config.site_dir) if needs_stage(config.site_dir) else None
        _prewarm = Prewarmer(stage=stage, segment_pages=segment_size(pages),
                             fallback=search_fallback.wanted(config))
    return files


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """When staging, let the background process analyse the page's text while MkDocs converts
    the other pages (it would otherwise wait for the first rendered page)."""
    if _prewarm is not None and _prewarm.stage is not None:
        _prewarm.prepare(page.file.dest_uri, html)
    return html


def on_post_page(output: str, *, page: Page, config: MkDocsConfig) -> str:
    """Hand the page's final HTML to the background process."""
    if _prewarm is not None:
        _prewarm.submit(page.file.dest_uri, output)
    return output


def on_post_build(*, config: MkDocsConfig) -> None:
    """All pages are rendered: let the background process finish before the index is built."""
    _stop()


def on_shutdown() -> None:
    """Let the last build's processes finish writing the analysis cache."""
    _close()


def on_build_error(*, error: Exception) -> None:
    """Never leave the background process or a half-written stage behind."""
    _discard()
