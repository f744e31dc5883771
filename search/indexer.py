"""Build the search index of a built site: ``SITE_DIR/.search-index/``, replaced whole.

Steps: find the HTML pages; in worker processes (both cores) slice each page and hash the slice;
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

from search.analysis import ANALYSIS_VERSION, pinyin_key
from search.documents import analyze_sliced
from search.extract import slice_page
from search.lexicon import cache_root, data_fingerprint, segmenter
from search.schema import make_schema

log = logging.getLogger("mkdocs.plugins.kb.search")

INDEX_NAME = ".search-index"
BUILD_FILE = "build.json"
LEXICON_FILE = "lexicon.json"
MANIFEST_FILE = "pages.json"
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
    unchanged: int = 0

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
_known: dict[str, str] = {}
_stats: dict[str, list[int]] = {}


def _init_worker(cache_path: str | None, salt: str, known: dict[str, str],
                 stats: dict[str, list[int]] | None = None) -> None:
    global _worker_cache, _salt, _known, _stats
    _worker_cache = AnalysisCache(Path(cache_path)) if cache_path else None
    _salt = salt
    _known = known
    _stats = stats or {}


def file_stat(path: str | os.PathLike[str]) -> list[int]:
    """[mtime_ns, size] of a page file: unchanged means not rewritten since the last index."""
    st = os.stat(path)
    return [st.st_mtime_ns, st.st_size]


Result = tuple[str, str, str, list[dict] | None, list[str] | None]


def analysis_salt() -> str:
    """Analysis version and dictionary fingerprint: part of every cache key and manifest."""
    return f"{ANALYSIS_VERSION}:{data_fingerprint()}"


def analysis_cache_path(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The SQLite analysis cache (in ``cache_dir`` or the default cache folder)."""
    return (Path(cache_dir) if cache_dir else cache_root()) / "analysis.sqlite"


def page_key(salt: str, relpath: str, sliced: str) -> str:
    """Cache key of one sliced page's analysis (also used by :mod:`kb.search_prewarm`)."""
    return hashlib.sha1(f"{salt}\0{relpath}\0{sliced}".encode()).hexdigest()


def _process(job: tuple[str, str]) -> Result:
    """Worker: read, slice and hash one page; unchanged since the last index → nothing more;
    else its analysis from the cache or made now. Returns (rel, key, status, docs, words)."""
    relpath, fullpath = job
    if relpath in _known and relpath in _stats and _stats[relpath] == file_stat(fullpath):
        return relpath, _known[relpath], "same", None, None  # not rewritten (mkdocs --dirty)
    with open(fullpath, encoding="utf-8", errors="replace") as fh:
        sliced = slice_page(fh.read())
    if sliced is None:
        return relpath, "", "skip", None, None
    key = page_key(_salt, relpath, sliced)
    if _known.get(relpath) == key:
        return relpath, key, "same", None, None
    if _worker_cache is not None:
        hit = _worker_cache.get(key)
        if hit is not None:
            return relpath, key, "cached", hit[0], hit[1]
    docs, words = analyze_sliced(relpath, sliced)
    return relpath, key, "analysed", docs, words


# -------------------------------------------------------------------------------------- build


