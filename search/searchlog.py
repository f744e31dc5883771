"""The search log: what staff looked for and how much they found, without saying who they are.

Each answered query appends one JSON line: ``{"time": ISO-8601 UTC, "q": normalised query,
"n": total results, "ms": time taken, "src": "live" | "page" | "api", "filters": {...}}`` — no
client address, no user name, no cookie. The log rotates (:class:`Rotation`: daily or by size,
keeping N files), safely with several worker processes writing. ``kb report --searches`` reads
the current and the rotated files back with :func:`summarize` to list the frequent queries that
found nothing or little, so writers know which synonyms or pages to add.

As-you-type requests (``src = live``) log every pause of a typing person: ``vp``, ``vpn``,
``vpn 密码``. The report drops a live query when a longer query starting with it follows within
:data:`TYPING_WINDOW` seconds, so only what people finished typing is counted.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger("mkdocs.plugins.kb.search.service")

#: seconds within which a longer query makes an earlier live query a typing step
TYPING_WINDOW = 10.0
#: longest query text kept in the log
MAX_LOGGED = 200
_SPACE = re.compile(r"\s+")


def normalize_query(text: str) -> str:
    """The logged form of a query: NFKC, lower case, single spaces, bounded length."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _SPACE.sub(" ", text).strip()[:MAX_LOGGED]


def default_log_path(site_dir: Path) -> Path:
    """``<parent>/<site>-searches.jsonl``: next to the site folder, never inside what is served."""
    site_dir = Path(site_dir).resolve()
    return site_dir.parent / f"{site_dir.name}-searches.jsonl"


@dataclass(frozen=True)
class Rotation:
    """When the log moves to a new file, and how many old files it keeps.

    The current file is ``PATH``; older ones are ``PATH.1`` (the newest) to ``PATH.<keep>``.
    ``daily``: the first record of a new day (server's local time) starts a new file;
    ``max_bytes``: a record that would take the file past this size starts a new one.
    """

    daily: bool = True
    max_bytes: int | None = None
    keep: int = 14

    @classmethod
    def parse(cls, spec: str, keep: int = 14) -> Rotation:
        """``daily``, a size (``10M``, ``512K``, bytes), or ``off`` (never rotate)."""
        value = spec.strip().lower()
        if keep < 0:
            raise ValueError(f"log keep: expected 0 or more files, found {keep}")
        if value == "daily":
            return cls(daily=True, keep=keep)
        if value == "off":
            return cls(daily=False, keep=keep)
        m = re.fullmatch(r"([0-9]{1,9})([kmg]?)b?", value)
        if not m or int(m.group(1)) == 0:
            raise ValueError(f"log rotation: expected daily, off or a size such as 10M, "
                             f"found {spec!r}")
        return cls(daily=False, max_bytes=int(m.group(1)) * _UNITS[m.group(2)], keep=keep)

    def describe(self) -> str:
        """How the log rotates, in words (``kb serve`` prints it)."""
        if self.max_bytes is not None:
            when = f"rotates at {self.max_bytes:,} bytes"
        else:
            when = "rotates daily" if self.daily else "never rotates"
        return f"{when}, keeps {self.keep} old files"

    def due(self, size: int, mtime: float, adding: int) -> bool:
        """True when a file of ``size`` bytes last written at ``mtime`` should be rotated
        before ``adding`` more bytes."""
        if size == 0:
            return False
        if self.max_bytes is not None and size + adding > self.max_bytes:
            return True
        return self.daily and _day(mtime) != _day(time.time())


NO_ROTATION = Rotation(daily=False)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def _day(stamp: float) -> tuple[int, int, int]:
    return time.localtime(stamp)[:3]


class SearchLog:
    """Appends query records to a JSON-lines file; never fails a request.

    Several worker processes append to the same file. Each record is written with one
    ``write`` under an exclusive ``flock`` of ``PATH.lock`` (a file that is never rotated), and
    the same lock serialises rotation: the process that finds the file due renames the old files
    and every process reopens ``PATH`` when its inode changed. No line is lost or interleaved.
    """

    def __init__(self, path: Path | None, rotation: Rotation = NO_ROTATION) -> None:
        self.path = Path(path) if path else None
        self.rotation = rotation
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self._broken = False

    def record(self, query: str, total: int, took_ms: float, src: str = "api",
               filters: dict[str, object] | None = None) -> None:
        """Append one query (normalised) with its result count and time taken."""
        if self.path is None or self._broken:
            return
        entry: dict[str, object] = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "q": normalize_query(query), "n": int(total), "ms": round(float(took_ms), 2),
            "src": src,
        }
        if filters:
            entry["filters"] = filters
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            try:
                self._append(line)
            except OSError as exc:
                self._broken = True
                log.warning("search log %s cannot be written (%s); queries are not logged",
                            self.path, exc)

    def _append(self, line: bytes) -> None:
        assert self.path is not None
        if self._lock_fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(f"{self.path}.lock", os.O_WRONLY | os.O_CREAT, 0o644)
        _flock(self._lock_fd, True)
        try:
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                st = None
            if st is not None and self.rotation.due(st.st_size, st.st_mtime, len(line)):
                self._rotate()
                st = None
            if self._fd is not None and (st is None or os.fstat(self._fd).st_ino != st.st_ino):
                os.close(self._fd)  # another process rotated (or removed) the file
                self._fd = None
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.write(self._fd, line)
        finally:
            _flock(self._lock_fd, False)

    def _rotate(self) -> None:
        """``PATH.(keep-1)`` → ``PATH.keep`` … ``PATH`` → ``PATH.1`` (under the lock)."""
        assert self.path is not None
        keep = self.rotation.keep
        extra = keep + 1
        while os.path.exists(f"{self.path}.{extra}"):  # left by a larger keep
            os.unlink(f"{self.path}.{extra}")
            extra += 1
        if keep == 0:
            os.unlink(self.path)
            return
        for i in range(keep - 1, 0, -1):
            if os.path.exists(f"{self.path}.{i}"):
                os.replace(f"{self.path}.{i}", f"{self.path}.{i + 1}")
        os.replace(self.path, f"{self.path}.1")

    def close(self) -> None:
        with self._lock:
            for fd in (self._fd, self._lock_fd):
                if fd is not None:
                    os.close(fd)
            self._fd = self._lock_fd = None


