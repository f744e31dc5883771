"""BM25F scoring of query plans over the Whoosh index's postings.

Whoosh stores the postings, positions and field lengths; scoring is done here because query
trees of concepts × alternatives × fields make Whoosh's generic matchers slow, and because the
ranking needs per-concept coverage anyway. For one alternative (a word with its synonyms kept
apart) the term frequencies of all fields are combined before saturation (true BM25F):

    tf' = Σ_f boost_f · tf_f / (1 − b_f + b_f · len_f / avglen_f)
    score = idf · tf' · (k1 + 1) / (tf' + k1)

Pages then get: × coverage (the rarity-weighted share of query concepts a section matches,
each concept weighted by :func:`search.lexicon.topicality` too, so everyday words like 一次 or
整个 count little) and × a naming bonus (the share of concepts named by the page title, the
section heading or the page's first paragraph: a page titled with the query's topic beats one
that merely repeats its words). ``K1`` is high (3.0) so that a word in a boosted field is not
saturated down to the value of two body mentions.

A word (or synonym) found on a large share of the site's pages (over :data:`COMMON_SHARE`, such
as 信息 from a boilerplate line "更多信息：<url>" under every page's description) says little
about any one page: its coverage and naming count × :func:`common_factor`, which falls with the
share, and it does not make the concept look common when the concept's other words are rare.
This is corpus statistics (page frequency), not a word list.

A Chinese word that jieba cut differently in a page still matches through its bigram phrase in
the ``gram`` field. Postings read once are kept per index generation (bounded cache).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

from search.matching import Alternative, Concept, Phrase, Plan
from search.schema import FIELD_B, FIELD_BOOSTS
from search.whoosh_compat import read_weights

K1 = 3.0
DEFAULT_B = 0.75
GRAM_BOOST = 1.2
PINYIN_BOOST = 4.0
MULTI_TERM_FACTOR = 0.6
PHRASE_BONUS = 0.3
#: score × (floor + (1 − floor) · coverage^power): pages matching all concepts first
COVERAGE_FLOOR = 0.25
COVERAGE_POWER = 2.0
CACHE_ENTRIES = 20000
#: concept weights (one-character words, everyday words) scale scores, not only coverage
WEIGHT_SCORES = True
#: score × (1 + TITLE_BONUS · named share); a heading or first paragraph names less than a title
TITLE_BONUS = 0.5
HEADING_NAMES = 0.6
LEAD_NAMES = 0.6
#: share of pages above which a word counts as boilerplate-like for coverage and naming
COMMON_SHARE = 0.4
#: how fast that count falls beyond the share: × (COMMON_SHARE / share) ** COMMON_POWER
COMMON_POWER = 2.0
LENGTH_FIELDS = (*FIELD_BOOSTS, "gram")
#: fields whose words make a typed Latin word "known" (else it is split: matching.split_unknown)
KNOWN_FIELDS = ("text", "title", "heading", "code")
#: most that the words of a several-word concept, matched apart, cover or name of it
PARTS_CAP = 0.8
#: a concept's alternatives (word, synonyms, repairs) share the rarity of all their matches
SHARED_IDF = True


def _read_postings(m, positions: bool) -> dict:
    """All postings of a matcher: ``{docnum: weight}`` read a block at a time
    (:func:`search.whoosh_compat.read_weights`), or ``{docnum: [positions]}``."""
    if positions:
        return dict(m.items_as("positions"))
    return read_weights(m)


def common_factor(share: float) -> float:
    """Weight of a word's coverage and naming given the share of pages it occurs on: 1.0 up to
    :data:`COMMON_SHARE`, then falling (0.32 at 71 % of the pages, 0.16 on every page)."""
    if share <= COMMON_SHARE or share <= 0:
        return 1.0
    return (COMMON_SHARE / share) ** COMMON_POWER


class Scorer:
    """Scores plans against one opened index reader (shared by threads; the cache is locked).

    ``pages`` gives the page of each document number (None for deleted ones); without it the
    page is read from the stored fields.
    """

    def __init__(self, reader, pages: list[str | None] | None = None) -> None:
        self.reader = reader
        self.n = reader.doc_count_all()
        self._lock = threading.Lock()  # guards the cache
        self._read = threading.RLock()  # Whoosh readers share file handles between threads
        self._cache: OrderedDict[tuple[str, str, bool], dict] = OrderedDict()
        self.deleted = (
            {d for d in range(self.n) if reader.is_deleted(d)} if reader.has_deletions() else set()
        )
        self.norm: dict[str, list[float]] = {}
        for f in LENGTH_FIELDS:
            avg = (reader.field_length(f) / self.n) if self.n else 0.0
            b = FIELD_B.get(f"{f}_B", DEFAULT_B)
            self.norm[f] = [
                (1 - b + b * (reader.doc_field_length(d, f) or 0) / avg) if avg else 1.0
                for d in range(self.n)
            ]
        if pages is None:
            pages = [None] * self.n
            for d, fields in reader.iter_docs():
                pages[d] = fields.get("page", "")
        #: page number of each document (sections of one page share it); -1 for deleted ones
        ids: dict[str, int] = {}
        self.page_of = [-1 if p is None else ids.setdefault(p, len(ids)) for p in pages]
        self.n_pages = len(ids)

    # ------------------------------------------------------------------------------ postings

    def postings(self, field: str, term: str, positions: bool = False) -> dict:
        """``{docnum: freq}`` (or ``{docnum: [positions]}``) of a term; empty when absent."""
        key = (field, term, positions)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        with self._read:
            if (field, term) in self.reader:
                m = self.reader.postings(field, term)
                value = _read_postings(m, positions)
                for d in self.deleted.intersection(value):
                    del value[d]
            else:
                value = {}
        with self._lock:
            self._cache[key] = value
            if len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return value

    def doc_frequency(self, word: str) -> int:
        """Sections whose text field has ``word``."""
        with self._read:
            return self.reader.doc_frequency("text", word)

    def known(self, word: str) -> bool:
        """True when a section's text, title, heading or code has the (analysed) word."""
        with self._read:
            return any(self.reader.doc_frequency(f, word) for f in KNOWN_FIELDS)

    def expand(self, prefix: str, limit: int = 24) -> list[str]:
        """Up to ``limit`` indexed words of the text field starting with ``prefix``."""
        out: list[str] = []
        with self._read:
            for term in self.reader.expand_prefix("text", prefix):
                out.append(term.decode("utf-8") if isinstance(term, bytes) else term)
                if len(out) >= limit:
                    break
        return out

    def phrase(self, field: str, terms: list[tuple[str, int]]) -> dict[int, int]:
        """``{docnum: occurrences}`` of ``terms`` at their offsets in a positional field."""
        if not terms:
            return {}
        if len(terms) == 1:
            return {d: int(f) for d, f in self.postings(field, terms[0][0]).items()}
        lists = [(self.postings(field, t, positions=True), off) for t, off in terms]
        lists.sort(key=lambda x: len(x[0]))
        docs = set(lists[0][0])
        for other, _ in lists[1:]:
            docs &= other.keys()
            if not docs:
                return {}
        out = {}
        for d in docs:
            plist, off = lists[0]
            starts = {p - off for p in plist[d]}
            for plist, off in lists[1:]:
                starts &= {p - off for p in plist[d]}
                if not starts:
                    break
            if starts:
                out[d] = len(starts)
        return out

    def idf(self, df: int) -> float:
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    # ------------------------------------------------------------------------------- scoring

    def _weighted_tf(self, term: str) -> dict[int, float]:
        tf: dict[int, float] = {}
        for f, boost in FIELD_BOOSTS.items():
            norm = self.norm[f]
            for d, freq in self.postings(f, term).items():
                tf[d] = tf.get(d, 0.0) + boost * freq / norm[d]
        return tf

    def alternative(self, alt: Alternative) -> dict[int, float]:
        """BM25F score of one alternative per matching document."""
        tf: dict[int, float] = {}
        if len(alt.terms) == 1:
            tf = self._weighted_tf(alt.terms[0])
        elif alt.terms:  # several words: all of them, discounted (the phrase below counts more)
            per = [self._weighted_tf(t) for t in alt.terms]
            common = set(per[0]).intersection(*per[1:])
            tf = {d: MULTI_TERM_FACTOR * sum(p[d] for p in per) / len(per) for d in common}
        if alt.grams and (len(alt.grams) > 1 or len(alt.terms) != 1):
            gnorm = self.norm["gram"]
            for d, count in self.phrase("gram", alt.grams).items():
                g = GRAM_BOOST * count / gnorm[d]
                if g > tf.get(d, 0.0):
                    tf[d] = g
        if alt.pinyin:
            for d, freq in self.postings("pinyin", alt.text).items():
                tf[d] = tf.get(d, 0.0) + PINYIN_BOOST * freq
        if not tf:
            return {}
        idf = self.idf(len(tf))
        return {d: idf * t * (K1 + 1) / (t + K1) for d, t in tf.items()}

    def page_share(self, docs) -> float:
        """Share of the site's pages that have at least one of ``docs``."""
        if not self.n_pages:
            return 0.0
        return len({self.page_of[d] for d in docs}) / self.n_pages

    def named(self, alt: Alternative) -> dict[int, float]:
        """Documents whose page title (1.0) or section heading (:data:`HEADING_NAMES`) has every
        word of the alternative: the words name what the section is about."""
        out: dict[int, float] = {}
        for f, weight in (("title", 1.0), ("heading", HEADING_NAMES), ("lead", LEAD_NAMES)):
            docs: set[int] | None = None
            for t in alt.terms:
                found = self.postings(f, t).keys()
                docs = set(found) if docs is None else docs & found
                if not docs:
                    break
            for d in docs or ():
                out[d] = max(out.get(d, 0.0), weight)
        return out

    def concept(self, c: Concept, words: dict[int, set[str]] | None = None
                ) -> tuple[dict[int, float], dict[int, float], dict[int, float], int]:
        """Per document: best alternative score, weight of the best matching alternative,
        weight of the best alternative naming it (title/heading/lead); and the number of
        documents matching the concept. Alternatives found on most pages (see
        :func:`common_factor`) cover and name with less weight, and only count towards that
        number when no other alternative of the concept matches.

        Alternatives standing for one word of a several-word concept (``alt.part``) add up
        across words (each word at its best alternative), at most :data:`PARTS_CAP`: a page
        with both words of 忘记密码 beats a page with one. ``words`` (when given) gets, per
        document, the user's words it matched (all of ``c.words`` for a whole match)."""
        score: dict[int, float] = {}
        cover: dict[int, float] = {}
        named: dict[int, float] = {}
        informative: set[int] = set()
        parts: dict[str, tuple[dict, dict, dict]] = {}
        found = [(alt, self.alternative(alt)) for alt in c.alternatives]
        shared = None
        if SHARED_IDF:  # a word and its synonyms are one term: one rarity (Lucene's SynonymQuery)
            docs = set().union(*(sc for alt, sc in found if not alt.part))
            shared = self.idf(len(docs)) if docs else None
        for alt, scores in found:
            if shared is not None and not alt.part and scores:
                ratio = shared / self.idf(len(scores))
                scores = {d: v * ratio for d, v in scores.items()}
            common = common_factor(self.page_share(scores))
            if common == 1.0 and not alt.part:
                informative.update(scores)
            s_out, c_out, n_out = parts.setdefault(alt.part, ({}, {}, {})) if alt.part else (
                score, cover, named)
            for d, s in scores.items():
                s *= alt.weight
                if s > s_out.get(d, 0.0):
                    s_out[d] = s
                if alt.weight * common > c_out.get(d, 0.0):
                    c_out[d] = alt.weight * common
            if TITLE_BONUS:
                for d, w in self.named(alt).items():
                    n_out[d] = max(n_out.get(d, 0.0), w * alt.weight * common)
        if words is not None:
            for d in score:
                words.setdefault(d, set()).update(c.words)
            for part, (s_part, _, _) in parts.items():
                for d in s_part:
                    words.setdefault(d, set()).add(part)
        whole = len(informative or score)  # the concept's rarity: from its whole matches
        for target, index in ((score, 0), (cover, 1), (named, 2)):
            summed: dict[int, float] = {}
            for maps in parts.values():
                for d, v in maps[index].items():
                    summed[d] = summed.get(d, 0.0) + v
            for d, v in summed.items():
                v = min(v, PARTS_CAP) if index else v
                if v > target.get(d, 0.0):
                    target[d] = v
        return score, cover, named, whole or len(score)

    def phrase_docs(self, ph: Phrase) -> dict[int, int]:
        """Documents containing the phrase (bigram sequence, or word sequence in code)."""
        out = dict(self.phrase("gram", ph.grams))
        if ph.code:
            for d, n in self.phrase("code", ph.code).items():
                out[d] = out.get(d, 0) + n
        return out

    def score(self, plan: Plan, words: dict[int, set[str]] | None = None
              ) -> tuple[dict[int, float], set[int]]:
        """Final score per matching document, and the documents the exclusions hit;
        ``words`` (when given) gets the user's words each document matched."""
        totals: dict[int, float] = {}
        covered: dict[int, float] = {}
        titled: dict[int, float] = {}
        weight_sum = 0.0
        for c in plan.concepts:
            score, cover, named, df = self.concept(c, words)
            w = c.weight * self.idf(df) if df else c.weight
            weight_sum += w
            for d, n in named.items():
                titled[d] = titled.get(d, 0.0) + w * n
            for d, s in score.items():
                totals[d] = totals.get(d, 0.0) + s * (c.weight if WEIGHT_SCORES else 1.0)
                covered[d] = covered.get(d, 0.0) + w * cover[d]
        if plan.required:
            req: dict[int, int] | None = None
            for ph in plan.required:
                docs = self.phrase_docs(ph)
                req = docs if req is None else {d: n + docs[d] for d, n in req.items() if d in docs}
            weight_sum += 1.0
            totals = {d: totals.get(d, 0.0) + self.idf(len(req)) for d in req or {}}
            covered = {d: covered.get(d, 0.0) + 1.0 for d in totals}
        bonus: dict[int, int] = {}
        for ph in plan.bonus:
            for d in self.phrase_docs(ph):
                bonus[d] = bonus.get(d, 0) + 1
        exact = self.postings("exact", plan.exact) if plan.exact else {}
        final = {}
        for d in exact:
            totals.setdefault(d, 0.0)
            covered.setdefault(d, 0.0)
        for d, s in totals.items():
            frac = covered[d] / weight_sum if weight_sum else 1.0
            s *= COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * frac**COVERAGE_POWER
            s *= 1 + PHRASE_BONUS * min(bonus.get(d, 0), 2)
            if weight_sum:
                s *= 1 + TITLE_BONUS * titled.get(d, 0.0) / weight_sum
            final[d] = s + (1000.0 if d in exact else 0.0)
        excluded: set[int] = set()
        for ph in plan.excluded:
            excluded.update(self.phrase_docs(ph))
        return final, excluded