def _manifest(index_dir: Path, salt: str) -> dict | None:
    """The page manifest of a complete, compatible previous index (else None)."""
    if read_build_info(index_dir) is None:
        return None
    try:
        data = json.loads((index_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if data.get("salt") == salt else None


def build_index(
    site_dir: str | os.PathLike[str],
    *,
    index_dir: str | os.PathLike[str] | None = None,
    procs: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
) -> BuildInfo:
    """Index the built site at ``site_dir``; return what was recorded in ``build.json``.

    When the target already holds an index of the same analysis (MkDocs keeps dot folders of
    the site folder between builds), only changed, new and removed pages are written: the
    previous index is copied to the temporary folder and updated there.
    """
    started = time.perf_counter()
    site = Path(site_dir).resolve()
    if not site.is_dir():
        raise FileNotFoundError(f"search: site folder {site} does not exist (build it first)")
    target = Path(index_dir) if index_dir else index_dir_for(site)
    salt = analysis_salt()
    cache_path = analysis_cache_path(cache_dir)
    cache_arg = str(cache_path) if use_cache else None
    old = _manifest(target, salt) if use_cache else None
    known = {rel: e["key"] for rel, e in old["pages"].items()} if old else {}
    stats = {rel: e["stat"] for rel, e in old["pages"].items() if "stat" in e} if old else {}
    jobs = [(rel, str(site / rel)) for rel in html_pages(site)]
    procs = procs or min(os.cpu_count() or 1, 4)

    segmenter()  # load jieba once, before forking, so workers share it
    results: dict[str, Result] = {}
    if procs > 1 and len(jobs) > 32:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(procs, initializer=_init_worker,
                      initargs=(cache_arg, salt, known, stats)) as pool:
            for res in pool.imap_unordered(_process, jobs, chunksize=16):
                results[res[0]] = res
    else:
        _init_worker(cache_arg, salt, known, stats)
        for job in jobs:
            res = _process(job)
            results[res[0]] = res

    cache = AnalysisCache(cache_path if use_cache else None)
    cache.put_many([(r[1], (r[3], r[4])) for r in results.values() if r[2] == "analysed"])
    cache.close()

    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        if old is not None:
            shutil.copytree(target, tmp)
        else:
            tmp.mkdir(parents=True)
        info = _write(tmp, results, old, started, salt, site)
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info(
        "search: indexed %d pages (%d sections) in %.2fs: %d analysed, %d cached, %d unchanged",
        info.pages, info.documents, info.seconds, info.analysed, info.cached, info.unchanged,
    )
    return info


def _write(tmp: Path, results: dict[str, Result], old: dict | None, started: float,
           salt: str, site: Path | None = None) -> BuildInfo:
    """Write (or update) the Whoosh index in ``tmp`` plus lexicon, manifest and build info."""
    schema = make_schema()
    pages_now = {rel: r for rel, r in results.items() if r[2] != "skip"}
    old_pages: dict[str, dict] = old["pages"] if old else {}
    if old is None:
        ix = whoosh_index.create_in(str(tmp), schema)
    else:
        ix = whoosh_index.open_dir(str(tmp))
    # 512 MB posting pool: 5,000 pages fit without the external merge sort (2.2M postings
    # pickled to disk and back: 31 s → 23 s); a cold 5,000-page build peaks at about 1.1 GB
    writer = ix.writer(limitmb=512)
    if old is not None:  # drop the sections of pages that changed or disappeared
        gone = {e["url"] for rel, e in old_pages.items()
                if rel not in pages_now or pages_now[rel][2] != "same"}
        for url in gone:  # by the indexed page field (home: ''): no pass over every document
            writer.delete_by_term("page", url)
    manifest: dict[str, dict] = {}
    digest = hashlib.sha1(salt.encode())
    counts = {"analysed": 0, "cached": 0, "same": 0}
    for rel in sorted(pages_now):
        _, key, status, docs, words = pages_now[rel]
        if status == "same":
            manifest[rel] = dict(old_pages[rel])
        else:
            if not docs:
                continue
            for doc in docs:
                writer.add_document(**doc)
            manifest[rel] = {"key": key, "url": docs[0]["page"] if docs else "",
                             "sections": len(docs), "words": words or []}
        if site is not None:  # lets a dirty rebuild skip pages it did not rewrite
            manifest[rel]["stat"] = file_stat(site / rel)
        counts[status] += 1
        digest.update(key.encode())
    writer.commit()
    with ix.reader() as reader:
        lexicon = _lexicon(reader, manifest)
    (tmp / LEXICON_FILE).write_text(json.dumps(lexicon, ensure_ascii=False), encoding="utf-8")
    (tmp / MANIFEST_FILE).write_text(
        json.dumps({"salt": salt, "pages": manifest}, ensure_ascii=False), encoding="utf-8"
    )
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    info = BuildInfo(
        build_id=f"{stamp}-{digest.hexdigest()[:10]}",
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        pages=len(manifest),
        documents=sum(e["sections"] for e in manifest.values()),
        analysed=counts["analysed"],
        cached=counts["cached"],
        unchanged=counts["same"],
        seconds=round(time.perf_counter() - started, 3),
        analysis=salt,
    )
    (tmp / BUILD_FILE).write_text(info.to_json(), encoding="utf-8")
    return info


def _lexicon(reader, manifest: dict[str, dict]) -> dict:
    """Homophone groups of the indexed Chinese words; page counts of the English words."""
    homophones: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for tbytes, tinfo in reader.iter_field("text"):
        word = tbytes.decode("utf-8")
        if 2 <= len(word) <= 4 and all("\u3400" <= c <= "\u9fff" for c in word):
            homophones[pinyin_key(word)].append((word, tinfo.doc_frequency()))
    spell: dict[str, int] = defaultdict(int)
    for entry in manifest.values():
        for word in entry.get("words", ()):
            spell[word] += 1
    return {
        "homophones": {k: sorted(v, key=lambda x: -x[1])[:4] for k, v in homophones.items()},
        "spell": dict(spell),
    }


def _swap(tmp: Path, target: Path) -> None:
    """Move the finished index into place; keep the previous one as ``<name>.old``."""
    old = target.with_name(f"{target.name}.old")
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
