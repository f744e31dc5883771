"""The search service's view of the engine: open one index build, answer one query.

:class:`search.engine.SearchEngine` answers from the build it opened; the service opens every
build as a new engine (see :mod:`search.reload`) so it can keep the old build answering until
the new one is fully loaded. To make one opened build independent of later renames
(the indexer moves ``.search-index`` to ``.search-index.old`` and the new folder into its
place), the engine is given the folder through an open directory descriptor
(``/proc/self/fd/N``): per-thread searchers opened later still read the files of *their* build.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from search.engine import SearchEngine
from search.params import check_facets

log = logging.getLogger("mkdocs.plugins.kb.search.service")

#: queries run once when a build is opened, so no staff query is the first to touch a path of
#: the engine: Chinese and English words, an English typo (did-you-mean), a Chinese homophone
#: typo (pinyin repair), pinyin, a filter
WARM_UP_QUERIES = ("账号 password", "pasword", "备分", "mima", "网络 type:policy")


def warm_up_process() -> None:
    """Load once per process what any query may need: jieba with our dictionary, stop words,
    synonyms and pypinyin (imported lazily otherwise, 0.5–4 s on the first query that needs
    it). Starts no thread, so it may run before worker processes are forked (they share it)."""
    from search import analysis, lexicon

    lexicon.segmenter()
    lexicon.stopwords()
    lexicon.synonyms()
    analysis.pinyin_key("备份")
    analysis.pinyin_terms("备份")


def process_is_warm() -> bool:
    """True when this process has jieba's dictionary and pypinyin loaded (for /api/health)."""
    from search import lexicon

    return getattr(lexicon, "_tokenizer", None) is not None and "pypinyin.core" in sys.modules


class OpenedIndex:
    """One index build, pinned by a directory descriptor, with its engine."""

    def __init__(self, index_dir: Path) -> None:
        self.fd: int | None = None
        path = Path(index_dir)
        if os.path.isdir("/proc/self/fd"):
            self.fd = os.open(index_dir, os.O_RDONLY | os.O_DIRECTORY)
            path = Path(f"/proc/self/fd/{self.fd}")
        try:
            self.engine = SearchEngine(index_dir=path)
            self.info = self.engine.info()
        except BaseException:
            self.close()
            raise
        try:
            for query in WARM_UP_QUERIES:
                self.engine.search(query, size=1)
        except Exception:  # noqa: BLE001 - a failed warm-up only makes the first query slower
            log.warning("search warm-up query failed on %s", index_dir, exc_info=True)

    @property
    def build_id(self) -> str:
        return self.info.build_id

    @property
    def doc_count(self) -> int:
        return self.info.documents

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def open_engine(index_dir: Path) -> OpenedIndex:
    """Open (and warm up) the index build in ``index_dir``, and the process if it is not yet."""
    warm_up_process()
    return OpenedIndex(index_dir)


def run_search(opened: OpenedIndex, q: str, *, types: list[str], tags: list[str],
               statuses: list[str], archived: bool, page: int, size: int) -> dict:
    """Answer one validated query: ``{total, hits, facets, suggestion, partial}``.

    Facets are keyed like the API's filter parameters: ``type``, ``tag``, ``status``.
    """
    check_facets({"type": types, "status": statuses}, opened.engine.field_values)
    resp = opened.engine.search(q, type=types or None, tag=tags or None,
                                status=statuses or None, archived=archived, page=page,
                                size=size)
    facets = resp.facets or {}
    return {
        "total": resp.total,
        "hits": resp.hits,
        "facets": {"type": facets.get("type", {}), "tag": facets.get("tags", {}),
                   "status": facets.get("status", {})},
        "suggestion": resp.suggestion,
        "partial": resp.partial,
    }
