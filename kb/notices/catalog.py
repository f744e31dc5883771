"""Notices (通知公告): which exist, which this build publishes, and in what order.

A notice is a Markdown page ``docs/announcements/YYYY/YYYY-MM-DD-<slug>.md`` whose front matter is
:class:`kb.content.model.NoticeMeta`. Against "today" (:func:`kb.clock.today`) it is

* **scheduled** before its ``date``: not published (no page, no list entry, no feed item) unless
  the preview switch is on, then listed with a 待发布 badge but still kept out of the feeds;
* **current** from ``date`` to ``expires`` inclusive: home page, feeds, archive;
* **expired** after ``expires``: archive only, with a 已过期 banner.

A notice above the build's audience (issue 9) is dropped here, before anything is rendered, so no
list, archive page or feed can mention it: :meth:`Notices.build` is the one place that
filters by level. Controlled documents with ``announce: true`` get a generated 制度发布 notice per
effective version (see :mod:`kb.notices.releases`).

Rendering lives in :mod:`kb.notices.pages` (home list, archive pages, banners) and :mod:`kb.notices.feeds`.
"""

from __future__ import annotations

import datetime as _dt
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from pypinyin import lazy_pinyin

from kb.content import catalog as kb_catalog
from kb.content.catalog import Catalog
from kb.config import KBSettings, level_rank
from kb.errors import ContentError
from kb.content.model import NoticeMeta
from kb.content.roots import ContentRoots


class State(str, Enum):
    """Where a notice is in its lifecycle on a given day."""

    scheduled = "scheduled"
    current = "current"
    expired = "expired"


@dataclass(frozen=True)
class Notice:
    """One notice of this build: its page, validated front matter and confidentiality level."""

    src_uri: str  # site source URI: announcements/2026/2026-11-20-x.md
    repo_path: str  # repository path (error messages, edit links): docs/announcements/...
    url: str  # page URL relative to the site root: announcements/2026/2026-11-20-x/
    meta: NoticeMeta
    level: str
    #: site source URI of the controlled document a generated 制度发布 notice announces
    announces: str | None = None

    def state(self, today: _dt.date) -> State:
        if today < self.meta.date:
            return State.scheduled
        if self.meta.expires is not None and today > self.meta.expires:
            return State.expired
        return State.current

    @property
    def newest_key(self) -> tuple[_dt.date, str]:
        return self.meta.date, self.src_uri


def category_slug(category: str) -> str:
    """URL slug of a category: pinyin of Chinese, lower-case ASCII (``系统维护`` → ``xi-tong-wei-hu``)."""
    words = [re.sub(r"[^a-z0-9]+", "-", w.lower()).strip("-") for w in lazy_pinyin(category)]
    return "-".join(w for w in words if w) or "other"


# --------------------------------------------------------------------------- reading notices


def build_catalog(files: Files, config: MkDocsConfig, settings: KBSettings
                  ) -> tuple[Catalog, list[ContentError]]:
    """The build's catalog and the notice errors this hook must raise itself.

    ``hooks/documents.py`` (listed before this hook) builds the catalog and raises its errors,
    notices' included (front matter, date, ``expires`` before ``date``, unknown category). When
    it is not listed, the catalog is built here and the errors of notice files are returned.
    """
    from kb import buildstate

    state = buildstate.of(config)
    if state.has_catalog:
        return state.catalog, []
    roots = ContentRoots.from_config(config, settings)
    catalog = kb_catalog.build_catalog(files, settings, roots)
    prefix = f"{roots.docs_prefix}/{folder_of(settings)}/"
    return catalog, [e for e in catalog.errors if e.file.startswith(prefix)]


def notices_of(catalog: Catalog) -> list[Notice]:
    """The valid notices of the catalog (pages of type ``announcement``)."""
    return [Notice(e.src_uri, e.repo_path, e.url, e.meta, e.level)  # type: ignore[arg-type]
            for e in catalog.of_type("announcement") if isinstance(e.meta, NoticeMeta)]


# --------------------------------------------------------------------------- the collection


@dataclass
class Notices:
    """The notices one build publishes, already filtered by audience and lifecycle."""

    today: _dt.date
    preview: bool
    categories: list[str]
    #: visible notices (audience level), scheduled ones only in preview; newest first
    notices: list[Notice] = field(default_factory=list)
    #: notices this build must not publish (scheduled, above the audience): their files are removed
    withheld: list[Notice] = field(default_factory=list)
    by_uri: dict[str, Notice] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, notices: Iterable[Notice], *, today: _dt.date, preview: bool, audience: str,
              categories: list[str]) -> Notices:
        """Sort notices into published and withheld for ``today``, ``preview`` and ``audience``."""
        result = cls(today, preview, list(categories))
        for notice in sorted(notices, key=lambda n: n.newest_key, reverse=True):
            if level_rank(notice.level) > level_rank(audience):
                result.withheld.append(notice)
            elif notice.state(today) is State.scheduled and not preview:
                result.withheld.append(notice)
            else:
                result.notices.append(notice)
        result.by_uri = {n.src_uri: n for n in result.notices}
        return result

    def state(self, notice: Notice) -> State:
        return notice.state(self.today)

    def current(self, category: str | None = None) -> list[Notice]:
        """Current notices, newest first (feeds), optionally of one category."""
        return [n for n in self.notices if self.state(n) is State.current
                and (category is None or n.meta.category == category)]

    def home(self, limit: int) -> list[Notice]:
        """What the home page lists: current (and in preview scheduled) notices, pinned first."""
        shown = [n for n in self.notices if self.state(n) is not State.expired]
        shown.sort(key=lambda n: (n.meta.pinned, n.newest_key), reverse=True)
        return shown[:limit]

    def by_month(self) -> dict[tuple[int, int], list[Notice]]:
        """Archive by (year, month), newest month first, newest notice first."""
        groups: dict[tuple[int, int], list[Notice]] = defaultdict(list)
        for notice in self.notices:
            groups[(notice.meta.date.year, notice.meta.date.month)].append(notice)
        return dict(sorted(groups.items(), reverse=True))

    def by_category(self) -> dict[str, list[Notice]]:
        """Archive by category in the configured order (every category, even empty ones)."""
        groups: dict[str, list[Notice]] = {c: [] for c in self.categories}
        for notice in self.notices:
            groups.setdefault(notice.meta.category, []).append(notice)
        return groups


def folder_of(settings: KBSettings) -> str:
    return settings.announcements_dir.strip("/")


def notice_uri(folder: str, day: _dt.date, slug: str) -> str:
    """Source URI of a notice page in the standard layout."""
    return posixpath.join(folder, f"{day:%Y}", f"{day.isoformat()}-{slug}.md")
