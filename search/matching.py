"""From a parsed query to Whoosh queries: concepts, synonyms, typo repair, phrases, exclusions.

A *concept* is one thing the user asked for: a word, a synonym-file entry found in the query, or
a homophone-repaired stretch (``防火强``). Each concept is a ``DisjunctionMax`` over alternatives
(the word itself, its synonyms, its repaired form, its pinyin), and each alternative is searched
in every text field with the field's boost, plus as a bigram phrase in ``gram`` so Chinese words
match whatever jieba made of the page text. The engine scores pages by the concepts they cover.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from whoosh import query as Q

from search.analysis import analyze, cut, has_cjk, normalize, pinyin_key, runs
from search.lexicon import stopwords, synonyms
from search.query import ParsedQuery
from search.schema import FIELD_BOOSTS

SYNONYM_WEIGHT = 0.75
REPAIR_WEIGHT = 0.85
SINGLE_CHAR_WEIGHT = 0.5
PINYIN_BOOST = 4.0
GRAM_BOOST = 1.2
MAX_CONCEPTS = 12
MAX_PREFIX_TERMS = 24
_ASCII_WORD = re.compile(r"^[a-z]{3,}$")


class Lexicon:
    """The vocabulary saved with an index: homophone groups and English word counts."""

    def __init__(self, data: dict) -> None:
        self.homophones: dict[str, list[list]] = data.get("homophones", {})
        self.spell: dict[str, int] = data.get("spell", {})

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return cls({})

    def homophone(self, word: str, min_df: int = 2) -> str | None:
        """The most frequent indexed word that sounds like ``word`` (another word), if any."""
        for cand, df in self.homophones.get(pinyin_key(word), ()):
            if cand != word and df >= min_df:
                return cand
        return None

    @cached_property
    def _deletes(self) -> dict[str, list[str]]:
        table: dict[str, list[str]] = {}
        for word in self.spell:
            if 3 <= len(word) <= 20:
                for d in _deletions(word):
                    table.setdefault(d, []).append(word)
        return table

    def correct(self, word: str) -> str | None:
        """The most frequent indexed English word within two edits of an unknown ``word``."""
        if word in self.spell or not _ASCII_WORD.match(word) or len(word) > 20:
            return None
        cands: set[str] = set()
        for d in _deletions(word) | {word}:
            cands.update(self._deletes.get(d, ()))
            if d in self.spell:
                cands.add(d)
        limit = 1 if len(word) <= 4 else 2
        best = [(self.spell[c], c) for c in cands if _distance(word, c) <= limit]
        return max(best)[1] if best else None


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (edits with adjacent transpositions)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


@dataclass
class Concept:
    """One thing asked for, its alternatives (text, weight) and its Whoosh query."""

    surface: str
    alternatives: list[tuple[str, float]]
    query: Q.Query
    weight: float = 1.0


@dataclass
class Plan:
    """Everything the engine runs for one query."""

    concepts: list[Concept] = field(default_factory=list)
    required: list[Q.Query] = field(default_factory=list)
    bonus: list[Q.Query] = field(default_factory=list)
    excluded: list[Q.Query] = field(default_factory=list)
    highlight: list[str] = field(default_factory=list)
    suggestion: str | None = None
    exact: str = ""

    @property
    def empty(self) -> bool:
        return not (self.concepts or self.required)


# ------------------------------------------------------------------------------- alternatives


def _fields_query(term: str, boost: float = 1.0) -> Q.Query:
    return Q.Or([Q.Term(f, term, boost=b * boost) for f, b in FIELD_BOOSTS.items()])


def _gram_query(text: str, boost: float = GRAM_BOOST) -> Q.Query | None:
    grams = [t for t, _ in analyze(text)[1]]
    if not grams:
        return None
    if len(grams) == 1:
        return Q.Term("gram", grams[0], boost=boost)
    return Q.Phrase("gram", grams, boost=boost)


def text_query(text: str, weight: float = 1.0) -> Q.Query | None:
    """Query for one alternative: its words in every field, or its bigram phrase."""
    words, _ = analyze(text)
    main: dict[int, str] = {}
    for term, pos in words:  # first term per position: the whole word, not its sub-words
        main.setdefault(pos, term)
    terms = list(dict.fromkeys(main.values()))
    if not terms:
        return None
    parts: list[Q.Query] = []
    if len(terms) == 1:
        parts.append(_fields_query(terms[0]))
        if _ASCII_WORD.match(text) or text.isalpha() and text.isascii() and len(text) >= 2:
            parts.append(Q.Term("pinyin", text, boost=PINYIN_BOOST))
    else:
        parts.append(Q.And([_fields_query(t) for t in terms], boost=0.7))
    if has_cjk(text) and len(text) >= 2 or len(terms) > 1:
        gq = _gram_query(text)
        if gq is not None:
            parts.append(gq)
    q = parts[0] if len(parts) == 1 else Q.DisjunctionMax(parts, tiebreak=0.1)
    if weight != 1.0:
        q.boost *= weight
    return q


# ---------------------------------------------------------------------------------- segmenting


def _synonym_spans(text: str) -> list[tuple[str, bool]]:
    """Split text into (piece, is_synonym_key) with the longest synonym-file entries first."""
    table = synonyms()
    maxlen = max((len(k) for k in table), default=0)
    out: list[tuple[str, bool]] = []
    buf = []
    i = 0
    while i < len(text):
        hit = ""
        for n in range(min(maxlen, len(text) - i), 1, -1):
            key = text[i : i + n]
            if key in table and _bounded(text, i, i + n):
                hit = key
                break
        if hit:
            if buf:
                out.append(("".join(buf), False))
                buf = []
            out.append((hit, True))
            i += len(hit)
        else:
            buf.append(text[i])
            i += 1
    if buf:
        out.append(("".join(buf), False))
    return out


def _bounded(text: str, start: int, end: int) -> bool:
    """ASCII entries match whole tokens only (``ip`` is not found inside ``zip``)."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    alnum = re.compile(r"[a-z0-9]")
    if alnum.match(text[start]) and alnum.match(before):
        return False
    return not (alnum.match(text[end - 1]) and alnum.match(after))


