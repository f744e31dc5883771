"""Material's fallback search index (``search/search_index.json``) written from OUR search index.

Why: Material's search plugin parses every page again and, because jieba is importable, segments
its Chinese text in ``on_page_context`` — about as much work as rendering the page. Our engine
(:mod:`search`) has already cut every page into sections for the Whoosh index, so this module
keeps the plugin (its search box, worker and options stay exactly as configured) but gives it an
index object that does no work, and writes the JSON the theme's worker loads from the sections
stored in ``SITE_DIR/.search-index`` after that index is built. The in-site search UI falls back
to this JSON when the search API is unreachable (e.g. under ``mkdocs serve``).

Chinese runs are segmented like Material does (words joined by U+200B, which the theme's
``separator`` splits on), with our segmenter (IT user dictionary); each section's result is
cached by the hash of its title and text (``segments.pickle`` under the search cache folder), so
an unchanged section costs nothing on the next build. Page flags Material honours — front matter
``search: exclude: true`` and ``search: boost``, and the ``tags`` list — are recorded per page
while pages render and kept with each page's segmented sections in
``SITE_DIR/.search-fallback.pickle``, so a ``mkdocs serve --dirty`` rebuild that renders one page
reads and segments that page only and still writes the whole index.

Theme coupling (Material 9.x), all here: the plugin instance ``config.plugins["material/search"]``,
its ``search_index`` attribute (created in its ``on_config``) with the two methods the plugin
calls — ``add_entry_from_context(page)`` and ``generate_search_index(prev) -> str`` — and the JSON
layout ``{"config": {lang, separator, pipeline, fields}, "docs": [{location, title, text, tags?,
boost?}]}``. When the plugin is missing or disabled nothing is changed.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import pickle
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from markupsafe import escape
from mkdocs.config.defaults import MkDocsConfig

from kb.atomic import write_atomic
from search.text import CJK_RUN

log = logging.getLogger("mkdocs.plugins.kb.search")

PLUGIN = "material/search"
STATE_FILE = ".search-fallback.pickle"
CACHE_FILE = "segments.pickle"
#: bump when the segmented output changes
SEGMENT_VERSION = "2"
#: up to this many pages are read from the index one by one and segmented without the cache
SMALL_UPDATE = 50
_HAN = CJK_RUN
ZWSP = "\u200b"


class DeferredIndex:
    """Stands in for Material's ``SearchIndex``: records page flags, indexes nothing."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.pages: dict[str, dict[str, Any]] = {}

    def add_entry_from_context(self, page: Any) -> None:
        """Remember what Material would honour for this page (exclude, tags, boost)."""
        meta = page.meta or {}
        search = meta.get("search") if isinstance(meta.get("search"), dict) else {}
        flags: dict[str, Any] = {}
        if search.get("exclude"):
            flags["exclude"] = True
        if "boost" in search:
            flags["boost"] = search["boost"]
        tags = meta.get("tags")
        if isinstance(tags, list):  # shown as HTML by the theme: escaped (Markup stays as it is)
            flags["tags"] = [str(escape(t)) for t in tags
                             if t and isinstance(t, (str, int, float, bool))]
        self.pages[unquote(page.url)] = flags

    def generate_search_index(self, prev: Any = None) -> str:
        """A valid but empty index; :func:`write` replaces it once our index is built."""
        return json.dumps({"config": self.config, "docs": []}, separators=(",", ":"))


def _plugin(config: MkDocsConfig) -> Any | None:
    plugin = config.plugins.get(PLUGIN)
    if plugin is None or not getattr(plugin.config, "enabled", False):
        return None
    return plugin


def install(config: MkDocsConfig) -> bool:
    """Give Material's search plugin a :class:`DeferredIndex` (call after its ``on_config``)."""
    plugin = _plugin(config)
    if plugin is None or not hasattr(plugin, "search_index"):
        return False
    if not isinstance(plugin.search_index, DeferredIndex):
        cfg = {k: plugin.config[k] for k in ("lang", "separator", "pipeline", "fields")}
        plugin.search_index = DeferredIndex(cfg)
    return True


# ------------------------------------------------------------------------------ segmentation


def segment(text: str) -> str:
    """Chinese runs cut into words joined by U+200B (as Material's plugin does)."""
    from search.analysis import cut

    def repl(m: re.Match[str]) -> str:
        return ZWSP + ZWSP.join(cut(m.group(0))) + ZWSP

    return _HAN.sub(repl, text).strip(ZWSP)


def _segment_pair(item: tuple[str, str]) -> tuple[str, str]:
    """Title and text as the theme's search shows them: as HTML, so both escaped (a heading
    that reads ``<img onerror=…>`` is text, never markup)."""
    return segment(html.escape(item[0], quote=False)), segment(html.escape(item[1], quote=False))


def section_key(title: str, text: str) -> str:
    """Cache key of one section's segmented title and text."""
    return hashlib.sha1(f"{SEGMENT_VERSION}\0{title}\0{text}".encode()).hexdigest()


