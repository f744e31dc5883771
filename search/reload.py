"""Which site folder and which search index a running server answers from, swapped live.

The served root is ``SITE_DIR``, or the target of ``SITE_DIR/current`` when that is a symlink
(the publish layout: a publish or rollback switches the link). The index is
``<root>/.search-index`` with its ``build.json``.

:class:`IndexHolder` is the service's one index reloader. It opens (and warms up) the index
when it is made, before the first request. A background thread per process
(:meth:`IndexHolder.watch`) checks every :attr:`~IndexHolder.interval` seconds (a few ``stat``
calls) whether the root or the index changed; when it did, the thread opens the new index
while requests keep being answered from the old one, and the new generation takes over only
once it is ready, so the first request after a swap does not pay for the opening. The old
generation is closed when its last request has finished. A failed open leaves the old index in
service and is retried when the folder changes again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from search.indexer import BUILD_FILE, INDEX_NAME

log = logging.getLogger("mkdocs.plugins.kb.search.service")

#: the publish layout's link to the live release
CURRENT_LINK = "current"


class Engine(Protocol):
    """An opened index build (see :mod:`search.service_backend`)."""

    build_id: str | None
    doc_count: int

    def close(self) -> None: ...


def served_root(site_dir: Path) -> str:
    """The real path of the folder to serve: ``SITE_DIR/current`` when it is a symlink."""
    link = site_dir / CURRENT_LINK
    if link.is_symlink():
        return os.path.realpath(link)
    return os.path.realpath(site_dir)


def _signature(root: str) -> tuple:
    """What changes when the index is replaced: root, index folder inode, build.json inode/mtime."""
    index = os.path.join(root, INDEX_NAME)
    try:
        d = os.stat(index)
        b = os.stat(os.path.join(index, BUILD_FILE))
    except OSError:
        return (root, None)
    return (root, d.st_ino, b.st_ino, b.st_mtime_ns, b.st_size)


@dataclass(eq=False)
class Generation:
    """One opened index, with the number of requests using it."""

    root: str
    signature: tuple
    build_id: str | None
    documents: int
    engine: Any | None
    opened_at: float = field(default_factory=time.time)
    users: int = 0
    retired: bool = False

    def close_if_unused(self) -> None:
        if self.retired and self.users == 0 and self.engine is not None:
            try:
                self.engine.close()
            except Exception:  # noqa: BLE001 - closing an old index must not disturb serving
                log.debug("closing index %s failed", self.build_id, exc_info=True)
            self.engine = None


class IndexHolder:
    """The current :class:`Generation`, watched in the background and swapped without a gap."""

    def __init__(self, site_dir: Path, opener: Callable[[Path], Any],
                 interval: float = 1.0) -> None:
        self.site_dir = Path(site_dir)
        self.opener = opener
        self.interval = interval
        self._lock = threading.Lock()
        self._loading = False
        self._failed: tuple | None = None  # signature whose open failed: not retried
        self._watcher: int | None = None  # pid of the process whose watcher runs
        self._stop = threading.Event()
        self.error: str | None = None
        root = served_root(self.site_dir)
        try:
            self._current = self._open(root)
        except Exception as exc:  # noqa: BLE001 - serve the static site; retry when it changes
            log.warning("search index of %s could not be opened: %s", root, exc)
            self.error = f"index could not be opened: {exc}"
            self._failed = _signature(root)
            self._current = Generation(root, self._failed, None, 0, None)

    # ---------------------------------------------------------------- opening

    def _open(self, root: str) -> Generation:
        sig = _signature(root)
        if sig[1] is None:
            self.error = "no search index in the site folder (run `kb index SITE_DIR`)"
            return Generation(root, sig, None, 0, None)
        engine = self.opener(Path(root) / INDEX_NAME)
        self.error = None
        return Generation(root, sig, getattr(engine, "build_id", None),
                          int(getattr(engine, "doc_count", 0) or 0), engine)

    def _load(self, root: str) -> None:
        """Open the index of ``root`` and make it current (unless another load is under way)."""
        with self._lock:
            if self._loading:
                return
            self._loading = True
        sig = _signature(root)
        try:
            new = self._open(root)
        except Exception as exc:  # noqa: BLE001 - keep serving the old index
            log.warning("search index of %s could not be opened: %s", root, exc)
            self.error = f"index could not be opened: {exc}"
            new = None
        with self._lock:
            self._loading = False
            self._failed = sig if new is None else None
            if new is None:
                return
            old, self._current = self._current, new
            old.retired = True
            old.close_if_unused()
        if new.build_id != old.build_id:
            log.info("search index %s now serving (was %s)", new.build_id, old.build_id)

    def check(self) -> None:
        """Load the index now, in this thread, if the site folder holds another one."""
        root = served_root(self.site_dir)
        sig = _signature(root)
        if sig != self._current.signature and sig != self._failed:
            self._load(root)

    def is_stale(self, gen: Generation) -> bool:
        """True when ``gen`` is no longer what the site folder holds (checked now)."""
        return gen.retired or _signature(served_root(self.site_dir)) != gen.signature

    def reload_now(self) -> None:
        """Load the site folder's index in this thread unless another load is under way."""
        self._load(served_root(self.site_dir))

    # ---------------------------------------------------------------- watching

    def watch(self) -> None:
        """Start this process's background reloader, once (again in a forked child); an
        ``interval`` of 0 or less serves the index opened first and never reloads."""
        pid = os.getpid()
        if self._watcher == pid or self.interval <= 0:
            return
        with self._lock:
            if self._watcher == pid:
                return
            self._watcher = pid
            self._stop = threading.Event()
        threading.Thread(target=self._watch, args=(self._stop,), daemon=True,
                         name="kb-index-watch").start()

    def _watch(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the watcher must outlive one bad moment
                log.exception("checking the search index of %s failed", self.site_dir)

    # ---------------------------------------------------------------- using

    @property
    def current(self) -> Generation:
        """The generation new requests use (no reference counting: for reporting only)."""
        return self._current

    @contextmanager
    def acquire(self) -> Iterator[Generation]:
        """The current generation, kept open until the ``with`` block ends."""
        self.watch()
        with self._lock:
            gen = self._current
            gen.users += 1
        try:
            yield gen
        finally:
            with self._lock:
                gen.users -= 1
                gen.close_if_unused()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._current.retired = True
            self._current.close_if_unused()
