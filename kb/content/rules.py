"""Rules that need the whole site: checked once per build over the :class:`kb.content.catalog.Catalog`.

Each rule returns :class:`kb.errors.ContentError` rows naming file, line, field, what was expected
and what was found; :func:`check_site` runs them all so one build reports every problem at once.

- the identifier (``doc_id``; a course's ``course_code``) matches the pattern set for its type in
  ``extra.kb.doc_id_patterns``, and no two documents share one (the error names both files);
- ``supersedes`` / ``superseded_by`` name existing documents and agree with each other;
- the newest ``history`` entry has the document's ``version``;
- a manual's chapter numbers are unique;
- ``owner`` is one of ``extra.kb.owners`` (when that list is set), an announcement's ``category``
  one of ``extra.kb.announcement_categories``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from mkdocs.exceptions import PluginError

from kb.config import KBSettings
from kb.errors import ContentError
from kb.content.model import NoticeMeta, ControlledMeta, Status, field_name

if TYPE_CHECKING:  # the catalog calls these rules; they only read its classes
    from kb.content.catalog import Catalog, Entry, Unvalidated

#: the field that identifies a document of each type
ID_FIELDS: dict[str, str] = {"policy": "doc_id", "manual": "doc_id", "course": "course_code"}


def _every(catalog: Catalog) -> list[Entry | Unvalidated]:
    """Valid entries and those whose front matter failed validation, by repository path: rules
    on plain text fields (identifiers, vocabularies) check both, so a file's own errors do not
    hide its site-wide ones."""
    return sorted([*catalog.entries, *catalog.unvalidated], key=lambda e: e.repo_path)


def _where(entry: Entry | Unvalidated, key: str) -> str:
    line = entry.line(key)
    return f"{entry.repo_path}:{line}" if line else entry.repo_path


def _error(entry: Entry | Unvalidated, key: str, expected: str, found: str | None,
           line_key: tuple[str | int, ...] | None = None) -> ContentError:
    line = entry.front.line_of(line_key or (key,))
    return ContentError(entry.repo_path, line, field_name((key,)), expected, found)


def check_identifiers(catalog: Catalog, settings: KBSettings) -> Iterable[ContentError]:
    """Identifier pattern per type, and uniqueness across the site."""
    patterns: dict[str, re.Pattern[str]] = {}
    for kind, pattern in settings.doc_id_patterns.items():
        try:
            patterns[kind] = re.compile(pattern)
        except re.error as exc:
            raise PluginError(f"mkdocs.yml: extra.kb.doc_id_patterns.{kind}: expected a regular "
                              f"expression, found {pattern!r} ({exc})") from None
    first: dict[tuple[str, str], Entry | Unvalidated] = {}
    for entry in _every(catalog):
        key = ID_FIELDS.get(entry.type)
        value = entry.text(key) if key else None
        if key is None or value is None:
            continue
        pattern = patterns.get(entry.type)
        if pattern is not None and not pattern.search(value):
            yield _error(entry, key, f"a {key} matching {pattern.pattern} (the pattern for "
                         f"{entry.type} documents in mkdocs.yml)", repr(value))
        scope = (key, value)
        if scope in first:
            yield _error(entry, key, f"a {key} no other document uses",
                         f"{value!r}, already used by {_where(first[scope], key)}")
        else:
            first[scope] = entry


def check_supersession(catalog: Catalog) -> Iterable[ContentError]:
    """``supersedes`` and ``superseded_by`` point at existing documents and agree."""
    by_id = {e.meta.doc_id: e for e in catalog.entries
             if isinstance(e.meta, ControlledMeta) and e.type in ("policy", "manual")}
    for entry in catalog.entries:
        meta = entry.meta
        if not isinstance(meta, ControlledMeta):
            continue
        if meta.supersedes:
            old = by_id.get(meta.supersedes)
            if old is None or old is entry:
                yield _error(entry, "supersedes", "the doc_id of another existing document",
                             f"{meta.supersedes!r} (no document has it)")
            elif meta.status.published and old.meta.superseded_by != meta.doc_id:
                back = old.meta.superseded_by
                yield _error(entry, "supersedes",
                             f"{old.repo_path} ({meta.supersedes}) to say superseded_by: "
                             f"{meta.doc_id}",
                             f"superseded_by: {back}" if back else "no superseded_by there")
        if meta.superseded_by:
            new = by_id.get(meta.superseded_by)
            if new is None or new is entry:
                yield _error(entry, "superseded_by", "the doc_id of another existing document",
                             f"{meta.superseded_by!r} (no document has it)")
            elif new.meta.supersedes != meta.doc_id:
                there = new.meta.supersedes
                yield _error(entry, "superseded_by",
                             f"{new.repo_path} ({meta.superseded_by}) to say supersedes: "
                             f"{meta.doc_id}",
                             f"supersedes: {there}" if there else "no supersedes there")
            elif meta.status not in (Status.superseded, Status.retired):
                yield _error(entry, "status", "superseded or retired: the document names its "
                             f"successor in superseded_by ({meta.superseded_by})",
                             meta.status.value)


def check_history(catalog: Catalog) -> Iterable[ContentError]:
    """The newest revision record is the current version."""
    for entry in catalog.entries:
        meta = entry.meta
        if not isinstance(meta, ControlledMeta) or not meta.history:
            continue
        newest = meta.newest_history()
        assert newest is not None
        if newest.version != meta.version:
            index = meta.history.index(newest)
            yield _error(entry, "history",
                         f"the newest entry to have the document's version {meta.version}",
                         f"newest entry version {newest.version}",
                         line_key=("history", index, "version"))


def check_chapters(catalog: Catalog) -> Iterable[ContentError]:
    """Chapter numbers are unique within a manual."""
    for manual in catalog.of_type("manual"):
        seen: dict[int, Entry] = {}
        for chapter in manual.chapters:
            number = chapter.chapter or 0
            if number in seen:
                yield _error(chapter, "chapter", "a chapter number no other chapter of "
                             f"{manual.repo_path.rsplit('/', 1)[0]}/ uses",
                             f"{number}, already used by {_where(seen[number], 'chapter')}")
            else:
                seen[number] = chapter


def check_vocabularies(catalog: Catalog, settings: KBSettings) -> Iterable[ContentError]:
    """Owners and announcement categories come from the lists in mkdocs.yml."""
    owners = settings.owners
    categories = settings.announcement_categories
    for entry in _every(catalog):
        owner = entry.text("owner")
        if owners and owner is not None and owner not in owners:
            yield _error(entry, "owner", f"one of {', '.join(owners)} (extra.kb.owners)",
                         repr(owner))
        category = entry.text("category") if entry.type == NoticeMeta.type_name else None
        if category is not None and category not in categories:
            yield _error(entry, "category",
                         f"one of {', '.join(categories)} (extra.kb.announcement_categories)",
                         repr(category))


def check_site(catalog: Catalog, settings: KBSettings) -> list[ContentError]:
    """Every site-wide rule over the catalog's valid entries (identifier and vocabulary rules
    also over the entries that failed validation)."""
    rules: list[Callable[[], Iterable[ContentError]]] = [
        lambda: check_identifiers(catalog, settings),
        lambda: check_supersession(catalog),
        lambda: check_history(catalog),
        lambda: check_chapters(catalog),
        lambda: check_vocabularies(catalog, settings),
    ]
    return [error for rule in rules for error in rule()]