class SegmentCache:
    """Segmented (title, text) by :func:`section_key`; rewritten with only the keys in use."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.data: dict[str, tuple[str, str]] = {}
        self.used: set[str] = set()
        self.misses = 0
        if path is not None and path.is_file():
            try:
                with open(path, "rb") as fh:
                    self.data = pickle.load(fh)
            except (OSError, pickle.PickleError, EOFError, ValueError) as exc:
                log.info("search: fallback segment cache unreadable (%s); starting afresh", exc)
                self.data = {}

    def resolve(self, items: list[tuple[str, str]], procs: int) -> list[tuple[str, str]]:
        """Segmented pairs for ``items`` (title, text), computing only the missing ones."""
        keys = [section_key(t, x) for t, x in items]
        todo = {k: it for k, it in zip(keys, items) if k not in self.data}
        self.misses = len(todo)
        if todo:
            from search.lexicon import segmenter

            pending = list(todo.items())
            if procs > 1 and len(pending) > 400:
                from kb.workers import pool

                with pool(procs, segmenter) as workers:  # spawned, each loads the dictionary
                    done = workers.map(_segment_pair, [it for _, it in pending], chunksize=64)
            else:
                segmenter()
                done = [_segment_pair(it) for _, it in pending]
            self.data.update((k, v) for (k, _), v in zip(pending, done))
        self.used.update(keys)
        return [self.data[k] for k in keys]

    def save(self) -> None:
        if self.path is None:
            return
        keep = {k: self.data[k] for k in self.used if k in self.data}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, pickle.dumps(keep, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError as exc:  # a cache that cannot be written only costs time next build
            log.info("search: fallback segment cache not written (%s)", exc)


# ------------------------------------------------------------------------------------ output


def sections(index_dir: Path, urls: set[str] | None = None) -> list[dict[str, Any]]:
    """Stored fields of the sections of our Whoosh index (of the pages at ``urls``), in order."""
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(index_dir))
    with ix.searcher() as searcher:
        if urls is None or len(urls) > SMALL_UPDATE:
            found = ((n, f) for n, f in searcher.reader().iter_docs())
        else:
            found = ((n, searcher.stored_fields(n)) for url in urls
                     for n in searcher.document_numbers(page=url))
        return [f for _, f in sorted(found, key=lambda x: x[0])
                if urls is None or f.get("page", "") in urls]


def _manifest(index_dir: Path) -> dict[str, dict[str, Any]]:
    """rel → {key, url, ...} of the index's pages (``pages.json`` of :mod:`search.indexer`)."""
    try:
        data = json.loads((index_dir / "pages.json").read_text(encoding="utf-8"))
        return {rel: e for rel, e in data["pages"].items() if "key" in e and "url" in e}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


Segmented = tuple[str, str, str, str]  # location, page URL, title, text (segmented)


#: segmented sections of the pages a background process staged (:mod:`search.mkdocs.background`),
#: written next to its stage folder: ``SITE_DIR/.search-index.stage.fallback``
STAGED_SUFFIX = ".fallback"


def staged_segments_path(stage: Path) -> Path:
    """Where the process that wrote the stage folder ``stage`` saves its segmented pages."""
    return stage.with_name(stage.name + STAGED_SUFFIX)


def wanted(config: MkDocsConfig) -> bool:
    """True when this build writes the theme's index from ours (see :func:`install`)."""
    plugin = _plugin(config)
    return plugin is not None and isinstance(getattr(plugin, "search_index", None),
                                             DeferredIndex)


def page_segments(docs: list[dict[str, Any]]) -> list[Segmented]:
    """The segmented sections of one page from its index documents: what :func:`write` would
    make of them after reading them back from the index (run by the staging processes)."""
    out: list[Segmented] = []
    for doc in docs:
        title = (doc.get("_stored_heading") or doc.get("_stored_title") or "").strip()
        seg_title, seg_text = _segment_pair((title, (doc.get("content") or "").strip()))
        out.append((doc["id"], doc.get("page", ""), seg_title, seg_text))
    return out


def write_staged(path: Path, pages: dict[str, tuple[str, list[Segmented]]]) -> None:
    """Save a staging process's segmented pages (rel → (index key, sections))."""
    write_atomic(path, pickle.dumps({"version": SEGMENT_VERSION, "pages": pages},
                                    protocol=pickle.HIGHEST_PROTOCOL))


def _take_staged(site: Path) -> dict[str, tuple[str, list[Segmented]]]:
    """Segmented pages left by this build's staging processes (the files are removed)."""
    pages: dict[str, tuple[str, list[Segmented]]] = {}
    from search.indexer import stage_dir_for

    for path in sorted(site.glob(f"{stage_dir_for(site).name}*{STAGED_SUFFIX}")):
        try:
            with open(path, "rb") as fh:
                data = pickle.load(fh)
            if data.get("version") == SEGMENT_VERSION:
                pages.update(data["pages"])
        except (OSError, pickle.PickleError, EOFError, ValueError, AttributeError, KeyError):
            pass
        path.unlink(missing_ok=True)
    return pages


