"""The per-build catalog of every content page, parsed and validated once.

:func:`build_catalog` runs in ``on_files`` (``hooks/documents.py``): it reads the front matter of
every Markdown page of the site (``docs/`` and the content roots), decides its content type from
where it lives, validates it with :mod:`kb.content.model`, then checks the rules that need the whole site
(see :mod:`kb.content.rules`). Other features read the build's catalog (:mod:`kb.buildstate`)
instead of re-parsing files.

Type by location (the layout is fixed, see the team brief):

========================================  ===============
``policies/<slug>.md``                    ``policy``
``manuals/<m>/index.md``                  ``manual``
``manuals/<m>/<NN-slug>.md``              ``chapter`` (inherits the manual's identification)
``docs/training/<slug>.md``               ``course``
``docs/announcements/**/<date-slug>.md``  ``announcement``
any ``index.md`` of a folder above, and   ``page``
every other page of ``docs/``
========================================  ===============

Entries left out of the site (drafts without ``KB_PREVIEW=1``; later: pages above the audience)
are moved from :attr:`Catalog.entries` to :attr:`Catalog.left_out` by :meth:`Catalog.leave_out`,
which also removes their file from the build, so nothing downstream sees them.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from mkdocs.structure.files import File, Files

from kb.config import KBSettings, Level
from kb.content.rules import check_site
from kb.errors import ContentError
from kb.content.model import (
    MODELS,
    ChapterMeta,
    ControlledMeta,
    FrontMatter,
    Status,
    _Meta,
    parse_front_matter,
    validate_meta,
)
from kb.content.roots import ContentRoots

#: folders of docs/ whose pages (other than index.md) have a content type of their own
DOCS_FOLDER_TYPES: dict[str, str] = {"training": "course", "announcements": "announcement"}


@dataclass(eq=False)
class Entry:
    """One content page of this build: where it is, what it is, and its validated metadata."""

    repo_path: str  # repository-relative path: ``policies/network.md``
    src_uri: str  # site source URI: ``policies/network.md``, ``index.md`` (for docs/index.md)
    url: str  # site-relative URL: ``policies/network/``
    type: str  # policy, manual, chapter, course, announcement, page
    meta: _Meta  # the validated front matter (class from kb.content.model.MODELS[type])
    front: FrontMatter  # raw front matter with key lines
    level: Level = "internal"  # confidentiality: front matter, manual's, else root default
    file: File | None = None
    manual: Entry | None = None  # a chapter's manual
    chapters: list[Entry] = field(default_factory=list)  # a manual's chapters, by number
    left_out: str | None = None  # why the page is not in this build, else None

    # -- identification (a chapter answers with its manual's) ---------------------------------

    @property
    def controlled(self) -> ControlledMeta | None:
        """The controlled-document metadata that governs this page (a chapter's: its manual's)."""
        if isinstance(self.meta, ControlledMeta):
            return self.meta
        if self.manual is not None and isinstance(self.manual.meta, ControlledMeta):
            return self.manual.meta
        return None

    @property
    def doc_id(self) -> str | None:
        return self.controlled.doc_id if self.controlled else None

    @property
    def version(self) -> str | None:
        return self.controlled.version if self.controlled else None

    @property
    def status(self) -> Status | None:
        return self.controlled.status if self.controlled else None

    @property
    def title(self) -> str | None:
        return getattr(self.meta, "title", None)

    @property
    def chapter(self) -> int | None:
        return self.meta.chapter if isinstance(self.meta, ChapterMeta) else None

    @property
    def tags(self) -> list[str]:
        return list(getattr(self.meta, "tags", None) or [])

    @property
    def published(self) -> bool:
        """Shown on the staff site without the preview switch (drafts and reviews are not)."""
        return self.status is None or self.status.published

    @property
    def review_due(self) -> _dt.date | None:
        """Next periodic review of an effective controlled document (not of chapters)."""
        meta = self.meta
        if isinstance(meta, ControlledMeta) and meta.status is Status.effective:
            return meta.review_due
        return None

    @property
    def updated(self) -> _dt.date | None:
        """Best date of the last change known from metadata (git history may refine it)."""
        meta = self.controlled
        if meta is not None:
            newest = meta.newest_history()
            dates = [d for d in (meta.effective_date, newest.date if newest else None) if d]
            return max(dates) if dates else None
        return getattr(self.meta, "date", None)

    def line(self, key: str) -> int | None:
        """Line of ``key`` in this file's front matter (first line of it when absent)."""
        return self.front.line_of((key,))

    def text(self, key: str) -> str | None:
        """The validated text field ``key`` (``doc_id``, ``owner``, ``category``), else None."""
        value = getattr(self.meta, key, None)
        return value if isinstance(value, str) else None


