"""Private Whoosh names (issue 18 item 3): each piece of :mod:`search.whoosh_compat` does what
Whoosh's public API does, scoring takes the block-reading path, and no private Whoosh name is
used outside that module."""

from __future__ import annotations

import ast
import random
import warnings
from pathlib import Path

import pytest
import whoosh
from whoosh import fields, index as whoosh_index
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.codec.whoosh3 import W3PostingsWriter
from whoosh.formats import Positions

from search import scoring, whoosh_compat
from search.analysis import postings
from search.schema import make_schema
from search.scoring import Scorer
from search.whoosh_compat import SegmentWriter, block_reader, read_weights, segment_files

ROOT = Path(__file__).resolve().parents[1]
COMPAT = ROOT / "search" / "whoosh_compat.py"
#: folders of our Python code
CODE = ("search", "kb", "hooks", "bench", "tests", "scripts")

WORDS = [f"w{i}" for i in range(40)]


def _schema() -> fields.Schema:
    return fields.Schema(id=fields.ID(stored=True, unique=True),
                         body=fields.TEXT(analyzer=SpaceSeparatedTokenizer(), stored=True),
                         tags=fields.TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False))


def _docs(n: int, seed: int = 7) -> list[dict]:
    """``n`` documents of varied length; ``common`` is in every one (several 128-posting
    blocks), ``rare`` in one."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        words = [rnd.choice(WORDS) for _ in range(rnd.randint(1, 60))]
        words.insert(rnd.randint(0, len(words)), "common")
        if i == n // 2:
            words.append("rare")
        out.append({"id": f"d{i}", "body": " ".join(words),
                    "tags": " ".join(rnd.sample(WORDS, rnd.randint(0, 4)))})
    return out


def _write(folder: Path, docs: list[dict], writer_class=None) -> whoosh_index.Index:
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), _schema())
    writer = writer_class(ix) if writer_class else ix.writer()
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return ix


def test_segment_writer_writes_the_files_whoosh_writes(tmp_path: Path) -> None:
    """The same documents through ``ix.writer()`` and our writer: the same segment files, byte
    for byte (postings with their block statistics, term infos, length columns)."""
    docs = _docs(700)
    _write(tmp_path / "stock", docs)
    _write(tmp_path / "ours", docs, SegmentWriter)
    stock, ours = segment_files(tmp_path / "stock"), segment_files(tmp_path / "ours")
    assert {".pst", ".trm"} <= {name[name.find("."):] for name in stock}
    assert ours == stock


def test_segment_writer_reads_back_like_whoosh(tmp_path: Path) -> None:
    """Read back through the public reader: the same terms, postings and field lengths."""
    docs = _docs(300)
    snapshots = []
    for name, cls in (("stock", None), ("ours", SegmentWriter)):
        with _write(tmp_path / name, docs, cls).reader() as r:
            snapshots.append(({t: list(r.postings(*t).items_as("weight")) for t in r.all_terms()},
                              [r.doc_field_length(d, "body") for d in range(r.doc_count_all())]))
    assert snapshots[0] == snapshots[1]
    terms, _ = snapshots[0]
    assert len(terms[("body", b"common")]) == 300  # three blocks of 128


def test_buffer_blocks_leaves_the_state_add_posting_leaves(tmp_path: Path) -> None:
    """The private attributes :func:`buffer_blocks` sets exist on Whoosh's postings writer and
    hold what ``add_posting`` leaves there."""
    from whoosh.codec.whoosh3 import W3TermInfo
    from whoosh.filedb.filestore import RamStorage

    storage = RamStorage()
    plist = [(d, float(d % 5 + 1), b"") for d in range(300)]
    lengths = [d % 9 for d in range(300)]
    states = []
    for fill in ("public", "ours"):
        pw = W3PostingsWriter(storage.create_file(fill), blocklimit=128)
        pw.start_postings(Positions(), W3TermInfo())
        if fill == "public":
            for d, w, v in plist:
                pw.add_posting(d, w, v, lengths[d])
        else:
            whoosh_compat.buffer_blocks(pw, plist, lengths)
        states.append({name: getattr(pw, name)
                       for name in whoosh_compat.INSTANCE_ATTRIBUTES[W3PostingsWriter]})
    assert states[0] == states[1]
    assert len(states[0]["_ids"]) == 300 - 256


def _index_with_deletions(tmp_path: Path) -> whoosh_index.Index:
    """Three segments, documents deleted from two of them (matchers get filtered)."""
    docs = _docs(900, seed=3)
    ix = _write(tmp_path / "ix", docs[:300], SegmentWriter)
    for part in (docs[300:600], docs[600:]):
        writer = SegmentWriter(ix)
        for doc in part:
            writer.add_document(**doc)
        writer.commit(merge=False)
    writer = ix.writer()
    for i in range(0, 900, 7):
        writer.delete_by_term("id", f"d{i}")
    writer.commit(merge=False)
    return ix


def test_read_weights_equals_the_public_matcher(tmp_path: Path) -> None:
    """For every term of a multi-segment index with deletions, reading blocks gives what
    ``items_as("weight")`` gives, and the block path is the one taken."""
    ix = _index_with_deletions(tmp_path)
    with ix.reader() as r:
        assert r.has_deletions() and len(list(r.leaf_readers())) == 3
        compared = 0
        for term in r.all_terms():
            public = dict(r.postings(*term).items_as("weight"))
            assert read_weights(r.postings(*term)) == public, term
            compared += 1
        assert compared > 40
        assert block_reader(r.postings("body", "common")) == "blocks"
        assert len(read_weights(r.postings("body", "common"))) == 900 - len(range(0, 900, 7))
        for leaf, _ in r.leaf_readers():  # one segment, with and without deletions
            assert read_weights(leaf.postings("body", "common")) == dict(
                leaf.postings("body", "common").items_as("weight"))


def test_read_weights_refuses_an_unknown_matcher() -> None:
    from whoosh.matching import NullMatcher

    with pytest.raises(TypeError, match="no block reader"):
        read_weights(NullMatcher())
    with pytest.raises(TypeError, match="no block reader"):
        block_reader(NullMatcher())


def test_scoring_reads_postings_through_the_block_reader(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The scorer's weights come from :func:`read_weights` on block matchers (no other path
    exists: an unknown matcher raises), and equal Whoosh's public answer."""
    ix = _index_with_deletions(tmp_path)
    seen: list[str] = []

    def counting(matcher):
        seen.append(block_reader(matcher))
        return read_weights(matcher)

    monkeypatch.setattr(scoring, "read_weights", counting)
    with ix.reader() as r:
        scorer = Scorer(r, pages=[f"p{d}" for d in range(r.doc_count_all())])
        got = scorer.postings("body", "common")
        assert got == dict(r.postings("body", "common").items_as("weight"))
    assert seen == ["blocks"]


