"""Analyse, and on a first build also index, pages WHILE MkDocs renders them (all cores).

MkDocs converts and renders pages one after another in one process; the search index is built
from the finished HTML only at ``on_post_build``. On a cold build, analysing pages (jieba,
grams, pinyin) and writing their postings into Whoosh cost about as much CPU as rendering them,
so this module starts background processes when the build starts and hands them every page's
final HTML from ``on_post_page``. A process slices and hashes each page exactly as
:func:`search.build_index` would (:func:`search.indexer.page_key`) and takes its analysis from
the shared analysis cache or makes it (:func:`search.documents.analyze_sliced`, then cached).

Two modes:

``stage`` (no index of the current analysis in the site folder yet: a first or clean build)
    one process per core, each owning a fixed share of the pages (by a hash of the page path).
    Each receives its pages' converted Markdown first (``on_page_content``: MkDocs converts
    every page before it renders any) and analyses their section texts while the main process
    is still converting; then their final HTML, which it adds to its own stage index (a
    :class:`search.writer.IndexBuilder`), committing a segment every ``segment_pages`` pages so
    little is left to write when rendering ends. :meth:`Prewarmer.stop` waits for every stage
    to complete and merges them (:func:`search.writer.merge_stages`, segments moved as files);
    ``build_index(..., stage=...)`` then moves the stage into place and only rewrites pages
    whose written HTML differs from what was staged.
analysis only (an index exists: an incremental rebuild)
    one process only fills the analysis cache; ``build_index`` updates the existing index.

Nothing here changes what is indexed: a page whose HTML changes after ``on_post_page`` simply
gets a different key and is analysed by ``build_index``; an incomplete stage (stopped, crashed)
is discarded. Failures only cost time (logged), never the build.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import time
import zlib
from pathlib import Path
from typing import Any

from kb.search_fallback import staged_segments_path

log = logging.getLogger("mkdocs.plugins.kb.search")

#: pages analysed between two cache writes
BATCH = 64
#: below this many pages a build is too small for a second process to pay off
MIN_PAGES = 64
#: a stage is written in about this many segments in all (fewer pages left to write at the end)
SEGMENTS = 8
#: but segments of at least this many pages (each segment costs a little at query time)
MIN_SEGMENT_PAGES = 250
#: how much lower than the build's the background processes' CPU priority is (``nice``)
NICENESS = 10
#: posting pool of the background writer (one segment's postings)
STAGE_POOL_MB = 256


def segment_size(page_count: int) -> int:
    """Pages per committed segment of the stages of a build of ``page_count`` pages."""
    return max(MIN_SEGMENT_PAGES, -(-page_count // SEGMENTS))


def stage_workers() -> int:
    """Processes that stage a cold build: one per core, at most four."""
    return max(1, min(os.cpu_count() or 1, 4))


def _work(queue: Any, stop: Any, staged: Any, done: Any, cache_path: str, salt: str,
          stage: str | None, segment_pages: int, fallback: bool = False) -> None:
    """Background process: analyse (and stage) queued pages until told to stop.

    ``fallback``: also segment each staged page for the theme's fallback index
    (:func:`kb.search_fallback.page_segments`, saved next to the stage).
    ``staged`` is set when the stage is complete (or abandoned). When staging, analyses are
    written to the cache after that, off the build's critical path; otherwise (the cache is
    how they reach ``build_index``) in batches as they are made, and before ``staged``.
    """
    import gc

    from search.gcpolicy import forked_worker_gc

    forked_worker_gc()  # analyses and postings make no cycles; one collection per segment
    try:  # the build's own process goes first: it is the critical path, and cores are few
        os.nice(NICENESS)
    except OSError:
        pass
    from kb.search_fallback import page_segments, write_staged
    from search.documents import analyze_sliced, prepare_content
    from search.extract import slice_page
    from search.indexer import AnalysisCache, output_digest, page_key
    from search.lexicon import segmenter
    from search.writer import IndexBuilder

    started = time.perf_counter()
    segmenter()
    cache = AnalysisCache(Path(cache_path))
    builder = IndexBuilder(Path(stage), salt, pool_mb=STAGE_POOL_MB) if stage else None
    segmented: dict[str, Any] | None = {} if (stage and fallback) else None
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
                if builder is not None:
                    builder.skip(rel, output_digest(html))
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
                builder.add(rel, key, hit[0], hit[1], raw=output_digest(html))
                if segmented is not None:
                    segmented[rel] = (key, page_segments(hit[0]))
                if builder.pending >= segment_pages:
                    builder.commit(merge=False)
                    gc.collect()
        if builder is not None and complete:
            builder.finish(counts, started, lexicon=False, merge=False)
            if segmented is not None:
                write_staged(staged_segments_path(Path(stage)), segmented)
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


class _Worker:
    """One background process, its queue and its stage folder."""

    def __init__(self, ctx: Any, stop: Any, cache_path: str, salt: str, stage: Path | None,
                 segment_pages: int, name: str, fallback: bool) -> None:
        self.stage = stage
        if stage is not None and stage.exists():
            shutil.rmtree(stage)
        self.queue = ctx.Queue()
        self.staged = ctx.Event()
        self.done = ctx.Value("i", 0)
        self.proc = ctx.Process(
            target=_work, daemon=True, name=name,
            args=(self.queue, stop, self.staged, self.done, cache_path, salt,
                  str(stage) if stage else None, segment_pages, fallback),
        )
        self.proc.start()


class Prewarmer:
    """The background processes of one build (see the module docstring)."""

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None, *,
                 stage: str | os.PathLike[str] | None = None, segment_pages: int = 500,
                 workers: int | None = None, fallback: bool = False) -> None:
        from search.indexer import analysis_cache_path, analysis_salt

        self.stage = Path(stage) if stage else None
        if workers is None:
            workers = stage_workers() if self.stage is not None else 1
        ctx = multiprocessing.get_context("fork")
        self.stop_event = ctx.Event()
        self.sent = 0
        cache_path, salt = str(analysis_cache_path(cache_dir)), analysis_salt()
        self.workers = []
        for i in range(max(1, workers)):
            folder = None
            if self.stage is not None:
                folder = self.stage if i == 0 else self.stage.with_name(f"{self.stage.name}-{i}")
            self.workers.append(_Worker(ctx, self.stop_event, cache_path, salt, folder,
                                        segment_pages, f"kb-search-prewarm-{i}", fallback))

    def _queue(self, relpath: str) -> Any:
        if len(self.workers) == 1:
            return self.workers[0].queue
        return self.workers[zlib.crc32(relpath.encode()) % len(self.workers)].queue

    def prepare(self, relpath: str, content: str) -> None:
        """Queue a page's converted Markdown so its section texts are analysed before its
        built HTML arrives (MkDocs converts every page before it renders any)."""
        self._queue(relpath).put((None, content))

    def submit(self, relpath: str, html: str) -> None:
        """Queue one page's final HTML (``relpath`` relative to the site folder)."""
        self._queue(relpath).put((relpath, html))
        self.sent += 1

    def stop(self, timeout: float = 30.0, *, drain: bool = False) -> int:
        """Stop after the page in hand (``drain``: after every queued page, completing the
        stages, which are then merged into :attr:`stage`); return how many pages were
        analysed."""
        if not drain:
            self.stop_event.set()
        for worker in self.workers:
            worker.queue.put(None)
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            if not worker.staged.wait(max(0.0, deadline - time.monotonic())):
                log.warning("search: background indexing did not finish in %.0fs; stopped",
                            timeout)
                self.stop_event.set()
                worker.proc.terminate()
                worker.proc.join(5)
            worker.queue.cancel_join_thread()  # nobody reads what is left
        if self.stage is not None:
            from search.writer import merge_stages

            others = [w.stage for w in self.workers[1:] if w.stage is not None]
            if not merge_stages(self.stage, others):
                shutil.rmtree(self.stage, ignore_errors=True)
            for folder in others:
                shutil.rmtree(folder, ignore_errors=True)
        analysed = sum(int(w.done.value) for w in self.workers)
        log.debug("search: background processes analysed %d of %d pages during the build",
                  analysed, self.sent)
        return analysed

    def close(self, timeout: float = 60.0) -> None:
        """Wait for the processes to finish writing the analysis cache, then let them go."""
        for worker in self.workers:
            worker.proc.join(timeout)
            if worker.proc.is_alive():
                worker.proc.terminate()
                worker.proc.join(5)
            worker.queue.cancel_join_thread()
            worker.queue.close()

    def discard(self) -> None:
        """Stop at once and remove the stages (a failed build)."""
        self.stop_event.set()
        for worker in self.workers:
            worker.queue.put(None)
        self.close(5.0)
        for worker in self.workers:
            if worker.stage is not None:
                shutil.rmtree(worker.stage, ignore_errors=True)
                staged_segments_path(worker.stage).unlink(missing_ok=True)


#: set from ``on_startup``: this process builds with ``--dirty`` (MkDocs renders changed pages only)
dirty_builds = False


def pages_to_render(pages: list[Any]) -> int:
    """How many of ``pages`` (MkDocs files) this build will render: all of them, or under
    ``--dirty`` only those whose source is newer than their output."""
    if not dirty_builds:
        return len(pages)
    return sum(1 for f in pages if f.is_modified())


def wanted(page_count: int) -> bool:
    """A prewarmer pays off on a multi-core machine for builds of more than a few pages."""
    return (os.cpu_count() or 1) > 1 and page_count >= MIN_PAGES