@dataclass(eq=False)
class Unvalidated:
    """A page whose front matter parsed but did not validate (its errors are reported).

    Site-wide rules still read the plain text of its identifier and vocabulary fields, so one
    run reports every independent problem: a duplicate ``doc_id`` in a file that also lacks
    ``approver``, an unknown ``category`` next to an impossible ``date``.
    """

    repo_path: str
    type: str
    front: FrontMatter

    def line(self, key: str) -> int | None:
        return self.front.line_of((key,))

    def text(self, key: str) -> str | None:
        """The front matter's text value of ``key`` as written (stripped), else None."""
        value = self.front.data.get(key)
        return value.strip() if isinstance(value, str) and value.strip() else None


@dataclass
class Catalog:
    """Every content page of one build; errors found while building it."""

    entries: list[Entry] = field(default_factory=list)  # pages in this build, by repo path
    errors: list[ContentError] = field(default_factory=list)
    left_out: list[Entry] = field(default_factory=list)  # pages kept out of this build
    #: pages whose front matter parsed but failed validation (not in the build)
    unvalidated: list[Unvalidated] = field(default_factory=list)
    #: what the audience filter left out and the restricted links found (kb.audience.filter)
    audience: Any = None
    _index_key: tuple[int, int] | None = field(default=None, init=False, repr=False)
    _index_cache: tuple[dict[str, Entry], dict[str, Entry]] = field(
        default_factory=lambda: ({}, {}), init=False, repr=False)
    _url_key: tuple[int, int] | None = field(default=None, init=False, repr=False)
    _url_index: dict[str, Entry] = field(default_factory=dict, init=False, repr=False)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def _index(self) -> tuple[dict[str, Entry], dict[str, Entry]]:
        """Entries by source URI and by doc_id, rebuilt when the entry list changed."""
        key = (id(self.entries), len(self.entries))
        if self._index_key != key:
            by_uri = {e.src_uri: e for e in self.entries}
            by_id: dict[str, Entry] = {}
            for e in self.entries:
                if e.type in ("policy", "manual") and e.doc_id is not None:
                    by_id.setdefault(e.doc_id, e)
            self._index_cache, self._index_key = (by_uri, by_id), key
        return self._index_cache

    def by_url(self) -> dict[str, Entry]:
        """Entries by URL (first one wins; the site root left out), made once per entry list."""
        key = (id(self.entries), len(self.entries))
        if self._url_key != key:
            index: dict[str, Entry] = {}
            for e in self.entries:
                if e.url.strip("/"):
                    index.setdefault(e.url, e)
            self._url_index, self._url_key = index, key
        return self._url_index

    def by_src_uri(self, src_uri: str) -> Entry | None:
        """The entry of a page of this build, by its site source URI (``page.file.src_uri``)."""
        return self._index()[0].get(src_uri)

    def by_doc_id(self, doc_id: str) -> Entry | None:
        """The policy or manual in this build with ``doc_id`` (never a chapter)."""
        return self._index()[1].get(doc_id)

    def left_out_doc(self, doc_id: str) -> Entry | None:
        """The policy or manual with ``doc_id`` that this build left out, if any."""
        return next((e for e in self.left_out
                     if e.type in ("policy", "manual") and e.doc_id == doc_id), None)

    def of_type(self, *types: str) -> list[Entry]:
        """Entries of the given types in this build, by repository path."""
        return [e for e in self.entries if e.type in types]

    def leave_out(self, keep: Callable[[Entry], str | None], files: Files) -> None:
        """Leave out every entry for which ``keep`` returns a reason, removing its file.

        A manual's chapters go with it. Issue 9 (audiences) calls this with a level check.
        """
        for entry in list(self.entries):
            reason = keep(entry) or (entry.manual.left_out if entry.manual else None)
            if reason is None:
                continue
            entry.left_out = reason
            self.entries.remove(entry)
            self.left_out.append(entry)
            if entry.file is not None and files.get_file_from_path(entry.src_uri) is not None:
                files.remove(entry.file)


