"""Which PDFs a build has and what goes on their covers.

One PDF per manual chapter, per whole manual, per policy and per training course, taken from the
content catalog (:mod:`kb.content.catalog`) of the build, so only pages that are part of this build (not
drafts, not pages above the audience) get a PDF. Each :class:`Target` is a plain, picklable
description: the built pages it is made of, the cover rows, running header and footer strings.
The PDF is written next to the page that links to it (``manuals/oa/03-approval/XXZX-SC-001-03.pdf``).
"""

from __future__ import annotations

import datetime as _dt
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from kb.content.catalog import Catalog, Entry
from kb.config import Level, level_rank
from kb.content.model import CONFIDENTIALITY_LABELS, FIELD_LABELS, ControlledMeta, CourseMeta

#: what a document is called on its cover
KIND_LABELS: dict[str, str] = {
    "chapter": "用户手册",
    "manual": "用户手册",
    "policy": "管理制度",
    "course": "培训讲义",
}

#: a course's two PDFs: the trainee handout and the trainer's copy
EDITION_LABELS: dict[str, str] = {"trainee": "（学员版）", "trainer": "（讲师版）"}


@dataclass(frozen=True)
class Section:
    """One built page inside a PDF: a chapter of a manual, or the whole document."""

    repo_path: str  # source file, for messages: ``manuals/oa/03-approval.md``
    dest_uri: str  # built HTML file, relative to the site folder
    url: str  # site-relative URL of the page
    chapter: int | None  # chapter number (shown as 第 N 章), None for other pages
    title: str


@dataclass(frozen=True)
class Target:
    """One PDF: its sources, where it goes and the strings printed around its pages."""

    kind: str  # chapter, manual, policy, course
    repo_path: str  # the page that links to the PDF (a manual: its index.md)
    page_dest: str  # that page's built HTML file, relative to the site folder
    output: str  # the PDF, relative to the site folder
    title: str  # document title (a chapter's: its manual's)
    subtitle: str | None  # ``第 3 章 审批流程`` for a chapter PDF
    cover: tuple[tuple[str, str], ...]  # (label, value) rows of the cover table
    footer: str  # ``XXZX-SC-001 v1.2`` (doc_id and version), a course: its code
    level: Level
    sections: tuple[Section, ...]
    author: str | None = None
    keywords: tuple[str, ...] = ()
    preface: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (heading, items) before the body
    history: tuple[tuple[str, str, str, str], ...] = ()  # 修订记录: version, date, summary, approver
    edition: str | None = None  # a course: "trainee" (answers removed) or "trainer" (answers, notes)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind] + EDITION_LABELS.get(self.edition or "", "")

    @property
    def link_key(self) -> str:
        """Which download button links this PDF (:data:`kb.print.LINK_LABELS`)."""
        return f"{self.kind}-{self.edition}" if self.edition else self.kind

    @property
    def controlled(self) -> bool:
        """A controlled document (policy, manual, chapter): not a training handout."""
        return self.kind != "course"

    @property
    def page_url(self) -> str:
        """Site-relative URL of the page the PDF is made from (a manual: its index)."""
        return self.sections[0].url

    @property
    def level_label(self) -> str | None:
        """Marking printed on every page, None for public documents."""
        return None if self.level == "public" else CONFIDENTIALITY_LABELS[self.level]

    def link_from(self, page_dest: str) -> str:
        """Relative URL of this PDF from the page built at ``page_dest``."""
        return posixpath.relpath(self.output, posixpath.dirname(page_dest) or ".")

    def selected_by(self, paths: Iterable[str]) -> bool:
        """Whether ``kb pdf PATH ...`` asks for this PDF (a file, or a folder above it)."""
        for path in paths:
            path = path.strip("/")
            if path in (self.repo_path, posixpath.dirname(self.repo_path)) and (
                    self.kind != "chapter" or path == self.repo_path):
                return True
            if self.kind != "manual" and self.repo_path.startswith(path + "/"):
                return True
        return False


def chapter_label(number: int) -> str:
    """``第 3 章``"""
    return f"第 {number} 章"


def chinese_date(day: _dt.date | None) -> str | None:
    """``2026年1月1日``"""
    return f"{day.year}年{day.month}月{day.day}日" if day else None


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _file_name(stem: str, fallback: str) -> str:
    safe = _SAFE.sub("-", stem).strip("-.")
    return (safe or _SAFE.sub("-", fallback).strip("-.") or "document") + ".pdf"


def _section(entry: Entry) -> Section:
    assert entry.file is not None
    return Section(entry.repo_path, entry.file.dest_uri, entry.url, entry.chapter,
                   entry.title or entry.repo_path)


