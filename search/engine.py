"""The search engine: open an index (and reopen it when a new build replaces it), run queries,
rank, group sections into pages, count facets, make snippets.

Ranking: Whoosh BM25F over the text fields (boosts in :data:`search.schema.FIELD_BOOSTS`) gives
candidates; each candidate's score is then multiplied by how much of the query it covers
(concepts weighted by rarity), so sections matching all query words come before those matching
some; an exact title or ``doc_id`` match comes first. Pages are ranked by their best section.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.scoring import BM25F

from search.indexer import BUILD_FILE, LEXICON_FILE, BuildInfo, index_dir_for, read_build_info
from search.matching import Lexicon, Plan, plan
from search.query import ParsedQuery, parse
from search.schema import FIELD_B
from search.snippets import highlight

CANDIDATES = 300
MAX_SIZE = 100
MAX_PAGE = 1000
RELOAD_CHECK_SECONDS = 1.0
ARCHIVED_VALUES = {"1", "true", "yes", "all", "include", "only"}


@dataclass
class SearchResponse:
    """One answer: the page of hits plus totals, facets, suggestion and timing."""

    query: str
    total: int = 0
    took_ms: float = 0.0
    hits: list[dict] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestion: str | None = None
    page: int = 1
    size: int = 10
    build_id: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


class _Generation:
    """One opened index build with its document table and per-thread searchers."""

    def __init__(self, index_dir: Path, info: BuildInfo) -> None:
        self.info = info
        self.index = whoosh_index.open_dir(str(index_dir))
        self.lexicon = Lexicon.load(index_dir / LEXICON_FILE)
        self._local = threading.local()
        self.stored: list[dict] = []
        with self.index.reader() as reader:
            for _docnum, fields in reader.iter_docs():
                fields["tag_list"] = [t for t in fields.get("tags", "").split(",") if t]
                self.stored.append(fields)

    def searcher(self):
        s = getattr(self._local, "searcher", None)
        if s is None:
            s = self.index.searcher(weighting=BM25F(B=0.75, K1=1.2, **FIELD_B))
            self._local.searcher = s
        return s


class SearchEngine:
    """Search a built site's index; reopens the index when ``build.json`` changes."""

    def __init__(self, site_dir: str | Path | None = None, *, index_dir: str | Path | None = None):
        if index_dir is None and site_dir is None:
            raise ValueError("SearchEngine needs site_dir or index_dir")
        self.index_dir = Path(index_dir) if index_dir else index_dir_for(site_dir)  # type: ignore
        self._gen: _Generation | None = None
        self._lock = threading.Lock()
        self._checked = 0.0
        self._stamp: tuple[int, int] | None = None

    # ---------------------------------------------------------------------------- index state

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = (self.index_dir / BUILD_FILE).stat()
            return (st.st_mtime_ns, st.st_ino)
        except OSError:
            return None

    def generation(self) -> _Generation:
        """The current index build, reopened when a newer one has been moved into place."""
        now = time.monotonic()
        gen = self._gen
        if gen is not None and now - self._checked < RELOAD_CHECK_SECONDS:
            return gen
        with self._lock:
            self._checked = now
            stamp = self._stat()
            if self._gen is not None and (stamp is None or stamp == self._stamp):
                return self._gen  # unchanged, or mid-swap: keep answering from the open one
            info = read_build_info(self.index_dir)
            if info is None:
                if self._gen is not None:
                    return self._gen
                raise FileNotFoundError(
                    f"search: no index at {self.index_dir}; run `kb index SITE_DIR` first"
                )
            if self._gen is None or info.build_id != self._gen.info.build_id:
                self._gen = _Generation(self.index_dir, info)
            self._stamp = stamp
            return self._gen

    def info(self) -> BuildInfo:
        """Build id, counts and timing of the index being served."""
        return self.generation().info

    # ---------------------------------------------------------------------------------- search

    def search(
        self,
        q: str,
        *,
        type: str | list[str] | None = None,  # noqa: A002 - the API's parameter name
        tag: str | list[str] | None = None,
        status: str | list[str] | None = None,
        archived: bool = False,
        page: int = 1,
        size: int = 10,
    ) -> SearchResponse:
        """Answer ``q``: one hit per page (best section first, other sections under it)."""
        started = time.perf_counter()
        page = min(max(1, int(page)), MAX_PAGE)
        size = min(max(1, int(size)), MAX_SIZE)
        gen = self.generation()
        parsed = parse(q)
        resp = SearchResponse(query=q, page=page, size=size, build_id=gen.info.build_id)
        filters = _merge_filters(parsed, type=type, tag=tag, status=status)
        arch = archived or any(v in ARCHIVED_VALUES for v in filters.pop("archived", []))
        only_archived = "only" in parsed.filters.get("archived", [])
        searcher = gen.searcher()
        reader = searcher.reader()

        def df(word: str) -> int:
            return reader.doc_frequency("text", word)

        def expand(prefix: str) -> list[str]:
            out = []
            for term in reader.expand_prefix("text", prefix):
                out.append(term.decode("utf-8") if isinstance(term, bytes) else term)
                if len(out) >= 24:
                    break
            return out

        pl = plan(parsed, gen.lexicon, df, expand)
        resp.suggestion = pl.suggestion
        if not pl.empty:
            self._run(gen, searcher, pl, parsed, filters, arch, only_archived, resp)
        resp.took_ms = round((time.perf_counter() - started) * 1000, 2)
        return resp

    def _run(self, gen, searcher, pl: Plan, parsed: ParsedQuery, filters, arch, only_arch, resp):
        stored = gen.stored
        main = _main_query(pl)
        matched = set(main.docs(searcher))
        banned: set[str] = set()
        for eq in pl.excluded:
            banned.update(stored[d]["page"] for d in eq.docs(searcher))
        for name, values in parsed.excluded_filters.items():
            vals = {v.lower() for v in values}
            banned.update(s["page"] for d, s in enumerate(stored) if _meta_hit(s, name, vals))

        def visible(d: int) -> bool:
            s = stored[d]
            if s["page"] in banned:
                return False
            is_arch = s.get("archived") == "1"
            return is_arch if only_arch else (arch or not is_arch)

        base = {d for d in matched if visible(d)}
        resp.facets = _facets(stored, base)
        allowed = {d for d in base if all(_meta_hit(stored[d], n, v) for n, v in filters.items())}
        resp.total = len({stored[d]["page"] for d in allowed})
        if not allowed:
            return
        results = searcher.search(main, limit=CANDIDATES, filter=allowed)
        ranked = self._rerank(searcher, pl, [(h.docnum, h.score) for h in results], len(stored))
        pages: dict[str, list[tuple[float, int]]] = {}
        for score, docnum in ranked:
            pages.setdefault(stored[docnum]["page"], []).append((score, docnum))
        order = sorted(pages.values(), key=lambda secs: -secs[0][0])
        start = (resp.page - 1) * resp.size
        for secs in order[start : start + resp.size]:
            resp.hits.append(_hit(stored, secs, pl.highlight))

    def _rerank(self, searcher, pl: Plan, cands: list[tuple[int, float]], ndocs: int):
        """Multiply BM25F scores by weighted query coverage; exact title/doc_id matches first."""
        if not cands:
            return []
        ids = {d for d, _ in cands}
        cover: dict[int, float] = dict.fromkeys(ids, 0.0)
        total = 0.0
        for c in pl.concepts:
            hits = set(c.query.docs(searcher))
            w = c.weight * math.log(1 + ndocs / (1 + len(hits)))
            total += w
            for d in hits & ids:
                cover[d] += w
        for rq in pl.required:
            total += 1.0
            for d in set(rq.docs(searcher)) & ids:
                cover[d] += 1.0
        exact = set(Q.Term("exact", pl.exact).docs(searcher)) & ids if pl.exact else set()
        out = []
        for d, score in cands:
            frac = cover[d] / total if total else 1.0
            final = score * (0.25 + 0.75 * frac * frac)
            if d in exact:
                final += 1000.0
            out.append((final, d))
        out.sort(key=lambda x: (-x[0], x[1]))
        return out