def draft_reason(preview: bool) -> Callable[[Entry], str | None]:
    """``keep`` function of :meth:`Catalog.leave_out` for drafts and documents under review."""
    def reason(entry: Entry) -> str | None:
        if preview or entry.published:
            return None
        return f"status {entry.status.value if entry.status else '?'} (set KB_PREVIEW=1 to show)"
    return reason


# --------------------------------------------------------------------------- building


def content_type(repo_path: str, roots: ContentRoots, settings: KBSettings) -> str | None:
    """Content type of a Markdown file by where it lives; None for a misplaced manual file."""
    parts = repo_path.split("/")
    root_types = {r.dir.strip("/"): r.type for r in settings.roots}
    if parts[0] in root_types:
        kind = root_types[parts[0]]
        if parts[-1] == "index.md" and len(parts) == 2:
            return "page"  # the root's own index: the register page
        if kind == "manual":
            if len(parts) == 2:
                return None
            return "manual" if len(parts) == 3 and parts[-1] == "index.md" else "chapter"
        if parts[-1] == "index.md" and kind not in MODELS:
            return "page"
        return kind if kind in MODELS else "page"
    if parts[0] == roots.docs_prefix and len(parts) > 2 and parts[-1] != "index.md":
        return DOCS_FOLDER_TYPES.get(parts[1], "page")
    return "page"


def _default_level(repo_path: str, settings: KBSettings) -> Level:
    first = repo_path.split("/", 1)[0]
    for root in settings.roots:
        if root.dir.strip("/") == first:
            return root.confidentiality
    return settings.docs_confidentiality


def _read(file: File, repo_path: str) -> tuple[str | None, list[ContentError]]:
    try:
        with open(file.abs_src_path or "", encoding="utf-8-sig") as handle:
            return handle.read(), []
    except UnicodeDecodeError as exc:
        return None, [ContentError(repo_path, None, None, "a UTF-8 text file",
                                   f"undecodable byte at offset {exc.start}")]


#: files whose parse is remembered (a content-keyed cache, shared by the builds of a process)
PARSE_CACHE = 16384


@lru_cache(maxsize=PARSE_CACHE)
def _validated(text: str, repo_path: str, kind: str) -> tuple:
    """(meta, front, errors) of a file's text. A pure function of its arguments, so
    ``mkdocs serve`` rebuilds re-validate only the files whose text changed."""
    front, errors = parse_front_matter(text, repo_path)
    if front is None:
        return None, None, errors
    meta, errors = validate_meta(MODELS[kind], front, repo_path)
    return meta, front, errors


def _parse(file: File, repo_path: str,
           kind: str) -> tuple[Entry | Unvalidated | None, list[ContentError]]:
    """The file's entry; an :class:`Unvalidated` one (with errors) when only its front matter
    parsed; None when not even that."""
    text, errors = _read(file, repo_path)
    if text is None:
        return None, errors
    meta, front, errors = _validated(text, repo_path, kind)
    if meta is None:
        return (Unvalidated(repo_path, kind, front) if front is not None else None), list(errors)
    return Entry(repo_path, file.src_uri, file.url, kind, meta, front, file=file), []


