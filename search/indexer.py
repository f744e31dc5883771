"""Build the search index of a built site: ``SITE_DIR/.search-index/``, replaced whole.

Steps: find the HTML pages; in worker processes (both cores; spawned and owned by a ``with``
block, :func:`kb.workers.pool`) slice each page and hash the slice;
a page whose hash equals the previous index's (``pages.json``) costs nothing more; others take
their analysed documents from the cache (keyed by that hash, the analysis version and the
dictionaries) or are parsed and analysed. The documents are written with one Whoosh writer into
a temporary folder next to the target (a copy of the previous index when there is one, updated
in place); then ``lexicon.json`` (homophones, English words), ``pages.json`` (page hashes) and
``build.json`` (build id, counts) are added and the folder is renamed into place. The previous index is kept
as ``.search-index.old`` until the next build, so a server still reading it is never cut off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import shutil
import sqlite3
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from search.analysis import ANALYSIS_VERSION
from search.documents import analyze_sliced
from search.extract import slice_page
from search.gcpolicy import gc_paused, worker_gc
from search.lexicon import cache_root, data_fingerprint, segmenter
from search.writer import (
    BUILD_FILE,
    LEXICON_FILE,
    MANIFEST_FILE,
    BuildInfo,
    IndexBuilder,
    read_build_info,
    read_manifest,
)

log = logging.getLogger("mkdocs.plugins.kb.search")

INDEX_NAME = ".search-index"
__all__ = ["BUILD_FILE", "LEXICON_FILE", "MANIFEST_FILE", "BuildInfo", "build_index",
           "index_dir_for", "read_build_info"]
SKIP_FILES = frozenset(("404.html",))
#: more pages than this to analyse are worth starting worker processes for
POOL_MIN_JOBS = 32


def index_dir_for(site_dir: str | os.PathLike[str]) -> Path:
    """Where the index of a built site lives: ``SITE_DIR/.search-index`` (never served)."""
    return Path(site_dir) / INDEX_NAME


def stage_dir_for(site_dir: str | os.PathLike[str]) -> Path:
    """Where a build stages a new index (``SITE_DIR/.search-index.stage``, see
    :mod:`search.mkdocs.background`)."""
    return Path(site_dir) / f"{INDEX_NAME}.stage"


def needs_stage(site_dir: str | os.PathLike[str]) -> bool:
    """True when the site folder holds no complete index of the current analysis, so a build
    writes a new one from scratch (worth staging during the build)."""
    info = read_build_info(index_dir_for(site_dir))  # written last, after pages.json
    return info is None or info.analysis != analysis_salt()


def html_pages(site_dir: Path) -> list[str]:
    """Site-relative paths of the HTML pages, sorted; dot folders and 404 pages left out."""
    out = []
    for root, dirs, files in os.walk(site_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel_root = os.path.relpath(root, site_dir)
        for name in files:
            if not name.endswith(".html"):
                continue
            rel = name if rel_root == "." else f"{rel_root}/{name}".replace(os.sep, "/")
            if rel not in SKIP_FILES:
                out.append(rel)
    return sorted(out)


# ----------------------------------------------------------------------------- analysis cache


class AnalysisCache:
    """Analysed documents by content hash, in one SQLite file shared by all builds."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(path, timeout=30)
                self.db.execute("CREATE TABLE IF NOT EXISTS docs (key TEXT PRIMARY KEY, v BLOB)")
            except sqlite3.Error as exc:  # a broken cache only costs time
                log.warning("search: analysis cache disabled (%s: %s)", path, exc)
                self.db = None

    def get(self, key: str) -> list[dict] | None:
        if self.db is None:
            return None
        row = self.db.execute("SELECT v FROM docs WHERE key=?", (key,)).fetchone()
        return pickle.loads(zlib.decompress(row[0])) if row else None

    def put_many(self, items: list[tuple[str, list[dict]]]) -> None:
        if self.db is None or not items:
            return
        rows = [(k, zlib.compress(pickle.dumps(v, protocol=5), 1)) for k, v in items]
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO docs VALUES (?, ?)", rows)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


class PageResult(NamedTuple):
    """What indexing made of one page file."""

    rel: str
    key: str  #: analysis key ("" for a page left out)
    status: str  #: "same" | "cached" | "analysed" | "skip"
    docs: list[dict] | None = None
    words: list[str] | None = None
    raw: str | None = None  #: digest of the file's bytes, when read


