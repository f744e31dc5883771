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


def segmenter():
    """The process-wide jieba tokenizer with the IT user dictionary loaded (lazy, thread-safe)."""
    global _tokenizer
    if _tokenizer is not None:
        return _tokenizer
    with _lock:
        if _tokenizer is None:
            with warnings.catch_warnings():  # jieba imports pkg_resources, which warns
                warnings.simplefilter("ignore")
                import jieba

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
