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

from search.analysis import (
    LATIN_SEP, analyze, cut, query_grams, has_cjk, normalize, pinyin_key, runs,
)
from search.lexicon import in_dictionary, spellings, stopwords, synonyms, topicality
from search.query import ParsedQuery

SYNONYM_WEIGHT = 0.8
CROSS_SCRIPT_WEIGHT = 0.6
REPAIR_WEIGHT = 0.85
SINGLE_CHAR_WEIGHT = 0.5
CHAR_WORD_WEIGHT = 0.6
CHAR_WORDS = 4
#: a synonym-file key of several words (``忘记密码``) keeps each of its words (and their
#: synonyms) as alternatives of this weight (× the word's topicality): expansion adds, never
#: replaces, so a page with the user's own words still matches
PART_WEIGHT = 0.3
#: the keys on the left of one one-way line share their words as parts (see lexicon.spellings)
SPELLING_PARTS = True
#: a Latin word the index does not have but whose letters are the pinyin of an indexed Chinese
#: word (``mima`` → 密码, ``shezhi`` → 设置) searches that word with this weight
PINYIN_WEIGHT = 0.85
#: an unknown Latin word this short (``wps``) is only offered as "did you mean" (one edit
#: away from ``ups``): its correction is a different word, not searched in its place
SHORT_WORD = 4
MAX_CONCEPTS = 12
RARE_DF = 3
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

    @cached_property
    def _containing(self) -> dict[str, list[str]]:
        table: dict[str, list[tuple[int, str]]] = {}
        for group in self.homophones.values():
            for word, df in group:
                if len(word) == 2:
                    for ch in set(word):
                        table.setdefault(ch, []).append((df, word))
        return {ch: [w for _, w in sorted(v, reverse=True)] for ch, v in table.items()}

    @cached_property
    def _by_letters(self) -> dict[str, str]:
        table: dict[str, tuple[int, str]] = {}
        for key, group in self.homophones.items():
            letters = key.replace(" ", "")
            for word, df in group:
                if df > table.get(letters, (0, ""))[0]:
                    table[letters] = (df, word)
        return {k: w for k, (_, w) in table.items()}

    def from_pinyin(self, letters: str) -> str | None:
        """The most frequent indexed Chinese word (2-4 characters) whose tone-less pinyin is
        ``letters`` (``mima`` → 密码), if any."""
        if not letters.isascii() or not letters.isalpha() or len(letters) < 4:
            return None
        return self._by_letters.get(letters)

    def containing(self, char: str, limit: int = 4) -> list[str]:
        """The most frequent indexed two-character words with ``char`` (丢 → 丢失, 丢弃)."""
        return self._containing.get(char, [])[:limit]

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
class Alternative:
    """One way to match a concept: a word (or synonym, repair…) and its weight."""

    text: str
    weight: float
    terms: list[str]  # word terms, one per position (the whole word, not its sub-words)
    grams: list[tuple[str, int]]  # the ``gram`` terms of the text with their offsets
    pinyin: bool = False  # also look the text up among title pinyin
    part: str = ""  # the user's word it stands for when it matches part of the concept only


@dataclass
class Concept:
    """One thing asked for and its alternatives."""

    surface: str
    alternatives: list[Alternative]
    weight: float = 1.0
    parts: list[str] = field(default_factory=list)  # the user's words of a several-word key

    @property
    def words(self) -> list[str]:
        """The user's words this concept stands for (its parts, or the surface itself)."""
        return self.parts or [self.surface]


@dataclass
class Phrase:
    """An exact sequence: ``gram`` terms, and for Latin text the word sequence in code."""

    text: str
    grams: list[tuple[str, int]]  # ``gram`` terms with offsets
    code: list[tuple[str, int]] = field(default_factory=list)  # code words with offsets


@dataclass
class Plan:
    """Everything the engine runs for one query."""

    concepts: list[Concept] = field(default_factory=list)
    required: list[Phrase] = field(default_factory=list)
    bonus: list[Phrase] = field(default_factory=list)
    excluded: list[Phrase] = field(default_factory=list)
    highlight: list[str] = field(default_factory=list)
    suggestion: str | None = None
    exact: str = ""

    @property
    def empty(self) -> bool:
        return not (self.concepts or self.required)


def alternative(text: str, weight: float = 1.0, part: str = "") -> Alternative | None:
    """Analyse one alternative's text the way pages were analysed."""
    words, grams = analyze(text)
    main: dict[int, str] = {}
    for term, pos in words:
        main.setdefault(pos, term)
    terms = list(dict.fromkeys(main.values()))
    if not terms:
        return None
    latin = text.isascii() and text.isalpha() and len(text) >= 2
    return Alternative(text, weight, terms, query_grams(text), pinyin=latin, part=part)


