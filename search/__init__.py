"""InfoCenter KB search: a Chinese-first engine on Whoosh, fed from the built site's HTML.

Public API::

    from search import build_index, SearchEngine, index_dir_for

    info = build_index("site")                 # writes site/.search-index, returns BuildInfo
    engine = SearchEngine("site")               # the build there now (kb serve swaps builds)
    resp = engine.search("口令 过期", type="policy", page=1, size=10)
    resp.to_dict()  # query, total, took_ms, hits, facets, suggestion, page, size, build_id
"""

from __future__ import annotations

from search.engine import SearchEngine, SearchResponse
from search.indexer import BuildInfo, build_index, index_dir_for, read_build_info
from search.query import MAX_QUERY_CHARS

__all__ = [
    "MAX_QUERY_CHARS",
    "BuildInfo",
    "SearchEngine",
    "SearchResponse",
    "build_index",
    "index_dir_for",
    "read_build_info",
]