def test_encodings_equal_whoosh_field_values() -> None:
    """:func:`search.analysis.postings` makes the (term, freq, weight, value) tuples a stock
    Whoosh field makes of the same words (values by ``Positions``/``Frequency`` encoding)."""
    words = "备份 口令 备份 vpn 备份 口令 机房".split()
    tokens = [(w, i) for i, w in enumerate(words)]
    schema = make_schema()
    for field, positional in (("gram", True), ("text", False)):
        stock = sorted(fields.TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=positional)
                       .index(" ".join(words)))
        ours = sorted(postings(tokens, positions=positional))
        assert ours == stock, field
        assert sorted(schema[field].index(ours)) == stock  # PreAnalyzed passes them through
    for plist in ([0], [5], [0, 3, 4, 90], list(range(0, 3000, 7))):
        assert whoosh_compat.encode_positions(plist) == Positions().encode(plist)


def test_pinned_whoosh_has_what_the_compat_module_uses(tmp_path: Path) -> None:
    whoosh_compat.check()
    ix = _write(tmp_path / "ix", _docs(20))
    with ix.reader() as r:
        leaf = r.postings("body", "common")
    assert all(hasattr(leaf, a) for a in whoosh_compat.INSTANCE_ATTRIBUTES[type(leaf)])


# ------------------------------------------------------------------------- no private names


def _whoosh_private_names() -> set[str]:
    """Every ``_name`` (not dunder) Whoosh defines: functions, classes, attributes, globals."""
    names: set[str] = set()
    for path in Path(whoosh.__file__).parent.rglob("*.py"):
        with warnings.catch_warnings():  # Whoosh's own invalid escapes
            warnings.simplefilter("ignore")
            tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            name = None
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                name = node.name
            elif isinstance(node, ast.Attribute):
                name = node.attr
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                name = node.id
            if name and name.startswith("_") and not name.startswith("__"):
                names.add(name)
    return names


def private_whoosh_uses(source: str, private: set[str]) -> list[tuple[int, str]]:
    """(line, what) for each use of a private Whoosh name in ``source``: ``from whoosh…
    import _x``, ``x._y`` on anything but ``self``/``cls`` where Whoosh defines ``_y``, and
    ``def _y``/``self._y`` in a class derived from a Whoosh class."""
    tree = ast.parse(source)
    from_whoosh: set[str] = set()
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("whoosh"):
            for alias in node.names:
                from_whoosh.add(alias.asname or alias.name)
                if alias.name.startswith("_"):
                    out.append((node.lineno, f"from {node.module} import {alias.name}"))
        elif isinstance(node, ast.Import):
            from_whoosh.update(a.asname or a.name for a in node.names
                               if a.name.startswith("whoosh"))

    def root(expr) -> str | None:
        while isinstance(expr, ast.Attribute):
            expr = expr.value
        return expr.id if isinstance(expr, ast.Name) else None

    whoosh_classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)
                      and any(root(b) in from_whoosh for b in n.bases)]
    inside = {id(n) for c in whoosh_classes for n in ast.walk(c)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in private:
            owner = root(node.value)
            if owner in from_whoosh or (owner not in ("self", "cls")) or id(node) in inside:
                out.append((node.lineno, f"{ast.unparse(node)}"))
        elif isinstance(node, ast.FunctionDef) and id(node) in inside and node.name in private:
            out.append((node.lineno, f"def {node.name}"))
    return out


def test_the_lint_finds_private_names() -> None:
    """The check below is not blind: it flags what the compat module does."""
    private = _whoosh_private_names()
    assert {"_blocklimit", "_read_ids", "_flush_segment", "_DEF_INDEX_NAME"} <= private
    found = private_whoosh_uses(COMPAT.read_text("utf-8"), private)
    assert {"pw._blocklimit", "m._read_ids", "def _flush_segment"} <= {w for _, w in found}
    sample = ("from whoosh import index\nfrom whoosh.util import _x\n"
              "name = index._DEF_INDEX_NAME\n")
    assert [w for _, w in private_whoosh_uses(sample, private | {"_x"})] == [
        "from whoosh.util import _x", "index._DEF_INDEX_NAME"]


def test_no_private_whoosh_name_outside_the_compat_module() -> None:
    private = _whoosh_private_names()
    found = []
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == COMPAT or ".venv" in path.parts:
                continue
            for line, what in private_whoosh_uses(path.read_text("utf-8"), private):
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not found, "private Whoosh names outside search/whoosh_compat.py:\n" + "\n".join(found)