def phrase(text: str) -> Phrase | None:
    """The :class:`Phrase` of ``text`` (None when it has no searchable characters)."""
    words, _ = analyze(text)
    grams = query_grams(text)
    if not grams:
        return None
    first: dict[int, str] = {}
    for t, pos in words:
        first.setdefault(pos, t)
    code = sorted(((t, p) for p, t in first.items()), key=lambda x: x[1])
    code = code if not has_cjk(text) and len(code) >= 2 else []
    return Phrase(text, grams, code)


# ---------------------------------------------------------------------------------- segmenting


def _joined(units_: list[str], i: int, j: int) -> str:
    """The text of units i..j-1 as a synonym-file key (ASCII neighbours joined by a space)."""
    out = units_[i]
    for u in units_[i + 1 : j]:
        out += (" " if out[-1:].isascii() and out[-1:].isalnum() and u[:1].isascii() else "") + u
    return out


def units(text: str) -> list[tuple[str, bool]]:
    """The query's units in order: jieba words and English/code tokens, with adjacent units
    joined when together they form a synonym-file entry (``u`` + ``盘`` → ``u盘``)."""
    raw: list[str] = []
    for is_cjk, run in runs(normalize(text)):
        raw.extend(cut(run) if is_cjk else [run])
    table = synonyms()
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(raw):
        for j in range(min(len(raw), i + 4), i, -1):
            key = _joined(raw, i, j)
            if j - i > 1 and key in table:
                out.append((key, True))
                i = j
                break
        else:
            out.append((raw[i], raw[i] in table))
            i += 1
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


def _split_rare(found: list[tuple[str, bool, str]], df) -> tuple[list, list[str]]:
    """Cut long Chinese words that (almost) no page has into the dictionary words inside them
    (``视频格式`` → ``视频`` ``格式``); the whole word stays a phrase bonus."""
    syn = synonyms()
    out: list[tuple[str, bool, str]] = []
    compounds: list[str] = []
    for surface, is_key, fix in found:
        if is_key or fix or len(surface) < 3 or not has_cjk(surface) or df(surface) >= RARE_DF:
            out.append((surface, is_key, fix))
            continue
        pieces = cover(surface)
        if len(pieces) < 2:
            out.append((surface, is_key, fix))
            continue
        compounds.append(surface)
        out.extend((w, w in syn, "") for w in pieces)
    return out, compounds


def cover(word: str) -> list[str]:
    """Greedy left-to-right cut of ``word`` into its longest shorter dictionary words."""
    out = []
    i = 0
    while i < len(word):
        for n in range(min(len(word) - 1, len(word) - i), 0, -1):
            piece = word[i : i + n]
            if n == 1 or in_dictionary(piece) or piece in synonyms():
                out.append(piece)
                i += n
                break
    return out


def key_parts(key: str) -> list[str]:
    """The words of a synonym-file key found in a query (``忘记密码`` → ``忘记`` ``密码``)."""
    out: list[str] = []
    for is_cjk, run in runs(key):
        out.extend(cut(run) if is_cjk else run.split())
    if len(out) == 1 and has_cjk(key) and len(key) >= 3:  # one dictionary word: 忘记密码
        out = cover(key)
    if len(out) < 2:
        return []
    stop = stopwords()  # one-letter/one-character units are bound to the key (u盘, 改密码)
    return [w for w in dict.fromkeys(out) if w not in stop and len(w) >= 2]


_LATIN = re.compile(r"[a-z0-9]+(?:[._\-][a-z0-9]+)*")
#: a typed word with more separators than this is not a code: no known head is looked for
MAX_CODE_PARTS = 6
_LETTERS_DIGITS = re.compile(r"[a-z]+|[0-9]+")


def split_unknown(text: str, known) -> str:
    """Split the Latin words of a query that no page has into parts a page has: a document
    code's known head and the rest (``xxzx-sc-002-02`` → ``xxzx-sc-002 02``), else the letter
    and digit runs (``windows10`` → ``windows 10``, which then meets ``win10 = windows 10``).
    ``known(word)`` tells whether the index has the analysed word; synonym-file keys stay."""
    syn = synonyms()

    def fix(word: str) -> str:
        if word in syn or known(word):
            return word
        seps = list(LATIN_SEP.finditer(word))
        for m in reversed(seps if len(seps) <= MAX_CODE_PARTS else ()):
            if known(word[: m.start()]):
                return word[: m.start()] + " " + fix(word[m.end():])
        pieces = _LETTERS_DIGITS.findall(word)
        # only into parts pages have (windows10 → windows 10): an unknown code such as
        # lkititle7f3a must not turn into 7, f and 3 and match any page with a 3
        if len(pieces) >= 2 and "".join(pieces) == word and \
                all(p in syn or known(p) for p in pieces):
            return " ".join(pieces)
        return word

    return _LATIN.sub(lambda m: fix(m.group(0)), text)


