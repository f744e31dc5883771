"""Feedback stored in SQLite: one row per vote, a rate-limit table, the per-owner report.

The database sits next to the site folder (like the search log), never inside what is served:
``<parent>/<site>-feedback.sqlite3``. Every ``kb serve`` worker process opens it; SQLite's
locking (WAL, a busy timeout) lets them write one at a time. Nothing that identifies a reader is
stored unless the service was told to trust a proxy header (:mod:`kb.feedback.api`); the
rate-limit table keeps a salted hash of the client address for a few minutes only.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,              -- UTC, ISO 8601
    page TEXT NOT NULL,            -- site path of the page, /policies/network/
    title TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    helpful INTEGER NOT NULL CHECK (helpful IN (0, 1)),
    comment TEXT NOT NULL DEFAULT '',
    reader TEXT                    -- only from a trusted proxy header, else NULL
);
CREATE TABLE IF NOT EXISTS rate (
    client TEXT NOT NULL,          -- salted hash of the client address
    at REAL NOT NULL               -- seconds since the epoch
);
CREATE INDEX IF NOT EXISTS rate_client ON rate (client, at);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def default_path(site_dir: Path) -> Path:
    """``<parent>/<site>-feedback.sqlite3``: beside the search log, outside the served folder."""
    site_dir = Path(site_dir).resolve()
    return site_dir.parent / f"{site_dir.name}-feedback.sqlite3"


@dataclass(frozen=True)
class Vote:
    page: str
    title: str
    owner: str
    helpful: bool
    comment: str
    reader: str | None


class RateLimited(Exception):
    """Too many votes from one client within the window."""


class FeedbackStore:
    """One worker's connection to the feedback database (thread-safe)."""

    def __init__(self, path: Path, *, limit: int = 5, window: float = 60.0) -> None:
        self.path = Path(path)
        self.limit, self.window = limit, window
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=10, check_same_thread=False,
                                   isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=10000")
        # the workers of one kb serve open a new file at the same moment: switching it to WAL
        # answers "database is locked" at once (no busy wait) to all but one, so try again
        for attempt in range(100):
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                with self._lock:
                    self._db.executescript(SCHEMA)
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 99:
                    raise
                time.sleep(0.1)
        self.salt = self._setting("salt", lambda: secrets.token_hex(16))

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _setting(self, name: str, make) -> str:
        with self._tx() as db:
            row = db.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
            if row:
                return row[0]
            value = make()
            db.execute("INSERT INTO settings (name, value) VALUES (?, ?)", (name, value))
            return value

    def client_key(self, address: str) -> str:
        return hashlib.sha256(f"{self.salt}:{address}".encode()).hexdigest()[:32]

    def add(self, vote: Vote, client: str, now: float, at: _dt.datetime) -> int:
        """Store ``vote``; :class:`RateLimited` when ``client`` voted ``limit`` times already
        within the window (checked and written in one transaction: workers cannot race)."""
        key = self.client_key(client)
        with self._tx() as db:
            db.execute("DELETE FROM rate WHERE at < ?", (now - self.window,))
            (count,) = db.execute("SELECT COUNT(*) FROM rate WHERE client = ? AND at >= ?",
                                  (key, now - self.window)).fetchone()
            if count >= self.limit:
                raise RateLimited
            db.execute("INSERT INTO rate (client, at) VALUES (?, ?)", (key, now))
            cur = db.execute(
                "INSERT INTO feedback (at, page, title, owner, helpful, comment, reader) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (at.isoformat(timespec="seconds"), vote.page, vote.title, vote.owner,
                 int(vote.helpful), vote.comment, vote.reader))
            return int(cur.lastrowid or 0)

    def rows(self) -> list[sqlite3.Row]:
        with self._lock:
            self._db.row_factory = sqlite3.Row
            try:
                return list(self._db.execute(
                    "SELECT at, page, title, owner, helpful, comment, reader FROM feedback "
                    "ORDER BY owner, page, at"))
            finally:
                self._db.row_factory = None

    def close(self) -> None:
        with self._lock:
            self._db.close()


def report(path: Path, *, comments: int = 5) -> list[str]:
    """Lines of ``kb report --feedback``: per owner (归口部门), each page's 有帮助/没帮助 counts,
    pages with the most 没帮助 first, and its latest comments."""
    if not Path(path).is_file():
        return [f"页面反馈：没有反馈数据（{path} 不存在；反馈由 kb serve 收集）"]
    store = FeedbackStore(path)
    try:
        rows = store.rows()
    finally:
        store.close()
    lines = [f"页面反馈（{len(rows)} 条，{path}）："]
    if not rows:
        return lines + ["  无"]
    owners: dict[str, dict[str, list[sqlite3.Row]]] = {}
    for row in rows:
        owners.setdefault(row["owner"] or "（无归口部门的页面）", {}).setdefault(
            row["page"], []).append(row)
    for owner in sorted(owners):
        pages = owners[owner]
        total = sum(len(v) for v in pages.values())
        lines.append(f"  {owner}（{total} 条）")
        def order(item: tuple[str, list[sqlite3.Row]]) -> tuple[int, str]:
            return (-sum(1 for r in item[1] if not r["helpful"]), item[0])
        for page, votes in sorted(pages.items(), key=order):
            yes = sum(1 for r in votes if r["helpful"])
            title = votes[-1]["title"] or page
            lines.append(f"    {title}  {page}  有帮助 {yes} · 没帮助 {len(votes) - yes}")
            said = [r for r in votes if r["comment"]][-comments:]
            for r in reversed(said):
                mark = "有帮助" if r["helpful"] else "没帮助"
                lines.append(f"      {r['at'][:10]} {mark}：{r['comment']}")
    return lines
