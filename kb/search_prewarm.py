"""Analyse pages for the search index WHILE MkDocs renders the rest (the second core).

MkDocs renders pages one after another in one process; the search index is built from the
finished HTML only at ``on_post_build``. On a cold build the analysis (jieba, grams, pinyin)
costs about as much CPU as rendering, so this module starts ONE background process when the
build starts and hands it every page's final HTML from ``on_post_page``. The process slices,
hashes and analyses each page exactly as :func:`search.build_index` would
(:func:`search.indexer.page_key`, :func:`search.documents.analyze_sliced`) and stores the result
in the same analysis cache. When all pages are rendered, :meth:`Prewarmer.stop` tells it to
flush and exit; ``build_index`` then finds those pages in the cache and only analyses what
the prewarmer had not reached yet (with all cores, as before).

Nothing here changes what is indexed: a page whose HTML changes after ``on_post_page`` simply
gets a different key and is analysed by ``build_index``. Pages already in the cache cost one
SQLite lookup. Failures only cost time (logged at debug level), never the build.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.plugins.kb.search")

#: pages analysed between two cache writes
BATCH = 64
#: below this many pages a build is too small for a second process to pay off
MIN_PAGES = 64


def _work(queue: Any, stop: Any, cache_path: str, salt: str, done: Any) -> None:
    """Background process: analyse queued pages into the cache until told to stop."""
    from search.documents import analyze_sliced
    from search.extract import slice_page
    from search.indexer import AnalysisCache, page_key
    from search.lexicon import segmenter

    segmenter()
    cache = AnalysisCache(Path(cache_path))
    batch: list[tuple[str, Any]] = []
    count = 0
    try:
        while not stop.is_set():
            item = queue.get()
            if item is None:
                break
            rel, html = item
            sliced = slice_page(html)
            if sliced is None:
                continue
            key = page_key(salt, rel, sliced)
            if cache.get(key) is not None:
                continue
            batch.append((key, analyze_sliced(rel, sliced)))
            count += 1
            if len(batch) >= BATCH:
                cache.put_many(batch)
                batch = []
    finally:
        cache.put_many(batch)
        cache.close()
        done.value = count


class Prewarmer:
    """One background analysis process for one build (see the module docstring)."""

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None) -> None:
        from search.indexer import analysis_cache_path, analysis_salt

        ctx = multiprocessing.get_context("fork")
        self.queue = ctx.Queue()
        self.stop_event = ctx.Event()
        self.done = ctx.Value("i", 0)
        self.sent = 0
        self.proc = ctx.Process(
            target=_work, daemon=True, name="kb-search-prewarm",
            args=(self.queue, self.stop_event, str(analysis_cache_path(cache_dir)),
                  analysis_salt(), self.done),
        )
        self.proc.start()

    def submit(self, relpath: str, html: str) -> None:
        """Queue one page's final HTML (``relpath`` relative to the site folder)."""
        self.queue.put((relpath, html))
        self.sent += 1

    def stop(self, timeout: float = 30.0, *, drain: bool = False) -> int:
        """Stop after the page in hand (``drain``: after every queued page), flush the cache;
        return how many pages it analysed."""
        if not drain:
            self.stop_event.set()
        self.queue.put(None)
        self.proc.join(timeout)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
        self.queue.cancel_join_thread()
        self.queue.close()
        log.debug("search: prewarm analysed %d of %d pages during the build",
                  self.done.value, self.sent)
        return int(self.done.value)


def wanted(page_count: int) -> bool:
    """A prewarmer pays off on a multi-core machine for builds of more than a few pages."""
    return (os.cpu_count() or 1) > 1 and page_count >= MIN_PAGES
