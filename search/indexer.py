"""Build the search index of a built site: ``SITE_DIR/.search-index/``, replaced whole.

Steps: find the HTML pages; in worker processes (both cores) slice each page, hash the slice and
either take its analysed documents from the cache (keyed by that hash, the analysis version and
the dictionaries) or parse and analyse it; write all documents with one Whoosh writer into a
temporary folder next to the target; add ``lexicon.json`` (homophone and spelling vocabulary) and
``build.json`` (build id, counts); then rename the folder into place. The previous index is kept
as ``.search-index.old`` until the next build, so a server still reading it is never cut off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import pickle
import shutil
import sqlite3
import time
import zlib
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from whoosh import index as whoosh_index

from search.analysis import ANALYSIS_VERSION, has_cjk, pinyin_key
from search.documents import analyze_sliced
from search.extract import slice_page
from search.lexicon import cache_root, data_fingerprint, segmenter
from search.schema import make_schema

log = logging.getLogger("mkdocs.plugins.kb.search")

INDEX_NAME = ".search-index"
BUILD_FILE = "build.json"
LEXICON_FILE = "lexicon.json"
SKIP_FILES = frozenset(("404.html",))


def index_dir_for(site_dir: str | os.PathLike[str]) -> Path:
    """Where the index of a built site lives: ``SITE_DIR/.search-index`` (never served)."""
    return Path(site_dir) / INDEX_NAME


@dataclass
class BuildInfo:
    """What ``build.json`` records about one index build."""

    build_id: str
    built_at: str
    pages: int
    documents: int
    analysed: int
    cached: int
    seconds: float
    analysis: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)


def read_build_info(index_dir: str | os.PathLike[str]) -> BuildInfo | None:
    """The :class:`BuildInfo` of an index folder, or None when there is no complete index."""
    try:
        data = json.loads((Path(index_dir) / BUILD_FILE).read_text(encoding="utf-8"))
        return BuildInfo(**data)
    except (OSError, ValueError, TypeError):
        return None


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


_worker_cache: AnalysisCache | None = None
_salt = ""


def _init_worker(cache_path: str | None, salt: str) -> None:
    global _worker_cache, _salt
    _worker_cache = AnalysisCache(Path(cache_path)) if cache_path else None
    _salt = salt


def _process(job: tuple[str, str]) -> tuple[str, str, list[dict], bool]:
    """Worker: read, slice, hash, then cached or fresh analysis of one page."""
    relpath, fullpath = job
    with open(fullpath, encoding="utf-8", errors="replace") as fh:
        sliced = slice_page(fh.read())
    if sliced is None:
        return relpath, "", [], True
    key = hashlib.sha1(f"{_salt}\0{relpath}\0{sliced}".encode()).hexdigest()
    if _worker_cache is not None:
        docs = _worker_cache.get(key)
        if docs is not None:
            return relpath, key, docs, True
    return relpath, key, analyze_sliced(relpath, sliced), False


# -------------------------------------------------------------------------------------- build


def build_index(
    site_dir: str | os.PathLike[str],
    *,
    index_dir: str | os.PathLike[str] | None = None,
    procs: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
) -> BuildInfo:
    """Index the built site at ``site_dir``; return what was recorded in ``build.json``."""
    started = time.perf_counter()
    site = Path(site_dir).resolve()
    if not site.is_dir():
        raise FileNotFoundError(f"search: site folder {site} does not exist (build it first)")
    target = Path(index_dir) if index_dir else index_dir_for(site)
    salt = f"{ANALYSIS_VERSION}:{data_fingerprint()}"
    cache_path = (Path(cache_dir) if cache_dir else cache_root()) / "analysis.sqlite"
    cache_arg = str(cache_path) if use_cache else None
    jobs = [(rel, str(site / rel)) for rel in html_pages(site)]
    procs = procs or min(os.cpu_count() or 1, 4)

    segmenter()  # load jieba once, before forking, so workers share it
    results: dict[str, tuple[str, list[dict], bool]] = {}
    if procs > 1 and len(jobs) > 32:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(procs, initializer=_init_worker, initargs=(cache_arg, salt)) as pool:
            for rel, key, docs, hit in pool.imap_unordered(_process, jobs, chunksize=16):
                results[rel] = (key, docs, hit)
    else:
        _init_worker(cache_arg, salt)
        for job in jobs:
            rel, key, docs, hit = _process(job)
            results[rel] = (key, docs, hit)

    cache = AnalysisCache(cache_path if use_cache else None)
    cache.put_many([(k, d) for k, d, hit in results.values() if k and not hit])
    cache.close()

    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        info = _write(tmp, results, started, salt)
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info(
        "search: indexed %d pages (%d sections) in %.2fs, %d analysed, %d from cache",
        info.pages, info.documents, info.seconds, info.analysed, info.cached,
    )
    return info


def _write(tmp: Path, results: dict, started: float, salt: str) -> BuildInfo:
    ix = whoosh_index.create_in(str(tmp), make_schema())
    writer = ix.writer(limitmb=256)
    digest = hashlib.sha1(salt.encode())
    pages = documents = analysed = cached = 0
    for rel in sorted(results):
        key, docs, hit = results[rel]
        if not docs:
            continue
        digest.update(key.encode())
        pages += 1
        analysed += not hit
        cached += hit
        for doc in docs:
            writer.add_document(**doc)
            documents += 1
    writer.commit()
    with ix.reader() as reader:
        (tmp / LEXICON_FILE).write_text(
            json.dumps(_lexicon(reader), ensure_ascii=False), encoding="utf-8"
        )
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    info = BuildInfo(
        build_id=f"{stamp}-{digest.hexdigest()[:10]}",
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        pages=pages,
        documents=documents,
        analysed=analysed,
        cached=cached,
        seconds=round(time.perf_counter() - started, 3),
        analysis=salt,
    )
    (tmp / BUILD_FILE).write_text(info.to_json(), encoding="utf-8")
    return info


def _lexicon(reader) -> dict:
    """Homophone groups of the Chinese words and document counts of the English words."""
    homophones: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for tbytes, tinfo in reader.iter_field("text"):
        word = tbytes.decode("utf-8")
        if 2 <= len(word) <= 4 and has_cjk(word) and all("\u3400" <= c for c in word):
            homophones[pinyin_key(word)].append((word, tinfo.doc_frequency()))
    spell = {
        tbytes.decode("utf-8"): tinfo.doc_frequency()
        for tbytes, tinfo in reader.iter_field("spell")
    }
    return {
        "homophones": {k: sorted(v, key=lambda x: -x[1])[:4] for k, v in homophones.items()},
        "spell": spell,
    }


def _swap(tmp: Path, target: Path) -> None:
    """Move the finished index into place; keep the previous one as ``<name>.old``."""
    old = target.with_name(f"{target.name}.old")
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