def _main_query(pl: Plan) -> Q.Query:
    parts = [c.query if c.weight == 1.0 else _boosted(c.query, c.weight) for c in pl.concepts]
    optional = Q.Or(parts + pl.bonus) if parts else None
    if pl.required:
        return Q.And(pl.required + ([optional] if optional else []))
    return optional  # type: ignore[return-value]


def _boosted(q: Q.Query, w: float) -> Q.Query:
    q = q.copy()
    q.boost *= w
    return q


def _merge_filters(parsed: ParsedQuery, **explicit) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {k: {v.lower() for v in vs} for k, vs in parsed.filters.items()}
    for name, value in explicit.items():
        if value:
            values = [value] if isinstance(value, str) else list(value)
            key = "tags" if name == "tag" else name
            out.setdefault(key, set()).update(v.strip().lower() for v in values if v.strip())
    return out


def _meta_hit(s: dict, name: str, values: set[str]) -> bool:
    if name == "tags":
        return any(t.lower() in values for t in s["tag_list"])
    return (s.get(name) or "").lower() in values


def _facets(stored: list[dict], docs: set[int]) -> dict[str, dict[str, int]]:
    """Pages per type, tag and status among the matching sections."""
    seen: dict[str, set[str]] = {"type": set(), "tags": set(), "status": set()}
    counts: dict[str, dict[str, int]] = {k: {} for k in seen}
    for d in docs:
        s = stored[d]
        page = s["page"]
        for name in ("type", "status"):
            value = s.get(name)
            if value and (key := f"{value}\0{page}") not in seen[name]:
                seen[name].add(key)
                counts[name][value] = counts[name].get(value, 0) + 1
        for tag in s["tag_list"]:
            if (key := f"{tag}\0{page}") not in seen["tags"]:
                seen["tags"].add(key)
                counts["tags"][tag] = counts["tags"].get(tag, 0) + 1
    return {k: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))) for k, v in counts.items()}


def _url(s: dict) -> str:
    return s["id"]


def _hit(stored: list[dict], secs: list[tuple[float, int]], terms: list[str]) -> dict:
    score, best = secs[0]
    s = stored[best]
    return {
        "url": _url(s),
        "page": s["page"],
        "title": s.get("title", ""),
        "section": s.get("heading", ""),
        "crumbs": s.get("crumbs", ""),
        "type": s.get("type", ""),
        "doc_id": s.get("doc_id", ""),
        "version": s.get("version", ""),
        "status": s.get("status", ""),
        "tags": s["tag_list"],
        "updated": s.get("updated", ""),
        "archived": s.get("archived") == "1",
        "score": round(score, 4),
        "snippet": highlight(s.get("content", ""), terms),
        "sections": [
            {"url": _url(stored[d]), "section": stored[d].get("heading", ""),
             "score": round(sc, 4)}
            for sc, d in secs[1:6]
        ],
    }
