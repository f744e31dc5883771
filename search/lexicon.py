"""Word lists kept in ``search/data/``: jieba with our IT user dictionary, synonyms, stop words.

Everything here is loaded once per process, lazily, because jieba's start-up (building the
prefix dictionary) is the slowest step of a cold search. jieba's own marshal cache is kept in
:func:`cache_root` so the second process start costs a fraction of a second.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import sys
import threading
import warnings
from functools import lru_cache
from pathlib import Path

from search.gcpolicy import gc_paused
from search.text import normalize

log = logging.getLogger("mkdocs.plugins.kb.search")

DATA_DIR = Path(__file__).with_name("data")
USERDICT = DATA_DIR / "userdict.txt"
SYNONYMS = DATA_DIR / "synonyms.txt"
STOPWORDS = DATA_DIR / "stopwords.txt"

_lock = threading.Lock()
_tokenizer = None


def cache_root() -> Path:
    """Folder for caches that survive builds (env ``KB_SEARCH_CACHE``, default ``~/.cache``)."""
    env = os.environ.get("KB_SEARCH_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "infocenter-kb" / "search"


def data_fingerprint() -> str:
    """A short hash of the dictionaries; part of every analysis cache key."""
    h = hashlib.sha1()
    for path in (USERDICT, SYNONYMS, STOPWORDS):
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _import_jieba():
    """``import jieba`` without its optional ``pkg_resources`` (deprecated, warns, and a third
    of a one-off search's start-up): jieba then reads its files by path, the same files."""
    if "jieba" in sys.modules:
        return sys.modules["jieba"]
    blocked = "pkg_resources" not in sys.modules
    if blocked:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # ImportError in jieba
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import jieba
    finally:
        if blocked:
            del sys.modules["pkg_resources"]
    return jieba


def segmenter():
    """The process-wide jieba tokenizer with the IT user dictionary loaded (lazy, thread-safe)."""
    global _tokenizer
    if _tokenizer is not None:
        return _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba = _import_jieba()
            jieba.setLogLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            folder = cache_root()
            try:
                folder.mkdir(parents=True, exist_ok=True)
                tk.tmp_dir = str(folder)
            except OSError:  # read-only home: jieba falls back to the system temp dir
                pass
            with gc_paused():  # a million objects and no cycles: nothing to collect
                tk.initialize()
                tk.load_userdict(str(USERDICT))
            _tokenizer = tk
    return _tokenizer


#: jieba's dictionary (with ours) as an SQLite table in :func:`cache_root`, for processes that
#: answer a few queries and exit: a lookup per query fragment instead of loading 500,000 words
WORDS_DB_VERSION = 1


def words_db_path() -> Path:
    """Where the word table of the current dictionaries is kept (one per dictionary version)."""
    version = getattr(_import_jieba(), "__version__", "0")
    return cache_root() / f"jieba-words-{version}-{data_fingerprint()}-v{WORDS_DB_VERSION}.sqlite"


class _WordTable:
    """The part of a dict jieba uses (``in``, ``[]``, ``get``) over the SQLite word table;
    answers are remembered (a query looks up a few hundred fragments)."""

    def __init__(self, path: Path) -> None:
        import sqlite3

        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._seen: dict[str, int | None] = {}
        self._lock = threading.Lock()
        self.total = int(self._db.execute("SELECT freq FROM meta WHERE name='total'").fetchone()[0])

    def _freq(self, word: str) -> int | None:
        try:
            return self._seen[word]
        except KeyError:
            pass
        with self._lock:
            row = self._db.execute("SELECT freq FROM words WHERE word=?", (word,)).fetchone()
        value = None if row is None else int(row[0])
        self._seen[word] = value
        return value

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._freq(word) is not None

    def __getitem__(self, word: str) -> int:
        value = self._freq(word)
        if value is None:
            raise KeyError(word)
        return value

    def get(self, word: str, default: int | None = None) -> int | None:
        value = self._freq(word)
        return default if value is None else value


def _write_word_table(tk, path: Path) -> None:
    """Save a loaded tokenizer's words (prefixes included, as jieba keeps them) to ``path``."""
    import sqlite3

    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(tmp)
        with db:
            db.execute("CREATE TABLE words (word TEXT PRIMARY KEY, freq INTEGER) WITHOUT ROWID")
            db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, freq INTEGER)")
            db.executemany("INSERT INTO words VALUES (?, ?)", tk.FREQ.items())
            db.execute("INSERT INTO meta VALUES ('total', ?)", (tk.total,))
        db.close()
        os.replace(tmp, path)
    except (OSError, sqlite3.Error) as exc:  # no cache only costs the next one-off search time
        log.debug("search: word table not written (%s)", exc)
        Path(tmp).unlink(missing_ok=True)