@dataclass
class PageJobs:
    """What a page job needs to know: the analysis salt, the previous index's keys, file stats
    and digests, and the analysis cache (opened in the process that runs the jobs)."""

    cache_path: str | None
    salt: str
    known: dict[str, str]
    stats: dict[str, list[int]] = field(default_factory=dict)
    raws: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cache = AnalysisCache(Path(self.cache_path)) if self.cache_path else None

    def unchanged(self, job: tuple[str, str]) -> PageResult | None:
        """The page as recorded in the previous manifest, when its file is that page: not
        rewritten (same mtime and size, as after ``mkdocs --dirty``) or rewritten with the same
        bytes."""
        relpath, fullpath = job
        key = self.known.get(relpath)
        if key is not None and self.stats.get(relpath) == file_stat(fullpath):
            return PageResult(relpath, key, "same")
        recorded = self.raws.get(relpath) if key is not None else self.skipped.get(relpath)
        if recorded is None:
            return None
        with open(fullpath, "rb") as fh:
            raw = raw_digest(fh.read())
        if raw != recorded:
            return None
        return PageResult(relpath, key, "same", raw=raw) if key is not None else \
            PageResult(relpath, "", "skip", raw=raw)

    def process(self, job: tuple[str, str]) -> PageResult:
        """A page :meth:`unchanged` did not recognise: read, slice and hash it; the same slice
        as the last index → nothing more; else its analysis from the cache or made now."""
        relpath, fullpath = job
        with open(fullpath, "rb") as fh:
            data = fh.read()
        raw = raw_digest(data)
        text = data.decode("utf-8", errors="replace")
        if "\r" in text:  # read as text files are (universal newlines), as the key always was
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        sliced = slice_page(text)
        if sliced is None:
            return PageResult(relpath, "", "skip", raw=raw)
        key = page_key(self.salt, relpath, sliced)
        if self.known.get(relpath) == key:
            return PageResult(relpath, key, "same", raw=raw)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return PageResult(relpath, key, "cached", hit[0], hit[1], raw)
        docs, words = analyze_sliced(relpath, sliced)
        return PageResult(relpath, key, "analysed", docs, words, raw)


#: the jobs of a pool process (set by its initializer; a pool process runs one build's jobs)
_pool_jobs: PageJobs | None = None


def _init_pool_worker(*args) -> None:
    """Initialise a pool process: jieba loaded, and no collector walking its analyses (they
    make no garbage cycles; the process ends with the pool)."""
    global _pool_jobs
    segmenter()
    worker_gc()
    _pool_jobs = PageJobs(*args)


def _process_in_pool(job: tuple[str, str]) -> PageResult:
    assert _pool_jobs is not None, "pool process without its initializer"
    return _pool_jobs.process(job)


def file_stat(path: str | os.PathLike[str]) -> list[int]:
    """[mtime_ns, size] of a page file: unchanged means not rewritten since the last index."""
    st = os.stat(path)
    return [st.st_mtime_ns, st.st_size]


def raw_digest(data: bytes) -> str:
    """Digest of a page file's bytes. The same bytes slice to the same text, so a page whose
    digest is recorded in the manifest needs no parsing to be known unchanged."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def output_digest(html: str) -> str:
    """:func:`raw_digest` of the file MkDocs writes for a page's final HTML."""
    return raw_digest(html.encode("utf-8", errors="xmlcharrefreplace"))


def analysis_salt() -> str:
    """Analysis version and dictionary fingerprint: part of every cache key and manifest."""
    return f"{ANALYSIS_VERSION}:{data_fingerprint()}"