def build_catalog(files: Files, settings: KBSettings, roots: ContentRoots) -> Catalog:
    """Parse and validate every Markdown page of ``files`` once; check the site-wide rules."""
    catalog = Catalog()
    parsed: set[str] = set()  # every Markdown file read, valid or not
    for file in sorted(files.documentation_pages(), key=lambda f: roots.repo_path(f)):
        if file.generated_by is not None or not file.abs_src_path:
            continue
        repo_path = roots.repo_path(file)
        parsed.add(repo_path)
        kind = content_type(repo_path, roots, settings)
        if kind is None:
            catalog.errors.append(ContentError(
                repo_path, None, None,
                f"a chapter inside a manual folder ({repo_path.split('/')[0]}/<manual>/)",
                "a file directly in the manuals root"))
            continue
        entry, errors = _parse(file, repo_path, kind)
        catalog.errors += errors
        if isinstance(entry, Unvalidated):
            catalog.unvalidated.append(entry)
        elif entry is not None:
            catalog.entries.append(entry)
    _link_chapters(catalog, parsed)
    for entry in catalog.entries:
        level = getattr(entry.meta, "confidentiality", None)
        if level is None and entry.manual is not None:
            level = entry.manual.level
        entry.level = level or _default_level(entry.repo_path, settings)
    catalog.errors += check_site(catalog, settings)
    return catalog


def _link_chapters(catalog: Catalog, parsed: set[str]) -> None:
    """Give each chapter its manual (the ``index.md`` of its folder) and each manual its chapters."""
    manuals = {e.repo_path.rsplit("/", 1)[0]: e for e in catalog.entries if e.type == "manual"}
    for entry in catalog.entries:
        if entry.type != "chapter":
            continue
        folder = "/".join(entry.repo_path.split("/")[:2])
        manual = manuals.get(folder)
        if manual is not None:
            entry.manual = manual
            manual.chapters.append(entry)
        elif f"{folder}/index.md" not in parsed:
            catalog.errors.append(ContentError(
                entry.repo_path, None, None,
                f"{folder}/index.md with the manual's metadata (doc_id, version, status, ...)",
                "no such file"))
    for manual in manuals.values():
        manual.chapters.sort(key=lambda c: (c.chapter or 0, c.repo_path))


def load(config_file: str | None = None) -> tuple[Catalog, KBSettings]:
    """Build the catalog of a project without building its site (``kb report``, ``kb check``)."""
    files, settings, roots = load_files(config_file)
    return build_catalog(files, settings, roots), settings


def load_files(config_file: str | None = None) -> tuple[Files, KBSettings, ContentRoots]:
    """The source files of a project (docs/ and content roots), its settings and roots.

    The configuration is loaded without its hooks and plugins: reading content must not depend
    on (or run) the build's other features.
    """
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.exceptions import ConfigurationError
    from mkdocs.structure.files import get_files
    from mkdocs.utils.yaml import yaml_load

    from kb.config import kb_settings
    from kb.content.yamlguard import check_config_file

    path = os.path.abspath(config_file or "mkdocs.yml")
    check_config_file(path)
    with open(path, "rb") as handle:
        raw = yaml_load(handle) or {}
    config = MkDocsConfig(config_file_path=path)
    config.load_dict({k: v for k, v in raw.items() if k not in ("hooks", "plugins")})
    failed, _warnings = config.validate()
    if failed:
        raise ConfigurationError("; ".join(f"{key}: {err}" for key, err in failed))
    settings = kb_settings(config)
    roots = ContentRoots.from_config(config, settings)
    return roots.add_to(get_files(config), config), settings, roots
