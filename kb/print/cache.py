"""The PDF cache (``extra.kb.pdf_cache_dir``): rendered PDFs by input hash, pruned after builds.

Layout: ``<cache>/<key[:2]>/<key>.pdf``, one file per rendered document, keyed by a hash of
everything that decides its bytes (:func:`kb.print.render.render_all`). Without pruning, every
edit of a document left its old PDF behind for ever. Now each complete build (all PDFs of an
audience, not a ``kb pdf PATH`` selection) records the keys it used in
``<cache>/used-<audience>.json`` and then removes every PDF that no audience's last build
used, and the partial files (``*.part``) of renders that were killed. Audiences are kept apart
so that publishing the public site does not throw away the PDFs only the internal site has.

Builds of several audiences may share one cache at the same time (CI publishing three targets
from one checkout), so a build holds a shared lock on ``<cache>/.lock`` while it renders and
copies, and pruning happens only under an exclusive lock, taken without waiting: when another
build is using the cache, this build leaves the pruning to the next one.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from kb.atomic import write_atomic

LOCK = ".lock"
USED = "used-{scope}.json"
_SCOPE = re.compile(r"^[A-Za-z0-9_-]+$")


class PdfCache:
    """One PDF cache folder."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.pdf"

    @contextmanager
    def in_use(self) -> Iterator[None]:
        """Hold the cache shared for the ``with`` block (it is not pruned meanwhile)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.lockf(fd, fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def record(self, scope: str, keys: Iterable[str]) -> None:
        """Remember the keys a complete build of ``scope`` (an audience) used."""
        if not _SCOPE.match(scope):
            raise ValueError(f"PDF cache scope: expected letters, digits, - or _, found {scope!r}")
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / USED.format(scope=scope)
        write_atomic(path, json.dumps(sorted(set(keys))))

    def used(self) -> set[str]:
        """Keys used by the last complete build of any scope."""
        keys: set[str] = set()
        for path in self.folder.glob(USED.format(scope="*")):
            try:
                keys.update(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                continue
        return keys

    def prune(self) -> list[Path] | None:
        """Remove the PDFs no scope's last build used and partial files; None when another
        build holds the cache (nothing removed)."""
        if not self.folder.is_dir():
            return []
        fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EAGAIN):
                    return None
                raise
            keep = self.used()
            removed = []
            for sub in sorted(p for p in self.folder.iterdir() if p.is_dir()):
                for path in sorted(sub.iterdir()):
                    stale = path.name.endswith(".part") or (
                        path.suffix == ".pdf" and path.stem not in keep)
                    if stale:
                        path.unlink(missing_ok=True)
                        removed.append(path)
                if not any(sub.iterdir()):
                    sub.rmdir()
            return removed
        finally:
            os.close(fd)
