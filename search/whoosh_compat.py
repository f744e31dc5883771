"""Every use of a private Whoosh name, in one place (issue 18 item 3).

Whoosh-Reloaded is pinned in ``pyproject.toml``. Three hot paths reach past its public API
because the public one costs too much at 5,000 pages; each piece here has a test comparing it
with Whoosh's public behaviour (``tests/test_whoosh_compat.py``), and a test fails when a private
Whoosh name appears anywhere else in the code base:

:class:`SegmentWriter`
    Whoosh's segment writer with an in-memory posting pool grouped by term and a flush that
    reads each field's length column once and hands the codec's postings writer a block at a
    time. Whoosh's own flush sorts one tuple per posting and reads a field length per posting
    (2.2 million column reads at 5,000 pages). It writes the same files, byte for byte, as
    ``ix.writer()`` (``bench/whoosh_flush.py`` measures the difference).
:func:`read_weights`
    ``{docnum: weight}`` of a term's postings read a block at a time (the block's id and weight
    arrays) instead of one ``id()``/``weight()`` call per posting: the same as
    ``matcher.items_as("weight")``. Every matcher type ``reader.postings`` returns is handled
    explicitly; any other raises :class:`TypeError`, so the fast path cannot be left silently.
:func:`encode_positions`
    The ``Positions`` format's value of a sorted position list (what ``Positions().encode``
    returns), without its per-position loop.

:func:`check` runs at import: when a Whoosh upgrade renames what these pieces use, importing
the search package fails with a message saying what is missing, rather than slowing down or
writing something else.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from functools import lru_cache
from itertools import pairwise
from pickle import dumps

from whoosh import writing
from whoosh.codec.whoosh3 import W3LeafMatcher, W3PostingsWriter
from whoosh.formats import Positions
from whoosh.matching import ListMatcher
from whoosh.matching.wrappers import FilterMatcher, MultiMatcher
from whoosh.system import pack_uint

_POSITIONS = Positions()

#: private attributes and methods the pieces below use, by the Whoosh class that has them
REQUIRED = {
    writing.SegmentWriter: ("_flush_segment",),
    W3PostingsWriter: ("_write_block",),
    W3LeafMatcher: ("_read_ids", "_read_weights", "_next_block"),
}
#: private instance attributes set in ``__init__``/``_new_block`` (checked on a live object by
#: the tests: they are not class attributes)
INSTANCE_ATTRIBUTES = {
    W3PostingsWriter: ("_blocklimit", "_ids", "_weights", "_values", "_maxweight", "_minlength",
                       "_maxlength"),
    W3LeafMatcher: ("_ids", "_weights"),
    FilterMatcher: ("_ids", "_exclude"),
}


def check() -> None:
    """Raise ImportError naming what the pinned Whoosh no longer has."""
    missing = [f"{cls.__name__}.{name}" for cls, names in REQUIRED.items() for name in names
               if not hasattr(cls, name)]
    if missing:
        raise ImportError("search.whoosh_compat: this Whoosh version lacks "
                          + ", ".join(missing) + " (see pyproject.toml for the pinned version)")


check()


# ------------------------------------------------------------------------------------- writing


class _MemoryPool:
    """Postings grouped by (field, term) as documents are added. Documents are numbered in the
    order they are added, so each term's list is already in document order and the flush only
    sorts the terms, not millions of posting tuples (and never spills runs to disk)."""

    def __init__(self) -> None:
        self.terms: dict[tuple[str, bytes], list] = defaultdict(list)

    def add(self, item: tuple) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        self.terms[(fieldname, tbytes)].append((docnum, weight, vbytes))

    def iter_postings(self):
        """(field, term, doc, weight, value) in Whoosh's posting order."""
        terms = self.terms
        for key in sorted(terms):
            fieldname, tbytes = key
            for docnum, weight, vbytes in terms[key]:
                yield fieldname, tbytes, docnum, weight, vbytes

    def cleanup(self) -> None:
        self.terms = defaultdict(list)


class SegmentWriter(writing.SegmentWriter):
    """Whoosh's segment writer with an in-memory posting pool and a leaner flush.

    Whoosh's flush walks one (field, term, doc, weight, value) tuple per posting through a
    generic loop that checks the order and asks the per-document reader for the field length
    of each posting (a column read). Here the terms come grouped from :class:`_MemoryPool`, and
    each field's length column is read once into a list. The codec's own field writer still
    writes every term and posting, so the files are what Whoosh would write.
    """

    def __init__(self, ix, **kwargs) -> None:
        super().__init__(ix, **kwargs)
        self.pool = _MemoryPool()

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        perdoc = self.per_document_reader() if self.codec.length_stats else None
        count = perdoc.doc_count_all() if perdoc is not None else 0
        fw = self.fieldwriter
        lastfield = None
        lengths: list = []
        for (fieldname, tbytes), plist in sorted(self.pool.terms.items()):
            if fieldname != lastfield:
                if lastfield is not None:
                    fw.finish_field()
                fw.start_field(fieldname, self.schema[fieldname])
                lastfield = fieldname
                if perdoc is not None:
                    read = perdoc.doc_field_length
                    lengths = [read(d, fieldname, 0) for d in range(count)]
                else:
                    lengths = [0] * count
            fw.start_term(tbytes)
            buffer_blocks(fw._postwriter, plist, lengths)
            fw.finish_term()
        if lastfield is not None:
            fw.finish_field()
        fw.close()
        if perdoc is not None:
            perdoc.close()