def analysis_cache_path(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The SQLite analysis cache (in ``cache_dir`` or the default cache folder)."""
    return (Path(cache_dir) if cache_dir else cache_root()) / "analysis.sqlite"


def page_key(salt: str, relpath: str, sliced: str) -> str:
    """Cache key of one sliced page's analysis (also used by :mod:`search.mkdocs.background`)."""
    return hashlib.sha1(f"{salt}\0{relpath}\0{sliced}".encode()).hexdigest()


# -------------------------------------------------------------------------------------- build


def build_index(
    site_dir: str | os.PathLike[str],
    *,
    index_dir: str | os.PathLike[str] | None = None,
    procs: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    stage: str | os.PathLike[str] | None = None,
    vocabulary: dict[str, list[str]] | None = None,
) -> BuildInfo:
    """Index the built site at ``site_dir``; return what was recorded in ``build.json``.

    When the target already holds an index of the same analysis (MkDocs keeps dot folders of
    the site folder between builds), only changed, new and removed pages are written: the
    previous index is copied to the temporary folder and updated there. ``stage`` is an index
    folder written during the build (:mod:`search.mkdocs.background`); when it is complete it is used
    instead, moved rather than copied, and only pages whose final HTML differs from what it
    indexed are written again. An incomplete stage is removed and ignored. ``vocabulary``
    (``{"type": [...], "status": [...]}``) is recorded in ``build.json``: the filter values
    the service accepts besides those the index holds.
    """
    started = time.perf_counter()
    site = Path(site_dir).resolve()
    if not site.is_dir():
        raise FileNotFoundError(f"search: site folder {site} does not exist (build it first)")
    target = Path(index_dir) if index_dir else index_dir_for(site)
    salt = analysis_salt()
    cache_path = analysis_cache_path(cache_dir)
    cache_arg = str(cache_path) if use_cache else None
    staged = read_manifest(stage, salt) if stage and use_cache else None
    if stage and staged is None:
        shutil.rmtree(stage, ignore_errors=True)
    old = staged or (read_manifest(target, salt) if use_cache else None)
    known = {rel: e["key"] for rel, e in old["pages"].items()} if old else {}
    stats = {rel: e["stat"] for rel, e in old["pages"].items() if "stat" in e} if old else {}
    raws = {rel: e["raw"] for rel, e in old["pages"].items() if "raw" in e} if old else {}
    skipped = old.get("skipped", {}) if old else {}
    jobs = [(rel, str(site / rel)) for rel in html_pages(site)]
    procs = procs or min(os.cpu_count() or 1, 4)

    # pages known unchanged by their file alone (threads: reading and hashing release the GIL)
    with ThreadPoolExecutor(max_workers=4) as threads:
        quick = list(threads.map(PageJobs(None, salt, known, stats, raws, skipped).unchanged,
                                 jobs, chunksize=64))
    results: dict[str, PageResult] = {res.rel: res for res in quick if res is not None}
    jobs = [job for job, res in zip(jobs, quick) if res is None]
    if procs > 1 and len(jobs) > POOL_MIN_JOBS:
        from kb.workers import pool

        with pool(procs, _init_pool_worker,
                  (cache_arg, salt, known, stats, raws, skipped)) as workers:
            for res in workers.imap_unordered(_process_in_pool, jobs, chunksize=16):
                results[res.rel] = res
    else:
        here = PageJobs(cache_arg, salt, known, stats, raws, skipped)
        for job in jobs:
            res = here.process(job)
            results[res.rel] = res
        if here.cache is not None:
            here.cache.close()

    cache = AnalysisCache(cache_path if use_cache else None)
    cache.put_many([(r.key, (r.docs, r.words)) for r in results.values()
                    if r.status == "analysed"])
    cache.close()

    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        if staged is not None:
            os.replace(stage, tmp)
        elif old is not None:
            shutil.copytree(target, tmp, copy_function=_link_or_copy)
        with gc_paused():
            info = _write(IndexBuilder(tmp, salt, old), results, started, site, vocabulary)
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info(
        "search: indexed %d pages (%d sections) in %.2fs: %d analysed, %d cached, %d unchanged",
        info.pages, info.documents, info.seconds, info.analysed, info.cached, info.unchanged,
    )
    return info


def _write(builder: IndexBuilder, results: dict[str, PageResult], started: float,
           site: Path, vocabulary: dict[str, list[str]] | None = None) -> BuildInfo:
    """Bring the index in ``builder`` up to ``results``; lexicon, manifest, build info."""
    pages_now = {rel: r for rel, r in results.items() if r.status != "skip"}
    for rel in [rel for rel in (*builder.pages, *builder.skipped) if rel not in results]:
        builder.remove(rel)
    for rel, res in results.items():
        if res.status == "skip":
            builder.skip(rel, res.raw)
    counts = {"analysed": 0, "cached": 0, "same": 0}
    for rel in sorted(pages_now):
        _, key, status, docs, words, raw = pages_now[rel]
        if status != "same":
            builder.add(rel, key, docs or [], words, raw=raw)
            if not docs:
                continue
        builder.pages[rel]["stat"] = file_stat(site / rel)  # lets a dirty rebuild skip it
        counts[status] += 1
    return builder.finish(counts, started, vocabulary=vocabulary)


def _link_or_copy(src: str, dst: str) -> str:
    """Copy one file of an index; Whoosh never writes to a segment file (``.seg``) once it is
    made (deletions and merges write new files), so those are shared as hard links."""
    if src.endswith(".seg"):
        try:
            os.link(src, dst)
            return dst
        except OSError:  # another file system, or no hard links here
            pass
    return shutil.copy2(src, dst)


def _swap(tmp: Path, target: Path) -> None:
    """Move the finished index into place; keep the previous one as ``<name>.old``."""
    old = target.with_name(f"{target.name}.old")
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