def _synonym_weight(surface: str, synonym: str) -> float:
    """Synonyms count less than the typed word; a synonym in the other script less again."""
    return SYNONYM_WEIGHT if has_cjk(surface) == has_cjk(synonym) else CROSS_SCRIPT_WEIGHT


def plan(parsed: ParsedQuery, lexicon: Lexicon, df, expand) -> Plan:
    """Build the :class:`Plan` of a parsed query.

    ``df(word)`` counts the sections whose text has ``word``; ``expand(prefix)`` lists indexed
    words starting with ``prefix`` (at most :data:`MAX_PREFIX_TERMS`).
    """
    p = Plan(exact=normalize(parsed.raw))
    stop = stopwords()
    syn = synonyms()
    found = _repair(units(parsed.text), lexicon, df)
    found = [u for u in found if u[0] not in stop] or found  # 怎么办 is filler, not 怎么 + 办
    found, compounds = _split_rare(found, df)
    kept = [u for u in found if u[0] not in stop] or found
    seen: set[str] = set()
    kept = [u for u in kept if not (u[0] in seen or seen.add(u[0]))]  # each word once, in order
    corrected: dict[str, str] = {}
    for surface, is_key, fix in kept[:MAX_CONCEPTS]:
        alts: list[tuple[str, float, str]] = [(surface, 1.0, "")]
        hanzi = None
        alts += [(s, _synonym_weight(surface, s), "") for s in syn.get(surface, ())]
        parts = key_parts(surface) if is_key else []
        if is_key and SPELLING_PARTS:  # 忘了密码 also keeps 忘记 of 忘记密码 on its line
            parts = list(dict.fromkeys(parts + [w for k in spellings().get(surface, ())
                                                for w in key_parts(k)]))
        for w in parts:  # the user's own words of a several-word key still match
            pw = PART_WEIGHT * (topicality(w) if has_cjk(w) else 1.0)
            alts.append((w, pw, w))
            alts += [(s, pw * _synonym_weight(w, s), w) for s in syn.get(w, ())]
        if fix:
            alts.append((fix, REPAIR_WEIGHT, ""))
        elif len(surface) == 1 and has_cjk(surface) and not is_key:
            # a one-character word (丢, 换, 装) is mostly written as a two-character one
            alts += [(w, CHAR_WORD_WEIGHT, "") for w in lexicon.containing(surface, CHAR_WORDS)]
        elif not has_cjk(surface) and not df(surface):
            hanzi = lexicon.from_pinyin(surface)
            # a word of the synonyms file (wps = 办公软件) is vocabulary, not a typo
            better = None if hanzi or surface in syn else lexicon.correct(surface)
            if hanzi:  # pinyin typed without the input method: mima → 密码 (and its synonyms)
                alts.append((hanzi, PINYIN_WEIGHT, ""))
                alts += [(s, PINYIN_WEIGHT * _synonym_weight(hanzi, s), "")
                         for s in syn.get(hanzi, ())]
            elif better:
                corrected[surface] = better
                if len(surface) > SHORT_WORD:  # pasword → password; wps is not ups
                    alts.append((better, REPAIR_WEIGHT, ""))
        seen_alt: set[str] = set()
        alts = [a for a in alts if not (a[0] in seen_alt or seen_alt.add(a[0]))]
        found_alts = [a for a in (alternative(*t) for t in alts) if a is not None]
        if hanzi and found_alts and found_alts[0].text == surface:
            found_alts[0].pinyin = False  # the word it spells is searched itself, titles too
        if not found_alts:
            continue
        weight = SINGLE_CHAR_WEIGHT if len(surface) == 1 and has_cjk(surface) else 1.0
        if has_cjk(surface):  # synonym-file keys too: listing a word must not change its weight
            weight *= topicality(surface)
        elif hanzi:  # pinyin weighs as the word it spells (shezhi: 设置, an everyday verb)
            weight *= topicality(hanzi)
        p.concepts.append(Concept(surface, found_alts, weight, parts))
        p.highlight += [t for t, _, _ in alts]
    for prefix in parsed.prefixes:
        words = [w for w in expand(prefix)[:MAX_PREFIX_TERMS]]
        if words:
            palts = [Alternative(w, 1.0, [w], [(w, 0)]) for w in words]
            p.concepts.append(Concept(prefix + "*", palts))
            p.highlight.append(prefix)
    for text in parsed.phrases:
        ph = phrase(text)
        if ph is not None:
            p.required.append(ph)
            p.highlight.append(text)
    p.excluded = [ph for ph in map(phrase, parsed.excluded) if ph is not None]
    p.bonus = [ph for ph in map(phrase, compounds) if ph is not None]
    if len(p.concepts) >= 2:
        joined = "".join(c.surface for c in p.concepts if has_cjk(c.surface))
        ph = phrase(joined) if len(joined) >= 3 else None
        if ph is not None:
            p.bonus.append(ph)
    if corrected:
        p.suggestion = " ".join(corrected.get(w, w) for w in parsed.text.split())
    return p
