"""The index schema: one Whoosh document per page section, fields fed with pre-analysed postings.

Analysis runs in worker processes (and is cached), so the text fields do not analyse anything
in the writer: :class:`PreAnalyzed` takes the posting list that :mod:`search.analysis` made.
"""

from __future__ import annotations

from collections.abc import Iterator

from whoosh import fields
from whoosh.analysis import SpaceSeparatedTokenizer

#: query-time weight of each text field (title > section heading > lead > breadcrumb > text > code)
FIELD_BOOSTS: dict[str, float] = {
    "title": 6.0,
    "heading": 3.0,
    "lead": 3.0,
    "crumbs": 1.2,
    "text": 1.0,
    "code": 0.5,
}
#: fields searched for every query word
TEXT_FIELDS = tuple(FIELD_BOOSTS)
#: metadata read from ``<meta name="kb:…">`` and stored with every section
META_FIELDS = ("type", "doc_id", "version", "status", "confidentiality", "tags", "updated")
#: BM25F length normalisation per field: short fields are hardly normalised
FIELD_B = {"title_B": 0.3, "heading_B": 0.3, "lead_B": 0.5, "crumbs_B": 0.2, "code_B": 0.6}


class PreAnalyzed(fields.TEXT):
    """A TEXT field whose value is already a list of (term bytes, freq, weight, positions)."""

    def __init__(self, stored: bool = False, phrase: bool = True) -> None:
        super().__init__(analyzer=SpaceSeparatedTokenizer(), phrase=phrase, stored=stored)

    def index(self, value, **kwargs) -> Iterator:  # type: ignore[override]
        if isinstance(value, str):  # a plain string (e.g. from a test): split on spaces
            yield from super().index(value, **kwargs)
            return
        yield from value


def make_schema() -> fields.Schema:
    """The Whoosh schema of a search index."""
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        page=fields.ID(stored=True),
        anchor=fields.STORED(),
        level=fields.STORED(),
        title=PreAnalyzed(stored=True, phrase=False),
        heading=PreAnalyzed(stored=True, phrase=False),
        lead=PreAnalyzed(phrase=False),
        crumbs=PreAnalyzed(stored=True, phrase=False),
        text=PreAnalyzed(phrase=False),
        code=PreAnalyzed(),
        gram=PreAnalyzed(),
        pinyin=PreAnalyzed(phrase=False),
        exact=PreAnalyzed(phrase=False),
        type=fields.ID(stored=True),
        doc_id=fields.ID(stored=True),
        version=fields.ID(stored=True),
        status=fields.ID(stored=True),
        confidentiality=fields.ID(stored=True),
        tags=fields.KEYWORD(stored=True, commas=True, lowercase=True),
        updated=fields.ID(stored=True),
        archived=fields.ID(stored=True),
        content=fields.STORED(),
    )
