"""Writing analysed pages into a Whoosh index folder, shared by every way an index is made.

:class:`IndexBuilder` owns one index folder that is not (yet) the live index: it adds the
analysed sections of pages, deletes pages, commits segments and finally writes the page
manifest (``pages.json``), the lexicon (``lexicon.json``) and ``build.json``. The indexer's last
step uses it, and so does the background writer of a cold build (:mod:`search.mkdocs.background`),
which commits a segment every few hundred pages while MkDocs is still rendering.

:class:`search.whoosh_compat.SegmentWriter` writes the segments: Whoosh's own segment writer
with a posting pool grouped by term and a flush that reads each field's length column once
(the module gathers every use of a private Whoosh name; the files are the same, byte for byte).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index

from search.analysis import pinyin_key
from search.text import is_cjk
from search.schema import make_schema
from search.whoosh_compat import SegmentWriter

BUILD_FILE = "build.json"
LEXICON_FILE = "lexicon.json"
MANIFEST_FILE = "pages.json"

#: what :func:`_lexicon` makes; a lexicon of another version is made again
LEXICON_VERSION = 1
#: posting pool of one writer: a 5,000-page site fits without Whoosh's external merge sort
POOL_MB = 512


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
    #: every ``type``/``status`` value the site's content model can give a page (passed by the
    #: build, :func:`search.build_index`): a filter on one no page has now is an empty answer,
    #: not an error; an index built without it accepts the values it holds only
    vocabulary: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)


def read_build_info(index_dir: str | Path) -> BuildInfo | None:
    """The :class:`BuildInfo` of an index folder, or None when there is no complete index."""
    try:
        data = json.loads((Path(index_dir) / BUILD_FILE).read_text(encoding="utf-8"))
        return BuildInfo(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_manifest(index_dir: Path, salt: str, pages: dict[str, dict],
                   skipped: dict[str, str] | None = None) -> None:
    """Write ``pages.json``: the analysis salt and each page's key, URL, sections and words
    (and the digest of its file and its mtime and size, when known); ``skipped``: the file
    digests of pages left out of the index (no article, or excluded from search)."""
    (index_dir / MANIFEST_FILE).write_text(
        json.dumps({"salt": salt, "pages": pages, "skipped": skipped or {}},
                   ensure_ascii=False), encoding="utf-8")


def read_manifest(index_dir: str | Path, salt: str) -> dict | None:
    """The page manifest of a complete index made with analysis ``salt`` (else None)."""
    if read_build_info(index_dir) is None:
        return None
    try:
        data = json.loads((Path(index_dir) / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("salt") == salt else None


class IndexBuilder:
    """Adds pages to the index in ``folder`` (new, or an earlier complete index to update).

    ``manifest`` (from :func:`read_manifest`) describes the pages already in the folder; pages
    added again replace their sections. Nothing is live until the caller moves the folder.
    """

    def __init__(self, folder: Path, salt: str, manifest: dict | None = None,
                 pool_mb: int = POOL_MB) -> None:
        self.folder = folder
        self.salt = salt
        self.pool_mb = pool_mb
        self.pages: dict[str, dict] = dict(manifest["pages"]) if manifest else {}
        #: pages left out of the index, by the digest of their file (known without parsing)
        self.skipped: dict[str, str] = dict(manifest.get("skipped", {})) if manifest else {}
        if manifest is None:
            folder.mkdir(parents=True, exist_ok=True)
            self.ix = whoosh_index.create_in(str(folder), make_schema())
        else:
            self.ix = whoosh_index.open_dir(str(folder))
        self._writer: SegmentWriter | None = None
        self.pending = 0  # pages added since the last commit
        #: pages added or removed since the folder was opened (else its lexicon still holds)
        self.changed = False

    @property
    def writer(self) -> SegmentWriter:
        if self._writer is None:
            self._writer = SegmentWriter(self.ix, limitmb=self.pool_mb)
        return self._writer

    def skip(self, rel: str, raw: str | None) -> None:
        """Record page ``rel`` as left out of the index (dropping sections it had)."""
        self.remove(rel)
        if raw is not None:
            self.skipped[rel] = raw

    def remove(self, rel: str) -> None:
        """Drop a page's sections (by the indexed ``page`` field: no pass over every document)."""
        self.skipped.pop(rel, None)
        entry = self.pages.pop(rel, None)
        if entry is not None:
            self.changed = True
            self.writer.delete_by_term("page", entry.get("url", ""))

    def add(self, rel: str, key: str, docs: list[dict], words: list[str] | None,
            raw: str | None = None) -> None:
        """Add (or replace) the sections of page ``rel``, whose analysis key is ``key`` (and
        whose file's :func:`search.indexer.raw_digest` is ``raw``, when known)."""
        self.remove(rel)
        if not docs:
            return
        writer = self.writer
        for doc in docs:
            writer.add_document(**doc)
        self.changed = True
        self.pages[rel] = {"key": key, "url": docs[0]["page"], "sections": len(docs),
                           "words": words or []}
        if raw is not None:
            self.pages[rel]["raw"] = raw
        self.pending += 1

    def commit(self, *, merge: bool = True) -> None:
        """Write what was added as a segment (``merge=False``: never merge older segments)."""
        if self._writer is not None:
            self._writer.commit(merge=merge)
            self._writer = None
        self.pending = 0

    def cancel(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None

    def write_lexicon(self) -> None:
        with self.ix.reader() as reader:
            lexicon = _lexicon(reader, self.pages)
        (self.folder / LEXICON_FILE).write_text(json.dumps(lexicon, ensure_ascii=False),
                                                encoding="utf-8")

    def finish(self, counts: dict[str, int], started: float, *, lexicon: bool = True,
               merge: bool = True, vocabulary: dict[str, list[str]] | None = None) -> BuildInfo:
        """Commit, write manifest, lexicon and ``build.json``; return the build info."""
        self.commit(merge=merge)
        write_manifest(self.folder, self.salt, self.pages, self.skipped)
        if lexicon and (self.changed or not _lexicon_current(self.folder / LEXICON_FILE)):
            self.write_lexicon()  # else: the same pages, the same terms, the same lexicon
        digest = hashlib.sha1(self.salt.encode())
        for rel in sorted(self.pages):
            digest.update(self.pages[rel]["key"].encode())
        now = time.time()  # milliseconds in the id: two builds a second apart stay distinct
        stamp = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime(now))}{int(now * 1000) % 1000:03d}"
        info = BuildInfo(
            build_id=f"{stamp}-{digest.hexdigest()[:10]}",
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            pages=len(self.pages),
            documents=sum(e["sections"] for e in self.pages.values()),
            analysed=counts.get("analysed", 0),
            cached=counts.get("cached", 0),
            unchanged=counts.get("same", 0),
            seconds=round(time.perf_counter() - started, 3),
            analysis=self.salt,
            vocabulary={k: sorted(set(v)) for k, v in (vocabulary or {}).items()},
        )
        (self.folder / BUILD_FILE).write_text(info.to_json(), encoding="utf-8")
        return info