def _flock(fd: int, exclusive: bool) -> None:
    try:
        import fcntl
    except ImportError:  # not Unix: one process writes the log
        return
    fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_UN)


# --------------------------------------------------------------------------- reading back


@dataclass
class QueryStats:
    """How often one normalised query was asked and what it found."""

    query: str
    count: int = 0
    zero: int = 0
    results: list[int] = field(default_factory=list)
    last: str = ""

    @property
    def median_results(self) -> int:
        ordered = sorted(self.results)
        return ordered[len(ordered) // 2] if ordered else 0


def read_log(path: Path) -> Iterator[dict]:
    """The records of a log file; lines that are not valid records are skipped."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("q"), str) and "n" in entry:
                yield entry


def _epoch(entry: dict) -> float | None:
    try:
        return datetime.fromisoformat(str(entry.get("time"))).timestamp()
    except ValueError:
        return None


def finished_queries(entries: Iterable[dict]) -> Iterator[dict]:
    """The records minus live typing steps (a live query another live query soon extends)."""
    items = list(entries)
    times = [_epoch(e) for e in items]
    for i, entry in enumerate(items):
        if entry.get("src") == "live" and times[i] is not None:
            extended = False
            for j in range(i + 1, min(len(items), i + 200)):
                if times[j] is None or times[j] - times[i] > TYPING_WINDOW:
                    break
                later = items[j]
                if (later.get("src") == "live" and len(later["q"]) > len(entry["q"])
                        and later["q"].startswith(entry["q"])):
                    extended = True
                    break
            if extended:
                continue
        yield entry


def summarize(entries: Iterable[dict], few: int = 2) -> list[QueryStats]:
    """Queries whose typical answer had at most ``few`` results, most frequent first."""
    stats: dict[str, QueryStats] = {}
    for entry in finished_queries(entries):
        query = entry["q"]
        if not query:
            continue
        item = stats.setdefault(query, QueryStats(query))
        item.count += 1
        try:
            n = int(entry["n"])
        except (TypeError, ValueError):
            continue
        item.results.append(n)
        item.zero += n == 0
        item.last = str(entry.get("time", ""))
    poor = [s for s in stats.values() if s.median_results <= few]
    return sorted(poor, key=lambda s: (-s.count, -s.zero, s.query))


def format_report(rows: list[QueryStats], path: Path, limit: int, few: int) -> str:
    """The plain-text table ``kb report --searches`` prints."""
    if not rows:
        return f"{path}: 没有结果为 0–{few} 条的查询 (no query found {few} results or fewer)\n"
    lines = [f"结果很少或没有结果的查询 (≤ {few} 条), 最常见的在前 — {path}",
             f"{'次数':>6}  {'无结果':>6}  {'结果数':>6}  查询",]
    for row in rows[:limit]:
        lines.append(f"{row.count:>8}  {row.zero:>8}  {row.median_results:>8}  {row.query}")
    if len(rows) > limit:
        lines.append(f"… 另有 {len(rows) - limit} 条 (use --limit)")
    return "\n".join(lines) + "\n"


def log_files(path: Path) -> list[Path]:
    """The readable files of the log at ``path``, oldest first: ``PATH.N`` … ``PATH.1``,
    ``PATH`` (see :class:`Rotation`)."""
    path = Path(path)
    rotated = []
    for other in path.parent.glob(path.name + ".*"):
        suffix = other.name[len(path.name) + 1:]
        if suffix.isascii() and suffix.isdigit():
            rotated.append((int(suffix), other))
    files = [p for _, p in sorted(rotated, reverse=True)] + [path]
    return [p for p in files if p.is_file() and os.access(p, os.R_OK)]


def read_logs(path: Path) -> Iterator[dict]:
    """The records of the log at ``path`` and its rotated files, oldest first."""
    for file in log_files(path):
        yield from read_log(file)


def report_searches(path: Path, few: int = 2, limit: int = 30) -> tuple[str, int]:
    """The text of ``kb report --searches`` and its exit code (2 when the log is unreadable)."""
    if not log_files(path):
        return f"search log not found: {path} (kb serve writes it; see --log)\n", 2
    rows = summarize(read_logs(path), few=few)
    return format_report(rows, path, limit, few), 0