def use_word_table() -> bool:
    """For a process that only answers a few queries (one ``kb search``): cut with jieba over
    the SQLite word table of the current dictionaries (same words, same frequencies, so the
    same cuts) instead of loading the whole dictionary; the first such process on a machine
    loads it once and writes the table. No effect when jieba is loaded already. True when
    the table is used."""
    global _tokenizer
    path = words_db_path()
    with _lock:
        if _tokenizer is not None:
            return False
        if path.is_file():
            try:
                table = _WordTable(path)
            except Exception as exc:  # noqa: BLE001 - a damaged table: rebuilt below
                log.debug("search: word table unreadable (%s)", exc)
            else:
                tk = _import_jieba().Tokenizer()
                tk.FREQ, tk.total, tk.initialized = table, table.total, True
                _tokenizer = tk
                return True
    _write_word_table(segmenter(), path)
    return False


def in_dictionary(word: str) -> bool:
    """True when jieba's dictionary (with ours) knows ``word`` as a word."""
    return bool(segmenter().FREQ.get(word))


#: ``-log P(word)`` in jieba's general-language dictionary at or below which a word is generic
#: (一次, 整个, 内容, 问题 …), and at or above which it is fully topical; weight in between rises
COMMON_INFO = 7.5
TOPICAL_INFO = 10.0
GENERIC_WEIGHT = 0.35


def topicality(word: str) -> float:
    """How much a Chinese word says about a topic, from its frequency in general Chinese text
    (jieba's dictionary, built from a large general corpus): 1.0 for rare words (口令, 防火墙)
    and for words the dictionary lacks, down to :data:`GENERIC_WEIGHT` for everyday words
    (一次, 整个, 内容) that a small site's own document frequencies cannot recognise as filler."""
    tk = segmenter()
    freq = tk.FREQ.get(word) or 0
    if freq <= 0 or len(word) < 2:
        return 1.0
    info = math.log(tk.total / freq)
    if info >= TOPICAL_INFO:
        return 1.0
    if info <= COMMON_INFO:
        return GENERIC_WEIGHT
    return GENERIC_WEIGHT + (1 - GENERIC_WEIGHT) * (info - COMMON_INFO) / (TOPICAL_INFO - COMMON_INFO)


def _lines(path: Path) -> list[str]:
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Query filler words (怎么, 如何, 的 …) that carry no topic."""
    words: set[str] = set()
    for line in _lines(STOPWORDS):
        words.update(line.split())
    return frozenset(words)


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    """Map a normalised term to the other terms searched with it.

    ``a = b = c`` makes an equivalence group; ``a => b, c`` expands ``a`` only (one way).
    """
    table: dict[str, list[str]] = {}

    def add(src: str, dst: str) -> None:
        if src != dst and dst not in table.setdefault(src, []):
            table[src].append(dst)

    for line in _lines(SYNONYMS):
        if "=>" in line:
            left, right = line.split("=>", 1)
            targets = [normalize(t) for t in right.replace("，", ",").split(",") if t.strip()]
            for src in left.replace("，", ",").split(","):
                for dst in targets:
                    add(normalize(src), dst)
        else:
            group = [normalize(t) for t in line.split("=") if t.strip()]
            for a in group:
                for b in group:
                    add(a, b)
    return {k: tuple(v) for k, v in table.items()}


@lru_cache(maxsize=1)
def spellings() -> dict[str, tuple[str, ...]]:
    """The other keys written on the left of the same one-way line (``忘记密码, 忘了密码,
    密码忘了 => …``): spellings of one request, whose words stand for each other's."""
    out: dict[str, tuple[str, ...]] = {}
    for line in _lines(SYNONYMS):
        if "=>" not in line:
            continue
        keys = [normalize(k) for k in line.split("=>", 1)[0].replace("，", ",").split(",")
                if k.strip()]
        for key in keys:
            out[key] = tuple(dict.fromkeys(k for k in (*out.get(key, ()), *keys) if k != key))
    return out
