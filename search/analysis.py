"""Text analysis for Chinese, English and mixed text, shared by indexing and querying.

One pass over normalised text (NFKC, lower case) yields two token streams:

``words``
    jieba words (precise mode, no HMM, so index and query always cut alike) plus the dictionary
    sub-words of long words (``虚拟专用网络`` also gives ``虚拟`` ``专用`` ``网络``, at the same
    position), and English/code tokens: ``xxzx-zd-003`` is kept whole and also as ``xxzx`` ``zd``
    ``003`` and ``xxzxzd003``; plain English words are Porter-stemmed. Positions count words.
``grams``
    overlapping CJK character bigrams (plus each run's first and last character) and the same
    English/code tokens. Positions count characters, so the bigrams of any Chinese phrase sit at
    consecutive positions in every text that contains it, whatever jieba made of either side.
    That makes ``"phrases"`` exact, and keeps recall for words no dictionary knows.

Titles also get pinyin terms (full ``mima`` and initials ``mm``) so Latin-keyboard queries find
Chinese titles; :func:`pinyin_key` is the tone-less reading used to repair homophone typos
(``防火强`` → ``防火墙``, ``进城`` → ``进程``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from functools import lru_cache

from whoosh.lang.porter import stem as _porter

from search.lexicon import segmenter
from search.whoosh_compat import encode_count, encode_positions
from search.text import CJK, CJK_CHAR, normalize

#: bump when the analysis output changes, so cached analyses are recomputed
ANALYSIS_VERSION = "10"

_RUN = re.compile(rf"([{CJK}]+)|([a-z0-9]+(?:[._\-][a-z0-9]+)*[+#]*)")
_SEP = LATIN_SEP = re.compile(r"[._\-]")
_IS_CJK = CJK_CHAR

Token = tuple[str, int]  # (term, position)


def has_cjk(text: str) -> bool:
    """True when ``text`` contains a Chinese character."""
    return bool(_IS_CJK.search(text))


def stem(word: str) -> str:
    """Porter stem for alphabetic words longer than three letters; other tokens unchanged."""
    if len(word) > 3 and word.isalpha() and word.isascii():
        return _porter(word)
    return word


def runs(text: str) -> Iterator[tuple[bool, str]]:
    """Split normalised text into (is_cjk, run) pieces; everything else separates."""
    for m in _RUN.finditer(text):
        if m.group(1):
            yield True, m.group(1)
        else:
            yield False, m.group(2)


@lru_cache(maxsize=200_000)
def code_terms(token: str) -> list[tuple[str, int]]:
    """Terms for one English/code token with their position offsets.

    ``mkfs.fat`` → ``mkfs.fat``@0, ``mkfsfat``@0, ``mkfs``@0, ``fat``@1.
    """
    parts = [p for p in _SEP.split(token) if p]
    if len(parts) <= 1:
        return [(token if token[-1] in "+#" else stem(token), 0)]
    out = [(token, 0)]
    joined = "".join(parts)
    if joined != token:
        out.append((joined, 0))
    out.extend((stem(p), i) for i, p in enumerate(parts))
    return out


@lru_cache(maxsize=200_000)
def _cut(run: str) -> tuple[str, ...]:
    return tuple(segmenter().cut(run, HMM=False))


def cut(run: str) -> list[str]:
    """jieba precise cut of a CJK run, without HMM (deterministic for index and query)."""
    return list(_cut(run))


@lru_cache(maxsize=200_000)
def subwords(word: str) -> list[str]:
    """Dictionary words of two and three characters inside a longer word (jieba search mode)."""
    if len(word) < 3:
        return []
    freq = segmenter().FREQ
    out = []
    for n in (2, 3):
        if len(word) <= n:
            continue
        for i in range(len(word) - n + 1):
            w = word[i : i + n]
            if freq.get(w):
                out.append(w)
    return out


def analyze(text: str, query: bool = False) -> tuple[list[Token], list[Token]]:
    """Return the ``words`` and ``grams`` token streams (see module docstring) of ``text``.

    ``grams`` positions count characters (an English/code token counts as one), so bigrams of
    a Chinese run sit at consecutive positions. Pages (``query=False``) also get the first and
    last character of each run as unigrams, so a one-character run of a phrase query (``7 天``)
    matches where that character starts or ends a longer run of the page.
    """
    words: list[Token] = []
    grams: list[Token] = []
    wpos = gpos = 0
    for is_cjk, run in runs(normalize(text)):
        if is_cjk:
            for w in cut(run):
                words.append((w, wpos))
                for sub in subwords(w):
                    words.append((sub, wpos))
                wpos += 1
            if len(run) == 1:
                grams.append((run, gpos))
            else:
                grams.extend((run[i : i + 2], gpos + i) for i in range(len(run) - 1))
                if not query:
                    grams.append((run[0], gpos))
                    grams.append((run[-1], gpos + len(run) - 1))
            gpos += len(run)
        else:
            terms = code_terms(run)
            for term, off in terms:
                words.append((term, wpos + off))
                grams.append((term, gpos + off))
            width = max(off for _, off in terms) + 1
            wpos += width
            gpos += width
    return words, grams


def query_grams(text: str) -> list[Token]:
    """The ``grams`` of query text with offsets from the first one (for phrase matching)."""
    grams = analyze(text, query=True)[1]
    if not grams:
        return []
    base = grams[0][1]
    return [(t, p - base) for t, p in grams]


def query_words(text: str) -> list[str]:
    """The word terms of a short query string, in order, without positions or duplicates."""
    seen: dict[str, None] = {}
    for term, _ in analyze(text)[0]:
        seen.setdefault(term, None)
    return list(seen)


Posting = tuple[bytes, int, float, bytes]


@lru_cache(maxsize=4096)
def _count_value(freq: int) -> bytes:
    return encode_count(freq)


def postings(tokens: Iterable[Token], positions: bool = False) -> list[Posting]:
    """Whoosh postings (term bytes, freq, weight, value) of pre-analysed tokens; the value is
    the encoded positions for positional fields, else the frequency."""
    if not positions:
        freqs = Counter([term for term, _ in tokens])
        return [(t.encode("utf-8"), f, float(f), _count_value(f)) for t, f in freqs.items()]
    poses: dict[str, list[int]] = defaultdict(list)
    for term, pos in tokens:
        poses[term].append(pos)
    out = []
    for term, plist in poses.items():
        plist.sort()
        n = len(plist)
        out.append((term.encode("utf-8"), n, float(n), encode_positions(plist)))
    return out


# ---------------------------------------------------------------------------------------- pinyin


@lru_cache(maxsize=65536)
def char_pinyin(ch: str) -> str:
    """Tone-less pinyin of one character (its most common reading); non-Chinese unchanged."""
    if not _IS_CJK.match(ch):
        return ch
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(ch, style=Style.NORMAL)[0]


def pinyin_key(word: str) -> str:
    """Tone-less reading of a word, syllables separated by spaces (homophone key)."""
    return " ".join(char_pinyin(c) for c in word)


def pinyin_terms(title: str) -> list[str]:
    """Pinyin terms of a title: per word full and initials, and the same for the whole title."""
    return list(_pinyin_terms(title))


@lru_cache(maxsize=65536)
def _pinyin_terms(title: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    out: list[str] = []
    full_all: list[str] = []
    init_all: list[str] = []
    for is_cjk, run in runs(normalize(title)):
        if not is_cjk:
            continue
        for w in cut(run):
            syl = lazy_pinyin(w, style=Style.NORMAL)
            full, initials = "".join(syl), "".join(s[0] for s in syl if s)
            full_all.append(full)
            init_all.append(initials)
            if len(w) > 1:
                out.extend((full, initials))
            for sub in subwords(w):
                syl = lazy_pinyin(sub, style=Style.NORMAL)
                out.extend(("".join(syl), "".join(s[0] for s in syl if s)))
    if len(full_all) > 1:
        out.extend(("".join(full_all), "".join(init_all)))
    return tuple(dict.fromkeys(t for t in out if t))
