"""A cold build's search index, written by one spawned process while MkDocs renders the pages.

MkDocs renders pages one after another in one process. On a cold build (the site folder holds
no index of the current analysis: a first or clean build, and every ``kb publish``, which
builds into a new folder), analysing every page (jieba, grams, pinyin) and writing its
postings costs about half as much CPU again as rendering; done after the build, all of it
would wait for the last page. So :class:`BackgroundIndex` starts ONE worker process when the
build starts (``on_files``), hands it each page's final HTML (``on_post_page``), and the
worker, on the other core, takes the page's analysis from the content-keyed analysis cache or
makes it (and stores it there), adds the page to a new index in ``SITE_DIR/.search-index.stage``
and commits a segment every few hundred pages. At ``on_post_build`` it empties its queue,
writes the stage's manifest (and the theme's fallback segments, :mod:`search.mkdocs.fallback`) and
ends; :func:`search.build_index` takes the stage as the index and only checks, by the digest
of each written file, that every page is the one staged (a page a later hook rewrote is
indexed again).

The worker is ours (:mod:`kb.workers`): spawned, never forked from the MkDocs process (which
runs threads under ``mkdocs serve``), stopped when the build ends or fails, and killed by the
kernel if the build's process dies. Nothing depends on the order in which MkDocs converts and
renders pages, there is one writer (no segments spliced together), and no fixed time is waited
for: :meth:`BackgroundIndex.finish` waits while the worker makes progress and gives up after
:data:`STALL` seconds without any. Nothing here changes what is indexed: a worker that fails,
stalls or is stopped only costs time (its stage is removed and ``build_index`` indexes every
page itself).

One worker is enough: it needs about half the CPU time MkDocs spends rendering the same pages
(5,000 pages: ~12 s analysis and ~14 s writing against ~50 s rendering on the shared
development machine), so it keeps up on a second core and the build waits for little more
than its last segment.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from kb import workers

log = logging.getLogger("mkdocs.plugins.kb.search")

#: below this many pages, build_index after the build costs less than starting a worker
MIN_PAGES = 64
#: analyses written to the cache in batches of this many pages
BATCH = 64
#: the stage is written in about this many segments (each costs a little at query time) ...
SEGMENTS = 8
#: ... of at least this many pages
MIN_SEGMENT_PAGES = 250
#: posting pool of the worker's writer (one segment's postings)
POOL_MB = 256
#: seconds the end of a build waits for a worker that makes no progress at all (a page or a
#: step of writing); on a machine shared by many builds a step can take a while
STALL = 120.0


def wanted(page_count: int) -> bool:
    """A background worker pays off on a multi-core machine for more than a few pages."""
    return workers.cpu_count() > 1 and page_count >= MIN_PAGES


def segment_size(page_count: int) -> int:
    """Pages per committed segment of the stage of a build of ``page_count`` pages."""
    return max(MIN_SEGMENT_PAGES, -(-page_count // SEGMENTS))


def index_pages(queue: Any, progress: Any, stage: str, cache_path: str, salt: str,
                segment_pages: int, fallback: bool) -> None:
    """The worker: index the pages ``(relpath, html)`` from ``queue`` into ``stage`` until
    ``None`` comes; count each page and each step of writing in ``progress``. ``fallback``:
    also segment each page's sections for the theme's fallback index (saved next to the
    stage). A stage is complete when its ``build.json`` is written, the last thing done."""
    from search.mkdocs.fallback import page_segments, staged_segments_path, write_staged
    from search.documents import analyze_sliced
    from search.extract import slice_page
    from search.gcpolicy import worker_gc
    from search.indexer import AnalysisCache, output_digest, page_key
    from search.lexicon import segmenter
    from search.writer import IndexBuilder

    worker_gc()  # analyses and postings make no cycles: one collection per segment
    started = time.perf_counter()
    segmenter()
    cache = AnalysisCache(Path(cache_path))
    builder = IndexBuilder(Path(stage), salt, pool_mb=POOL_MB)
    segmented: dict[str, Any] = {}
    made: list[tuple[str, Any]] = []
    counts = {"analysed": 0, "cached": 0}
    try:
        for rel, html in iter(queue.get, None):
            sliced = slice_page(html)
            if sliced is None:
                builder.skip(rel, output_digest(html))
            else:
                key = page_key(salt, rel, sliced)
                hit = cache.get(key)
                if hit is None:
                    hit = analyze_sliced(rel, sliced)
                    made.append((key, hit))
                    counts["analysed"] += 1
                    if len(made) >= BATCH:
                        cache.put_many(made)
                        made = []
                else:
                    counts["cached"] += 1
                builder.add(rel, key, hit[0], hit[1], raw=output_digest(html))
                if fallback:
                    segmented[rel] = (key, page_segments(hit[0]))
                if builder.pending >= segment_pages:
                    builder.commit(merge=False)
                    progress.value += 1
                    gc.collect()
            progress.value += 1
        cache.put_many(made)
        progress.value += 1
        if fallback:
            write_staged(staged_segments_path(Path(stage)), segmented)
            progress.value += 1
        builder.finish(counts, started, lexicon=False, merge=False)  # build.json: complete
    except BaseException:
        builder.cancel()
        raise
    finally:
        cache.close()


class BackgroundIndex:
    """The worker of one cold build: :meth:`start`, :meth:`submit` each page, :meth:`finish`,
    :meth:`close` (also a context manager: leaving the block closes it)."""

    def __init__(self, stage: str | os.PathLike[str], *, pages: int,
                 cache_dir: str | os.PathLike[str] | None = None,
                 fallback: bool = False) -> None:
        self.stage = Path(stage)
        self.pages = pages
        self.cache_dir = cache_dir
        self.fallback = fallback
        self.sent = 0
        self.complete = False
        self._owner = ExitStack()
        self.worker: Any = None  # the worker process, once started
        self._queue: Any = None
        self._progress: Any = None

    def __enter__(self) -> BackgroundIndex:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> BackgroundIndex:
        """Start the worker (a stage left by an earlier build is removed first)."""
        from search.indexer import analysis_cache_path, analysis_salt

        self._remove_stage()
        ctx = workers.spawn_context()
        self._queue, self._progress = ctx.Queue(), ctx.RawValue("i", 0)
        args = (self._queue, self._progress, str(self.stage),
                str(analysis_cache_path(self.cache_dir)), analysis_salt(),
                segment_size(self.pages), self.fallback)
        self.worker = self._owner.enter_context(
            workers.process(index_pages, args, name="kb-search-index"))
        return self

    def submit(self, relpath: str, html: str) -> None:
        """Queue one page's final HTML (``relpath`` relative to the site folder)."""
        self._queue.put((relpath, html))
        self.sent += 1

    def finish(self) -> bool:
        """Let the worker index what is queued and end; True when the stage is complete.
        Waits while the worker makes progress (no fixed limit), gives up after
        :data:`STALL` seconds without any."""
        self._queue.put(None)
        last, since = -1, time.monotonic()
        while self.worker.is_alive():
            self.worker.join(0.2)
            if self._progress.value != last:
                last, since = self._progress.value, time.monotonic()
            elif time.monotonic() - since > STALL:
                log.warning("search: background indexing made no progress for %.0f s "
                            "(%d pages sent); stopped", STALL, self.sent)
                break
        self.complete = self.worker.exitcode == 0
        if not self.complete:
            log.warning("search: background indexing stopped (exit code %s); the index is "
                        "written after the build", self.worker.exitcode)
        self.close()
        return self.complete

    def close(self) -> None:
        """Stop the worker if it still runs; remove the stage unless it is complete."""
        self._owner.close()
        if self._queue is not None:
            self._queue.cancel_join_thread()  # nobody reads what may be left in it
            self._queue.close()
            self._queue = None
        if not self.complete:
            self._remove_stage()

    def _remove_stage(self) -> None:
        from search.mkdocs.fallback import staged_segments_path

        shutil.rmtree(self.stage, ignore_errors=True)
        staged_segments_path(self.stage).unlink(missing_ok=True)