def _controlled_cover(meta: ControlledMeta, level: Level) -> tuple[tuple[str, str], ...]:
    rows = [
        (FIELD_LABELS["doc_id"], meta.doc_id),
        (FIELD_LABELS["version"], meta.version),
        (FIELD_LABELS["status"], meta.status.label),
        (FIELD_LABELS["effective_date"], chinese_date(meta.effective_date)),
        (FIELD_LABELS["owner"], meta.owner),
        (f"{FIELD_LABELS['author']} / {FIELD_LABELS['reviewer']} / {FIELD_LABELS['approver']}",
         " / ".join(x or "—" for x in (meta.author, meta.reviewer, meta.approver))),
        (FIELD_LABELS["confidentiality"], CONFIDENTIALITY_LABELS[level]),
        (FIELD_LABELS["next_review"], chinese_date(meta.review_due)),
    ]
    return tuple((label, value) for label, value in rows if value)


def _course_cover(meta: CourseMeta, level: Level) -> tuple[tuple[str, str], ...]:
    rows = [
        (FIELD_LABELS["course_code"], meta.course_code),
        (FIELD_LABELS["duration"], meta.duration),
        (FIELD_LABELS["audience"], meta.audience),
        (FIELD_LABELS["trainer"], meta.trainer),
        (FIELD_LABELS["confidentiality"], CONFIDENTIALITY_LABELS[level]),
    ]
    return tuple((label, value) for label, value in rows if value)


def _history(meta: ControlledMeta) -> tuple[tuple[str, str, str, str], ...]:
    return tuple((h.version, chinese_date(h.date) or "", h.summary, h.approver or "—")
                 for h in sorted(meta.history, key=lambda h: h.date, reverse=True))


def _max_level(levels: Iterable[Level]) -> Level:
    return max(levels, key=level_rank)


def targets_of(catalog: Catalog, audience: Level) -> list[Target]:
    """Every PDF of this build, in a stable order; nothing above ``audience``."""
    allowed = level_rank(audience)
    visible = [e for e in catalog.entries
               if e.file is not None and level_rank(e.level) <= allowed]
    out: list[Target] = []
    for entry in visible:
        meta = entry.meta
        if entry.type == "policy" and isinstance(meta, ControlledMeta):
            out.append(Target(
                "policy", entry.repo_path, entry.file.dest_uri,  # type: ignore[union-attr]
                _output(entry, _file_name(meta.doc_id, entry.repo_path)), meta.title, None,
                _controlled_cover(meta, entry.level), f"{meta.doc_id} v{meta.version}",
                entry.level, (_section(entry),), meta.owner, tuple(meta.tags),
                history=_history(meta)))
        elif entry.type == "manual" and isinstance(meta, ControlledMeta):
            chapters = [c for c in entry.chapters if c in visible]
            level = _max_level([entry.level, *(c.level for c in chapters)])
            out.append(Target(
                "manual", entry.repo_path, entry.file.dest_uri,  # type: ignore[union-attr]
                _output(entry, _file_name(meta.doc_id, entry.repo_path)), meta.title, None,
                _controlled_cover(meta, level), f"{meta.doc_id} v{meta.version}", level,
                (_section(entry), *(_section(c) for c in chapters)), meta.owner,
                tuple(meta.tags), history=_history(meta)))
        elif entry.type == "chapter" and entry.manual is not None \
                and isinstance(entry.manual.meta, ControlledMeta) and entry.chapter is not None:
            manual = entry.manual.meta
            name = _file_name(f"{manual.doc_id}-{entry.chapter:02d}", entry.repo_path)
            out.append(Target(
                "chapter", entry.repo_path, entry.file.dest_uri,  # type: ignore[union-attr]
                _output(entry, name), manual.title,
                f"{chapter_label(entry.chapter)} {entry.title}",
                _controlled_cover(manual, entry.level), f"{manual.doc_id} v{manual.version}",
                entry.level, (_section(entry),), manual.owner,
                tuple(dict.fromkeys([*manual.tags, *entry.tags])), history=_history(manual)))
        elif entry.type == "course" and isinstance(meta, CourseMeta):
            preface = [(FIELD_LABELS["objectives"], tuple(meta.objectives))]
            if meta.prerequisites:
                preface.append((FIELD_LABELS["prerequisites"], tuple(meta.prerequisites)))
            for edition, stem in (("trainee", meta.course_code),
                                  ("trainer", f"{meta.course_code}-trainer")):
                out.append(Target(
                    "course", entry.repo_path, entry.file.dest_uri,  # type: ignore[union-attr]
                    _output(entry, _file_name(stem, entry.repo_path)), meta.title, None,
                    _course_cover(meta, entry.level), meta.course_code, entry.level,
                    (_section(entry),), meta.trainer, tuple(meta.tags), tuple(preface),
                    edition=edition))
    return out


def _output(entry: Entry, name: str) -> str:
    assert entry.file is not None
    folder = posixpath.dirname(entry.file.dest_uri)
    return f"{folder}/{name}" if folder else name
