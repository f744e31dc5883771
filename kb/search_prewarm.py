"""Analyse, and on a first build also index, pages WHILE MkDocs renders the rest (second core).

MkDocs renders pages one after another in one process; the search index is built from the
finished HTML only at ``on_post_build``. On a cold build, analysing pages (jieba, grams,
pinyin) and writing their postings into Whoosh cost about as much CPU as rendering them, so
this module starts ONE background process when the build starts and hands it every page's
final HTML from ``on_post_page``. The process slices and hashes each page exactly as
:func:`search.build_index` would (:func:`search.indexer.page_key`) and takes its analysis from
the shared analysis cache or makes it (:func:`search.documents.analyze_sliced`, then cached).

Two modes:

``stage`` (no index of the current analysis in the site folder yet: a first or clean build)
    the process also adds every page to a new index in ``stage`` (an
    :class:`search.writer.IndexBuilder`), committing a segment every ``segment_pages`` pages so
    little is left to write when rendering ends. :meth:`Prewarmer.stop` waits for it to drain
    the queue and complete the stage; ``build_index(..., stage=...)`` then moves the stage into
    place and only rewrites pages whose final HTML differs from what was staged.
analysis only (an index exists: an incremental rebuild)
    the process only fills the analysis cache; ``build_index`` updates the existing index.

Nothing here changes what is indexed: a page whose HTML changes after ``on_post_page`` simply
gets a different key and is analysed by ``build_index``; an incomplete stage (stopped, crashed)
is discarded by ``build_index``. Failures only cost time (logged), never the build.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.plugins.kb.search")

#: pages analysed between two cache writes
BATCH = 64
#: below this many pages a build is too small for a second process to pay off
MIN_PAGES = 64
#: a stage is written in about this many segments (fewer pages left to write at the end)
SEGMENTS = 8
#: but segments of at least this many pages (each segment costs a little at query time)
MIN_SEGMENT_PAGES = 250
#: posting pool of the background writer (one segment's postings)
STAGE_POOL_MB = 256


def segment_size(page_count: int) -> int:
    """Pages per committed segment of a stage for a build of ``page_count`` pages."""
    return max(MIN_SEGMENT_PAGES, -(-page_count // SEGMENTS))


def _work(queue: Any, stop: Any, gate: Any, staged: Any, done: Any, cache_path: str, salt: str,
          stage: str | None, segment_pages: int) -> None:
    """Background process: analyse (and stage) queued pages until told to stop.

    ``gate`` (the tail helper): wait until it is set before taking pages. ``staged`` is set
    when the stage is complete (or abandoned); analyses are written to the cache after that,
    off the build's critical path, when staging (else in batches as they are made).
    """
    import gc

    gc.freeze()  # the build's objects inherited by fork are never ours to collect
    from search.documents import analyze_sliced, prepare_content
    from search.extract import slice_page
    from search.indexer import AnalysisCache, page_key
    from search.lexicon import segmenter
    from search.writer import IndexBuilder

    started = time.perf_counter()
    segmenter()
    if gate is not None:
        gate.wait()
    cache = AnalysisCache(Path(cache_path))
    builder = IndexBuilder(Path(stage), salt, pool_mb=STAGE_POOL_MB) if stage else None
    made: list[tuple[str, Any]] = []
    counts = {"analysed": 0, "cached": 0}
    complete = False
    try:
        while not stop.is_set():
            item = queue.get()
            if item is None:
                complete = True
                break
            rel, html = item
            if rel is None:  # a page's converted Markdown, before the theme renders it
                prepare_content(html)
                continue
            sliced = slice_page(html)
            if sliced is None:
                continue
            key = page_key(salt, rel, sliced)
            hit = cache.get(key)
            if hit is None:
                hit = analyze_sliced(rel, sliced)
                made.append((key, hit))
                counts["analysed"] += 1
                if builder is None and len(made) >= BATCH:
                    cache.put_many(made)
                    made = []
            else:
                counts["cached"] += 1
            if builder is not None:
                builder.add(rel, key, hit[0], hit[1])
                if builder.pending >= segment_pages:
                    builder.commit(merge=False)
        if builder is not None and complete:
            builder.finish(counts, started, lexicon=False, merge=False)
    except Exception as exc:  # noqa: BLE001 - only costs time: build_index drops the stage
        complete = False
        log.warning("search: background indexing stopped (%s: %s)", type(exc).__name__, exc)
    finally:
        if builder is not None and not complete:
            builder.cancel()
            shutil.rmtree(stage, ignore_errors=True)  # type: ignore[arg-type]
        done.value = counts["analysed"]
        if builder is None:  # the cache is how analyses reach build_index: write it first
            cache.put_many(made)
            made = []
        staged.set()
        cache.put_many(made)
        cache.close()


class Prewarmer:
    """The background process(es) of one build (see the module docstring).

    When staging, a second process (the tail helper) loads the dictionaries at once but takes
    pages only when rendering ends: the first process has a backlog then, and both cores drain
    it, each into its own stage folder; :func:`search.writer.merge_stages` joins them.
    """

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None, *,
                 stage: str | os.PathLike[str] | None = None, segment_pages: int = 500,
                 helpers: int | None = None) -> None:
        from search.indexer import analysis_cache_path, analysis_salt

        self.stage = Path(stage) if stage else None
        if helpers is None:
            helpers = min((os.cpu_count() or 1), 4) - 1 if self.stage is not None else 0
        ctx = multiprocessing.get_context("fork")
        self.queue = ctx.Queue()
        self.stop_event = ctx.Event()
        self.gate = ctx.Event()
        self.stages: list[Path | None] = []
        self.workers: list[tuple[Any, Any, Any]] = []  # (process, staged event, done counter)
        self.sent = 0
        for i in range(1 + max(0, helpers)):
            folder = None
            if self.stage is not None:
                folder = self.stage if i == 0 else self.stage.with_name(f"{self.stage.name}-{i}")
                if folder.exists():
                    shutil.rmtree(folder)
            staged, done = ctx.Event(), ctx.Value("i", 0)
            proc = ctx.Process(
                target=_work, daemon=True, name=f"kb-search-prewarm-{i}",
                args=(self.queue, self.stop_event, self.gate if i else None, staged, done,
                      str(analysis_cache_path(cache_dir)), analysis_salt(),
                      str(folder) if folder else None, segment_pages),
            )
            proc.start()
            self.stages.append(folder)
            self.workers.append((proc, staged, done))

    def prepare(self, content: str) -> None:
        """Queue a page's converted Markdown so its section texts are analysed before its
        built HTML arrives (MkDocs converts every page before it renders any)."""
        self.queue.put((None, content))

    def submit(self, relpath: str, html: str) -> None:
        """Queue one page's final HTML (``relpath`` relative to the site folder)."""
        self.queue.put((relpath, html))
        self.sent += 1

    def stop(self, timeout: float = 30.0, *, drain: bool = False) -> int:
        """Stop after the page in hand (``drain``: after every queued page, completing the
        stage, helped by the tail helpers); return how many pages were analysed. When staging,
        the helpers' stages are merged into :attr:`stage`."""
        if not drain:
            self.stop_event.set()
        self.gate.set()
        for _ in self.workers:
            self.queue.put(None)
        deadline = time.monotonic() + timeout
        for proc, staged, _ in self.workers:
            if not staged.wait(max(0.0, deadline - time.monotonic())):
                log.warning("search: background indexing did not finish in %.0fs; stopped",
                            timeout)
                self.stop_event.set()
                proc.terminate()
                proc.join(5)
        self.queue.cancel_join_thread()  # nobody reads what is left (sentinels, skipped pages)
        if self.stage is not None:
            from search.writer import merge_stages

            helpers = [s for s in self.stages[1:] if s is not None]
            if not merge_stages(self.stage, helpers):
                shutil.rmtree(self.stage, ignore_errors=True)
            for folder in helpers:
                shutil.rmtree(folder, ignore_errors=True)
        analysed = sum(int(done.value) for _, _, done in self.workers)
        log.debug("search: background processes analysed %d of %d pages during the build",
                  analysed, self.sent)
        return analysed

    def close(self, timeout: float = 60.0) -> None:
        """Wait for the processes to finish writing the analysis cache, then let them go."""
        for proc, _, _ in self.workers:
            proc.join(timeout)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
        self.queue.cancel_join_thread()
        self.queue.close()

    def discard(self) -> None:
        """Stop at once and remove the stages (a failed build)."""
        self.stop_event.set()
        self.gate.set()
        for _ in self.workers:
            self.queue.put(None)
        self.close(5.0)
        for folder in self.stages:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


def wanted(page_count: int) -> bool:
    """A prewarmer pays off on a multi-core machine for builds of more than a few pages."""
    return (os.cpu_count() or 1) > 1 and page_count >= MIN_PAGES
