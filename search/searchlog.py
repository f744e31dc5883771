"""The search log: what staff looked for and how much they found, without saying who they are.

Each answered query appends one JSON line: ``{"time": ISO-8601 UTC, "q": normalised query,
"n": total results, "ms": time taken, "src": "live" | "page" | "api", "filters": {...}}`` — no
client address, no user name, no cookie. ``kb report --searches`` reads it back with
:func:`summarize` to list the frequent queries that found nothing or little, so writers know
which synonyms or pages to add.

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


class SearchLog:
    """Appends query records to a JSON-lines file; thread-safe; never fails a request."""

    def __init__(self, path: Path | None) -> None:
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._fh = None
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
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            try:
                if self._fh is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
                self._fh.write(line)
                self._fh.flush()
            except OSError as exc:
                self._broken = True
                log.warning("search log %s cannot be written (%s); queries are not logged",
                            self.path, exc)

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None


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


def log_exists(path: Path) -> bool:
    """True when the log file exists and is readable."""
    return os.path.isfile(path) and os.access(path, os.R_OK)


def report_searches(path: Path, few: int = 2, limit: int = 30) -> tuple[str, int]:
    """The text of ``kb report --searches`` and its exit code (2 when the log is unreadable)."""
    if not log_exists(path):
        return f"search log not found: {path} (kb serve writes it; see --log)\n", 2
    rows = summarize(read_log(path), few=few)
    return format_report(rows, path, limit, few), 0
