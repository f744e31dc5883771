"""When the search code turns Python's cyclic garbage collector off, in one place.

Loading jieba's dictionary, analysing pages and writing their postings allocate millions of
objects that never form cycles; every automatic collection would walk all of them that are
still alive. Reference counting frees them all the same.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the collector for one step of this process (it is restored as it was)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def worker_gc() -> None:
    """For a worker process that analyses or indexes pages: what it has loaded so far (jieba's
    dictionary, modules) is never collected, and it collects only when it says so
    (``gc.collect()``), if at all."""
    gc.freeze()
    gc.disable()