def buffer_blocks(pw, plist: list, lengths: list) -> None:
    """Give Whoosh's postings writer ``pw`` one term's ``(docnum, weight, value)`` postings a
    block at a time.

    The same as ``pw.add_posting(docnum, weight, value, lengths[docnum])`` for each posting
    (which writes a full block before buffering the next posting), without a call and four type
    checks per posting: each block's ids, weights, values and length and weight statistics
    are set as ``add_posting`` would leave them; the last block stays buffered for
    ``finish_postings``.
    """
    limit = pw._blocklimit
    for start in range(0, len(plist), limit):
        if start:
            pw._write_block()  # writes the buffered block and empties the buffer
        block = plist[start:start + limit]
        weights = [w for _, w, _ in block]
        pw._ids = array("I", [d for d, _, _ in block])
        pw._weights = array("f", weights)
        pw._values = [v for _, _, v in block if v]
        pw._maxweight = max(0, *weights)
        sizes = [n for n in (lengths[d] for d, _, _ in block) if n]
        pw._minlength = min(sizes) if sizes else None
        pw._maxlength = max(sizes) if sizes else 0


# ------------------------------------------------------------------------------------- reading


def read_weights(matcher) -> dict[int, float]:
    """``{docnum: weight}`` of every posting of ``matcher`` (as ``reader.postings`` returns
    it), read a block at a time: equal to ``dict(matcher.items_as("weight"))``. Consumes the
    matcher. Raises TypeError for a matcher type it does not know (no silent slow path)."""
    out: dict[int, float] = {}
    _read_into(out, matcher, 0, None)
    return out


def _read_into(out: dict, m, offset: int, exclude) -> None:
    kind = type(m)
    if kind is MultiMatcher:  # several segments: each leaf with its document offset
        for leaf, base in zip(m.matchers, m.offsets):
            _read_into(out, leaf, offset + base, exclude)
    elif kind is FilterMatcher:  # a segment with deleted documents
        if not m._exclude or exclude is not None:
            raise TypeError(f"read_weights: unexpected filter {m!r}")
        _read_into(out, m.child, offset, m._ids)
    elif kind is W3LeafMatcher:
        while m.is_active():
            if m._ids is None:
                m._read_ids()
            if m._weights is None:
                m._read_weights()
            if exclude:
                out.update((d + offset, w) for d, w in zip(m._ids, m._weights)
                           if d not in exclude)
            else:
                out.update(zip((d + offset for d in m._ids), m._weights))
            m._next_block()
    elif kind is ListMatcher:  # postings inlined in the term info (a one-posting term)
        for d, w in m.items_as("weight"):
            if not exclude or d not in exclude:
                out[d + offset] = w
    else:
        raise TypeError(f"read_weights: no block reader for {kind.__module__}.{kind.__name__}")


def block_reader(matcher) -> str:
    """How :func:`read_weights` reads ``matcher``: ``"blocks"`` when every leaf is read a block
    at a time, ``"list"`` when a leaf is an inlined list (for the tests)."""
    kind = type(matcher)
    if kind is MultiMatcher:
        kinds = {block_reader(leaf) for leaf in matcher.matchers}
        return "list" if "list" in kinds else "blocks"
    if kind is FilterMatcher:
        return block_reader(matcher.child)
    if kind is W3LeafMatcher:
        return "blocks"
    if kind is ListMatcher:
        return "list"
    raise TypeError(f"read_weights: no block reader for {kind.__module__}.{kind.__name__}")


# ------------------------------------------------------------------------------------ encoding


def encode_count(freq: int) -> bytes:
    """The value of a posting in a frequency-only field (Whoosh's ``Frequency`` format)."""
    return pack_uint(freq)


@lru_cache(maxsize=1 << 16)
def _one_position(pos: int) -> bytes:
    return _POSITIONS.encode([pos])


def encode_positions(plist: list[int]) -> bytes:
    """``Positions().encode(plist)`` for sorted positions: count, then pickled deltas."""
    if len(plist) == 1:
        return _one_position(plist[0])
    deltas = [plist[0]]
    deltas.extend([b - a for a, b in pairwise(plist)])
    return pack_uint(len(deltas)) + dumps(deltas, 2)


def segment_files(folder) -> dict[str, bytes]:
    """The files packed in the one segment of the index in ``folder``, by name without the
    segment id (public API; for comparing what two writers wrote)."""
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(folder))
    with ix.reader() as reader:
        segment = reader.segment()
        packed = segment.open_compound_file(ix.storage)
        return {name.replace(segment.segid, ""): packed.open_file(name).read()
                for name in packed.list()}
