"""Hook: the search index of the built site (``SITE_DIR/.search-index``).

Thin glue to :mod:`search.mkdocs.background` and :func:`search.build_index`. On a cold build of a
big enough site, one worker process indexes the pages while MkDocs renders them (started in
``on_files``, fed in ``on_post_page``); ``on_post_build`` lets it finish and builds the index
from its stage, or from the written pages alone. The worker never outlives the build: it is
closed when the build ends or fails, and dies with the build's process. Listed after the
hooks that change pages, before ``hooks/search_fallback.py`` (which reads the index).
"""

from __future__ import annotations

import logging

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from kb import buildstate
from search.mkdocs.background import BackgroundIndex, wanted
from kb.content.slots import slots

log = logging.getLogger("mkdocs.plugins.kb.search")


class Background:
    """This build's background worker, between on_files and on_post_build; closed when the
    build fails or the server stops (:meth:`kb.buildstate.BuildState.when_done`)."""

    def __init__(self) -> None:
        self.index: BackgroundIndex | None = None

    def close(self) -> None:
        if self.index is not None:
            self.index.close()
            self.index = None


class BestBets(dict):
    """``extra.kb.best_bets`` checked against this build's pages: queries by source path."""


def _background(config: MkDocsConfig) -> Background:
    build = buildstate.of(config)

    def make() -> Background:
        background = Background()
        build.when_done(background.close)
        return background

    return build.part(Background, make)


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Start the background worker on a cold build (no index of the current analysis in the
    site folder) of more than a few pages."""
    from kb.config import kb_settings
    from search.indexer import needs_stage, stage_dir_for
    from search.mkdocs import fallback as search_fallback
    from search.mkdocs.help import best_bets_by_page

    holder = _background(config)
    holder.close()
    best_bets = buildstate.of(config).part(BestBets)
    best_bets.clear()
    best_bets.update(best_bets_by_page(kb_settings(config),
                                       {f.src_uri for f in files.documentation_pages()}))
    pages = len(files.documentation_pages())
    if wanted(pages) and needs_stage(config.site_dir):
        background = BackgroundIndex(stage_dir_for(config.site_dir), pages=pages,
                                     fallback=search_fallback.wanted(config))
        try:
            holder.index = background.start()
        except OSError as exc:  # no worker only costs time: the index is written after the build
            background.close()
            log.warning("search: no background indexing (%s)", exc)
    return files


def on_page_context(context, *, page, config, nav):
    """Mark pages whose front matter says ``search: exclude: true`` (results page, notice
    archive listings, tag index) with ``<meta name="kb:noindex">`` so the indexer skips them,
    and best-bet pages with ``<meta name="kb:best-bets">``."""
    from search.extract import noindex_tag
    from search.mkdocs.help import best_bets_meta

    head = slots(page).head
    tag = noindex_tag(page.meta, head)
    if tag:
        head.append(tag)
    bets = buildstate.of(config).part(BestBets).get(page.file.src_uri)
    if bets:  # the queries that show this page first (extra.kb.best_bets)
        head.append(best_bets_meta(bets))
    return context


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """The results page gets its help for searches that find nothing (extra.kb)."""
    from kb.config import kb_settings
    from search.mkdocs.help import add_help

    return add_help(html, kb_settings(config))


def on_post_page(output: str, *, page: Page, config: MkDocsConfig) -> str:
    """Hand the page's final HTML to the background worker."""
    background = _background(config).index
    if background is not None:
        background.submit(page.file.dest_uri, output)
    return output


def on_post_build(*, config: MkDocsConfig) -> None:
    """Index every page of the built site (taking the worker's stage when it completed it);
    a failure stops the build (the old index stays)."""
    from kb.content.model import search_vocabulary
    from search import build_index

    holder = _background(config)
    stage = None
    if holder.index is not None:
        if holder.index.finish():
            stage = holder.index.stage
        holder.index = None
    try:
        info = build_index(config.site_dir, stage=stage, vocabulary=search_vocabulary())
    except (OSError, ValueError) as exc:
        raise PluginError(f"search index of {config.site_dir} could not be written: {exc}") from exc
    log.info("search: %d pages, %d sections indexed (build %s)", info.pages, info.documents,
             info.build_id)