def units(text: str) -> list[tuple[str, bool]]:
    """The query's units in order: synonym entries, jieba words, English/code tokens."""
    out: list[tuple[str, bool]] = []
    for piece, is_key in _synonym_spans(normalize(text)):
        if is_key:
            out.append((piece, True))
            continue
        for is_cjk, run in runs(piece):
            if is_cjk:
                out.extend((w, False) for w in cut(run))
            else:
                out.append((run, False))
    return out


def _repair(us: list[tuple[str, bool]], lexicon: Lexicon, df) -> list[tuple[str, bool, str]]:
    """Join 1-3 adjacent Chinese units that the index does not know but a homophone it does."""
    out: list[tuple[str, bool, str]] = []
    i = 0
    while i < len(us):
        done = False
        for n in (3, 2, 1):
            chunk = us[i : i + n]
            if len(chunk) < n or not all(has_cjk(u) for u, _ in chunk):
                continue
            word = "".join(u for u, _ in chunk)
            if not 2 <= len(word) <= 4 or df(word):
                continue
            fix = lexicon.homophone(word)
            if fix:
                out.append((word, False, fix))
                i += n
                done = True
                break
        if not done:
            out.append((us[i][0], us[i][1], ""))
            i += 1
    return out


def plan(parsed: ParsedQuery, lexicon: Lexicon, df, expand) -> Plan:
    """Build the :class:`Plan` of a parsed query.

    ``df(word)`` counts the sections whose text has ``word``; ``expand(prefix)`` lists indexed
    words starting with ``prefix`` (at most :data:`MAX_PREFIX_TERMS`).
    """
    p = Plan(exact=normalize(parsed.raw))
    stop = stopwords()
    syn = synonyms()
    found = _repair(units(parsed.text), lexicon, df)
    kept = [u for u in found if u[0] not in stop] or found
    corrected: dict[str, str] = {}
    for surface, is_key, fix in kept[:MAX_CONCEPTS]:
        alts: list[tuple[str, float]] = [(surface, 1.0)]
        alts += [(s, SYNONYM_WEIGHT) for s in syn.get(surface, ())]
        if fix:
            alts.append((fix, REPAIR_WEIGHT))
        elif not has_cjk(surface) and not df(surface):
            better = lexicon.correct(surface)
            if better:
                corrected[surface] = better
                alts.append((better, REPAIR_WEIGHT))
        queries = [q for q in (text_query(t, w) for t, w in alts) if q is not None]
        if not queries:
            continue
        weight = SINGLE_CHAR_WEIGHT if len(surface) == 1 and has_cjk(surface) else 1.0
        cq = queries[0] if len(queries) == 1 else Q.DisjunctionMax(queries, tiebreak=0.05)
        p.concepts.append(Concept(surface, alts, cq, weight))
        p.highlight += [t for t, _ in alts]
    for prefix in parsed.prefixes:
        words = expand(prefix)[:MAX_PREFIX_TERMS]
        if words:
            pq = Q.Or([_fields_query(w) for w in words])
            p.concepts.append(Concept(prefix + "*", [(w, 1.0) for w in words], pq))
            p.highlight.append(prefix)
    for phrase in parsed.phrases:
        pq = _phrase_query(phrase)
        if pq is not None:
            p.required.append(pq)
            p.highlight.append(phrase)
    for text in parsed.excluded:
        eq = _phrase_query(text)
        if eq is not None:
            p.excluded.append(eq)
    if len(p.concepts) >= 2:
        joined = "".join(c.surface for c in p.concepts if has_cjk(c.surface))
        if len(joined) >= 3:
            bq = _gram_query(joined, boost=2.0)
            if bq is not None:
                p.bonus.append(bq)
    if corrected:
        p.suggestion = " ".join(corrected.get(w, w) for w in parsed.text.split())
    return p


def _phrase_query(text: str) -> Q.Query | None:
    """Exact phrase: consecutive bigrams/tokens in ``gram``, or consecutive words in code."""
    gq = _gram_query(text, boost=2.0)
    if gq is None:
        return None
    code_words = [t for t, _ in analyze(text)[0] if not has_cjk(t)]
    if len(code_words) >= 2 and not has_cjk(text):
        return Q.Or([gq, Q.Phrase("code", code_words)])
    return gq