def _lexicon(reader, pages: dict[str, dict]) -> dict:
    """Homophone groups of the indexed Chinese words; page counts of the English words."""
    frequency: dict[bytes, int] = defaultdict(int)
    for leaf, _ in reader.leaf_readers():  # per segment: a multi-segment walk is 10x slower
        for tbytes, tinfo in leaf.iter_field("text"):
            frequency[tbytes] += tinfo.doc_frequency()
    homophones: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for tbytes in sorted(frequency):
        word = tbytes.decode("utf-8")
        if 2 <= len(word) <= 4 and all(map(is_cjk, word)):
            homophones[pinyin_key(word)].append((word, frequency[tbytes]))
    spell: dict[str, int] = defaultdict(int)
    for rel in sorted(pages):  # page order: the same lexicon however the index was written
        for word in pages[rel].get("words", ()):
            spell[word] += 1
    return {
        "version": LEXICON_VERSION,  # first: read by _lexicon_current without parsing the rest
        "homophones": {k: sorted(v, key=lambda x: -x[1])[:4] for k, v in homophones.items()},
        "spell": dict(spell),
    }


def _lexicon_current(path: Path) -> bool:
    """True when ``path`` is a lexicon written by this version of :func:`_lexicon`."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return False
    return head.startswith(f'{{"version": {LEXICON_VERSION},'.encode())
