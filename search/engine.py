"""The search engine: open an index build, run queries, rank, group sections into pages, count
facets, make snippets.

Ranking (see :mod:`search.scoring`): BM25F over the text fields (boosts in
:data:`search.schema.FIELD_BOOSTS`), multiplied by how much of the query a section covers
(concepts weighted by rarity), so sections matching all query words come before those matching
some; an exact title or ``doc_id`` match comes first. Pages are ranked by their best section.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index

from search.indexer import LEXICON_FILE, BuildInfo, index_dir_for, read_build_info
from search.analysis import code_terms
from search.matching import Concept, Lexicon, Plan, alternative, plan, split_unknown
from search.query import ParsedQuery, parse
from search.scoring import Scorer
from search.snippets import highlight

MAX_SIZE = 100
MAX_PAGE = 1000
ARCHIVED_VALUES = {"1", "true", "yes", "all", "include", "only"}
#: page score = best section + SECTION_DAMP · (2nd section + SECTION_DAMP · (3rd …)): a page
#: that answers the query in several sections outranks one with a single equally good section
SECTION_DAMP = 0.2
#: page score × this by the page's lifecycle status: a document in force before the version it
#: replaced, a retired document or an expired notice (both still found, marked, lower)
STATUS_FACTOR = {"effective": 1.1, "superseded": 0.3, "retired": 0.3, "expired": 0.7}
#: a short document code in a query (``zd-12``, ``xxzx-zd-3``): letters-digits, digits compared
#: as numbers against the index's doc_ids
_DOC_CODE = re.compile(r"(?<![\w-])((?:[a-z]{1,8}-)+)0*(\d{1,4})(?![\w-])")


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
    #: when no page matched every word: ``{"words": [...], "missing": [...], "found": [...]}``
    #: (the query's words, those the first results lack and have): "未找到同时包含…的结果"
    partial: dict[str, list[str]] | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class _Generation:
    """One opened index build: reader, stored fields of every section, scorer, vocabulary."""

    def __init__(self, index_dir: Path, info: BuildInfo) -> None:
        self.info = info
        self.index = whoosh_index.open_dir(str(index_dir))
        self.lexicon = Lexicon.load(index_dir / LEXICON_FILE)
        self.reader = self.index.reader()
        self.stored: list[dict] = [{} for _ in range(self.reader.doc_count_all())]
        for docnum, fields in self.reader.iter_docs():  # deleted documents are skipped
            fields.setdefault("page", "")
            fields.setdefault("id", fields["page"])
            fields["tag_list"] = [t for t in fields.get("tags", "").split(",") if t]
            self.stored[docnum] = fields
        self.scorer = Scorer(self.reader, [f.get("page") for f in self.stored])
        self.facet_values: dict[str, frozenset[str]] = {}
        #: doc_id (lower case) by (prefix letters, number): ``("xxzx-zd-", 3)`` and ``("zd-", 3)``
        self.doc_codes: dict[tuple[str, int], set[str]] = {}
        for fields in self.stored:
            m = _DOC_CODE.fullmatch((fields.get("doc_id") or "").lower())
            if m:
                groups = m.group(1).split("-")[:-1]
                for i in range(len(groups)):
                    key = ("-".join(groups[i:]) + "-", int(m.group(2)))
                    self.doc_codes.setdefault(key, set()).add(fields["doc_id"].lower())

    def doc_code(self, text: str) -> list[tuple[str, str]]:
        """(as typed, doc_id) of the document codes in ``text`` (``xxzx-zd-3`` → xxzx-zd-003)."""
        out = []
        for m in _DOC_CODE.finditer(text):
            ids = self.doc_codes.get((m.group(1), int(m.group(2))), ())
            if len(ids) == 1:
                out.append((m.group(0), next(iter(ids))))
        return out

    def close(self) -> None:
        self.reader.close()


class SearchEngine:
    """Search a built site's index: the build found at first use, until :meth:`close`.

    The engine does not watch for newer builds: a long-running reader (the search service)
    swaps whole engines (:mod:`search.reload`); ``close()`` then a search opens the current one.
    """

    def __init__(self, site_dir: str | Path | None = None, *, index_dir: str | Path | None = None):
        if index_dir is None and site_dir is None:
            raise ValueError("SearchEngine needs site_dir or index_dir")
        self.index_dir = Path(index_dir) if index_dir else index_dir_for(site_dir)  # type: ignore
        self._gen: _Generation | None = None
        self._lock = threading.Lock()

    # ---------------------------------------------------------------------------- index state

    def generation(self) -> _Generation:
        """The opened index build (opened now if it is not yet)."""
        gen = self._gen
        if gen is not None:
            return gen
        with self._lock:
            if self._gen is None:
                info = read_build_info(self.index_dir)
                if info is None:
                    raise FileNotFoundError(
                        f"search: no index at {self.index_dir}; run `kb index SITE_DIR` first")
                self._gen = _Generation(self.index_dir, info)
            return self._gen

    def close(self) -> None:
        """Release the open index (the next search opens the current one again)."""
        with self._lock:
            if self._gen is not None:
                self._gen.close()
            self._gen = None

    @property
    def doc_count(self) -> int:
        """Sections in the served index."""
        return self.generation().info.documents

    def info(self) -> BuildInfo:
        """Build id, counts and timing of the index being served."""
        return self.generation().info

    def field_values(self, name: str) -> frozenset[str]:
        """The values a stored facet field (``type``, ``status``) has in this index, and those
        the build recorded as possible (:attr:`BuildInfo.vocabulary`)."""
        gen = self.generation()
        cached = gen.facet_values.get(name)
        if cached is None:
            cached = frozenset(str(s[name]) for s in gen.stored if s.get(name))
            cached |= frozenset(gen.info.vocabulary.get(name, ()))
            gen.facet_values[name] = cached
        return cached

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
        parsed.text = split_unknown(  # windows10 → windows 10 when no page has windows10
            parsed.text, lambda w: gen.scorer.known(code_terms(w)[0][0]) or bool(gen.doc_code(w)))
        resp = SearchResponse(query=q, page=page, size=size, build_id=gen.info.build_id)
        filters = _merge_filters(parsed, type=type, tag=tag, status=status)
        arch = archived or any(v in ARCHIVED_VALUES for v in filters.pop("archived", []))
        only_archived = "only" in parsed.filters.get("archived", [])
        pl = plan(parsed, gen.lexicon, gen.scorer.doc_frequency, gen.scorer.expand)
        _add_doc_codes(gen, pl, parsed)
        resp.suggestion = pl.suggestion
        if not pl.empty:
            self._run(gen, pl, parsed, filters, arch, only_archived, resp)
        resp.took_ms = round((time.perf_counter() - started) * 1000, 2)
        return resp

    def _run(self, gen, pl: Plan, parsed: ParsedQuery, filters, arch, only_arch, resp):
        stored = gen.stored
        words: dict[int, set[str]] = {}
        scores, excluded_docs = gen.scorer.score(pl, words)
        banned = {stored[d]["page"] for d in excluded_docs}
        for name, values in parsed.excluded_filters.items():
            vals = {v.lower() for v in values}
            banned.update(s["page"] for s in stored if _meta_hit(s, name, vals))

        def visible(d: int) -> bool:
            s = stored[d]
            if s["page"] in banned:
                return False
            is_arch = s.get("archived") == "1"
            return is_arch if only_arch else (arch or not is_arch)

        base = [d for d in scores if visible(d)]
        resp.facets = _facets(stored, base)
        allowed = [d for d in base if all(_meta_hit(stored[d], n, v) for n, v in filters.items())]
        pages: dict[str, list[tuple[float, int]]] = {}
        for d in allowed:
            pages.setdefault(stored[d]["page"], []).append((scores[d], d))
        resp.total = len(pages)

        def rank(secs: list[tuple[float, int]]) -> float:
            status = stored[secs[0][1]].get("status", "")
            return page_score([sc for sc, _ in secs]) * STATUS_FACTOR.get(status, 1.0)

        order = sorted(pages.values(), key=lambda secs: -rank(secs))
        start = (resp.page - 1) * resp.size
        for secs in order[start : start + resp.size]:
            secs.sort(key=lambda x: (-x[0], x[1]))
            resp.hits.append(_hit(stored, secs, pl.highlight))
        resp.partial = _partial(pl, order, words)


def _partial(pl: Plan, order: list[list[tuple[float, int]]], words: dict[int, set[str]]
             ) -> dict[str, list[str]] | None:
    """The words the best results lack, when no matching page has every word of the query."""
    asked = list(dict.fromkeys(w for c in pl.concepts for w in c.words))
    if len(asked) < 2 or pl.required or not order:
        return None
    best: set[str] | None = None
    for secs in order:
        have = set().union(*(words.get(d, set()) for _, d in secs))
        if all(w in have for w in asked):
            return None
        best = have if best is None else best
    found = [w for w in asked if w in (best or ())]
    return {"words": asked, "missing": [w for w in asked if w not in found], "found": found}


def _add_doc_codes(gen: _Generation, pl: Plan, parsed: ParsedQuery) -> None:
    """A short or lower-case document code finds its document: the full doc_id becomes an
    alternative of the concept typed, and an exact match when it is the whole query."""
    codes = gen.doc_code(parsed.text)
    for typed, doc_id in codes:
        alt = alternative(doc_id)
        if alt is None:
            continue
        for c in pl.concepts:
            if c.surface == typed or typed in c.surface:
                c.alternatives.append(alt)
                break
        else:
            pl.concepts.append(Concept(typed, [alt]))
    if len(codes) == 1 and parsed.text.strip() == codes[0][0]:
        pl.exact = codes[0][1]


def page_score(section_scores: list[float]) -> float:
    """The best section's score plus the others', each damped once more than the one before."""
    total = 0.0
    for sc in sorted(section_scores):
        total = sc + SECTION_DAMP * total
    return total


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