def _load_state(site: Path) -> dict[str, Any]:
    try:
        with open(site / STATE_FILE, "rb") as fh:
            state = pickle.load(fh)
        if state.get("version") == SEGMENT_VERSION:
            return state
    except (OSError, pickle.PickleError, EOFError, ValueError, AttributeError):
        pass
    return {"version": SEGMENT_VERSION, "flags": {}, "pages": {}}


def _save_state(site: Path, state: dict[str, Any]) -> None:
    write_atomic(site / STATE_FILE, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))


def _segment_pages(secs: list[dict[str, Any]], cache_dir: Path | None,
                   procs: int) -> tuple[dict[str, list[Segmented]], int]:
    """Segmented sections grouped by page URL; the shared cache is used for big batches."""
    pairs = [((s.get("heading") or s.get("title") or "").strip(), (s.get("content") or "").strip())
             for s in secs]
    if len(secs) > SMALL_UPDATE:
        from search.lexicon import cache_root

        cache = SegmentCache((cache_dir or cache_root()) / CACHE_FILE)
        done = cache.resolve(pairs, procs)
        cache.save()
        misses = cache.misses
    else:
        done, misses = [_segment_pair(p) for p in pairs], len(pairs)
    by_page: dict[str, list[Segmented]] = {}
    for sec, (title, text) in zip(secs, done):
        url = sec.get("page", "")
        by_page.setdefault(url, []).append((sec["id"], url, title, text))
    return by_page, misses


def _entry(sec: Segmented, flags: dict[str, dict[str, Any]]) -> dict[str, Any]:
    entry: dict[str, Any] = {"location": sec[0], "title": sec[2], "text": sec[3]}
    page = flags.get(unquote(sec[1]), {})
    if "tags" in page:
        entry["tags"] = page["tags"]
    if "boost" in page:
        entry["boost"] = page["boost"]
    return entry


def write(config: MkDocsConfig, index_dir: Path, cache_dir: Path | None = None) -> int | None:
    """Write ``search/search_index.json`` from our index; return its entry count (None: not ours).

    Pages whose index key (``pages.json``) is the one of the previous build reuse their
    segmented sections from ``SITE_DIR/.search-fallback.pickle``, or from what the staging
    processes segmented during this build; only the others are read from the index and
    segmented (so a one-page edit under ``mkdocs serve`` costs one page).
    """
    if not wanted(config):
        return None
    site = Path(config.site_dir)
    deferred: DeferredIndex = _plugin(config).search_index
    state = _load_state(site)
    flags: dict[str, dict[str, Any]] = {**state["flags"], **deferred.pages}
    manifest = _manifest(index_dir)
    old_pages: dict[str, tuple[str, list[Segmented]]] = {**state["pages"], **_take_staged(site)}
    stale = {e["url"] for rel, e in manifest.items()
             if rel not in old_pages or old_pages[rel][0] != e["key"]}
    secs = sections(index_dir, stale if manifest else None)
    fresh, misses = _segment_pages(secs, cache_dir, procs=min(os.cpu_count() or 1, 2))
    pages: dict[str, tuple[str, list[Segmented]]] = {}
    for rel, e in sorted(manifest.items()):
        url = e["url"]
        pages[rel] = (e["key"], fresh.get(url, [])) if url in stale else old_pages[rel]
    if not manifest:  # no manifest: everything read above, in index order
        pages = {url: ("", segs) for url, segs in fresh.items()}
    _save_state(site, {"version": SEGMENT_VERSION, "flags": flags, "pages": pages})
    docs = [_entry(sec, flags) for _, segs in pages.values() for sec in segs
            if not flags.get(unquote(sec[1]), {}).get("exclude")]
    out = site / "search" / "search_index.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"config": deferred.config, "docs": docs}, ensure_ascii=False,
                              separators=(",", ":"), default=str), encoding="utf-8")
    log.info("search: fallback index of %d sections (%d pages read from the index, %d sections "
             "segmented now)", len(docs), len(stale) if manifest else len(fresh), misses)
    return len(docs)


#: what a static copy of the site answers to the pages' one probe of the service
#: (``kbService()`` in kb.js): kb serve and the nginx recipe answer ``/api/`` themselves and
#: never serve this file, so only a copy without the service shows it (no 404 in the console)
STATIC_HEALTH = {"status": "static",
                 "message": "静态副本：没有搜索服务，使用离线检索；阅知确认与反馈不可用"}


def write_static_health(site_dir: str) -> None:
    """Write ``SITE_DIR/api/health`` (:data:`STATIC_HEALTH`)."""
    path = Path(site_dir, "api", "health")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(STATIC_HEALTH, ensure_ascii=False).encode("utf-8"))
