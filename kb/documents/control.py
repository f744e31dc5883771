"""What a content page shows about itself: document-control block, banners and ``kb:`` meta tags.

- :func:`control_block`: 文件编号, 版本, 状态 (badge), 生效日期, 下次复审, 归口部门, 编制/审核/批准,
  密级 (badge), 替代/被替代为, at the top of policies, manuals and chapters (a chapter shows its
  manual's identification plus its chapter number). The 修订记录 (``history``) with links to
  archived versions is rendered by the history feature (``hooks/history.py``), not here.
- :func:`banners`: 复审即将到期 (review within ``review_warning_days``), 已超期未复审, and notices for
  superseded, retired and preview-only documents; "today" is :func:`kb.clock.today`.
- :func:`meta_tags`: ``<meta name="kb:type|doc_id|version|status|confidentiality|tags|updated">``
  for every page, read by the search indexer. ``kb:tags`` is comma-separated; ``kb:type`` of a
  chapter is ``manual`` (with ``kb:chapter``), so a ``type:manual`` search finds chapters.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from markupsafe import Markup
from mkdocs.utils import get_relative_url

from kb.audience.filter import level_badge, restricted_reference
from kb.content.catalog import Catalog, Entry
from kb.content.model import FIELD_LABELS, Status, reference_fields


@dataclass(frozen=True)
class ReviewState:
    """Where a document stands in its review cycle on a given day."""

    due: _dt.date
    days_left: int  # negative when overdue
    state: str  # "ok", "due" (within the warning window) or "overdue"

    @classmethod
    def of(cls, entry: Entry, today: _dt.date, warning_days: int) -> ReviewState | None:
        """Review state of an effective policy or manual (a chapter: of its manual), else None."""
        target = entry.manual if entry.manual is not None else entry
        due = target.review_due
        if due is None:
            return None
        days = (due - today).days
        state = "overdue" if days < 0 else "due" if days <= warning_days else "ok"
        return cls(due, days, state)


def _date(value: _dt.date | None) -> str:
    return value.isoformat() if value else "—"


def status_badge(status: Status) -> Markup:
    """``<span>`` badge of a document status (现行有效, 草稿, ...)."""
    return Markup('<span class="kb-badge kb-status kb-status--{}">{}</span>').format(
        status.value, status.label)


def doc_link(doc_id: str, catalog: Catalog, from_url: str, source: Entry | None = None,
             field: str | None = None) -> Markup:
    """A link to the document with ``doc_id`` when it is in this build; restricted text (no
    number, title or URL) when the build left it out (its audience, or a draft), reported as
    ``source``'s reference in ``field``; else the plain number."""
    target = catalog.by_doc_id(doc_id)
    if target is not None:
        return Markup('<a href="{}">{} {}</a>').format(
            get_relative_url(target.url, from_url), doc_id, target.title or "")
    hidden = catalog.left_out_doc(doc_id)
    if hidden is not None:
        return restricted_reference(source, field, hidden, catalog.audience)
    return Markup("{}").format(doc_id)


#: the "review due soon" icon: an alarm clock drawn inline (U+23F0 is in no font Debian's
#: desktop or WeasyPrint has, so the emoji showed as a box); "overdue" keeps ⚠ (DejaVu, Noto CJK)
CLOCK_ICON = Markup(
    '<svg class="kb-due__svg" viewBox="0 0 24 24" width="1em" height="1em" focusable="false">'
    '<g fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">'
    '<circle cx="12" cy="13" r="8"/><path d="M12 9v4l3 2M4 5l3-2M20 5l-3-2"/></g></svg>')


def due_text(state: str, due: str) -> Markup:
    """A review date that is due or overdue, told by an icon and words, not colour only."""
    icon, words = ("⚠", "已超期") if state == "overdue" else (CLOCK_ICON, "即将到期")
    return Markup('<span class="kb-due__icon" aria-hidden="true">{}</span>{}'
                  '<span class="kb-due__text">（{}）</span>').format(icon, due, words)


def _row(label: str, value: Markup | str, key: str) -> Markup:
    return Markup('<div class="kb-control__item" data-kb-field="{}"><dt>{}</dt><dd>{}</dd></div>'
                  ).format(key, label, value)


def control_block(entry: Entry, catalog: Catalog, review: ReviewState | None) -> Markup | None:
    """The document-control block of a policy, manual or chapter; None for other pages."""
    meta = entry.controlled
    if meta is None:
        return None
    rows: list[Markup] = []
    if entry.manual is not None:
        manual_link = Markup('<a href="{}">{}</a>').format(
            get_relative_url(entry.manual.url, entry.url), entry.manual.title)
        rows.append(_row("所属手册", manual_link, "manual"))
    rows += [
        _row(FIELD_LABELS["doc_id"], meta.doc_id, "doc_id"),
        _row(FIELD_LABELS["version"], meta.version, "version"),
        _row(FIELD_LABELS["status"], status_badge(meta.status), "status"),
    ]
    if entry.chapter is not None:
        rows.append(_row(FIELD_LABELS["chapter"], f"第 {entry.chapter} 章", "chapter"))
    # only an effective document is due for review; superseded/retired/draft ones show "—"
    due_value: Markup | str = _date(review.due if review else None)
    if review is not None and review.state != "ok":
        due_value = Markup('<span class="kb-due kb-due--{}">{}</span>').format(
            review.state, due_text(review.state, review.due.isoformat()))
    rows += [
        _row(FIELD_LABELS["effective_date"], _date(meta.effective_date), "effective_date"),
        _row(FIELD_LABELS["next_review"], due_value, "next_review"),
        _row(FIELD_LABELS["owner"], meta.owner or "—", "owner"),
        _row("编制/审核/批准", " / ".join(v or "—" for v in (meta.author, meta.reviewer,
                                                          meta.approver)), "approval"),
        _row(FIELD_LABELS["confidentiality"], level_badge(entry.level), "confidentiality"),
    ]
    owner = entry.manual if entry.manual is not None else entry  # where the fields are written
    for name in reference_fields(type(meta)):  # supersedes, superseded_by, ...
        value = getattr(meta, name)
        if value:
            rows.append(_row(FIELD_LABELS.get(name, name),
                             doc_link(value, catalog, entry.url, owner, name), name))
    return Markup('<section class="kb-control" aria-label="文件控制信息" data-kb-doc-id="{}">'
                  '<dl class="kb-control__grid">{}</dl></section>').format(
        meta.doc_id, Markup("").join(rows))


def _banner(kind: str, admonition: str, title: str, text: Markup | str) -> Markup:
    return Markup('<div class="admonition {} kb-banner kb-banner--{}" role="note">'
                  '<p class="admonition-title">{}</p><p>{}</p></div>').format(
        admonition, kind, title, text)


def banners(entry: Entry, catalog: Catalog, review: ReviewState | None) -> list[Markup]:
    """Notices above a controlled page: review due or overdue, superseded, retired, preview."""
    meta = entry.controlled
    if meta is None:
        return []
    out: list[Markup] = []
    if not meta.status.published:
        out.append(_banner("preview", "note", f"{meta.status.label}（预览）",
                           "本文件尚未生效，仅在预览构建中显示。"))
    if meta.status is Status.superseded and meta.superseded_by:
        owner = entry.manual if entry.manual is not None else entry
        out.append(_banner("superseded", "info", "本文件已被替代", Markup(
            "现行版本：{}。本文件仅供查阅历史要求，不再作为执行依据。").format(
            doc_link(meta.superseded_by, catalog, entry.url, owner, "superseded_by"))))
    if meta.status is Status.retired:
        out.append(_banner("retired", "info", "本文件已废止", "本文件已停止执行，仅供查阅。"))
    if review is not None and review.state == "due":
        out.append(_banner("due", "warning", "复审即将到期",
                           f"本文件应于 {review.due.isoformat()} 前完成复审（还有 "
                           f"{review.days_left} 天）。"))
    elif review is not None and review.state == "overdue":
        out.append(_banner("overdue", "danger", "已超期未复审",
                           f"本文件应于 {review.due.isoformat()} 完成复审，已超期 "
                           f"{-review.days_left} 天，请归口部门尽快复审。"))
    return out


def meta_tags(entry: Entry, today: _dt.date | None = None) -> list[Markup]:
    """``<meta name="kb:...">`` tags of a page for machines (search indexer, crawlers).

    A notice past its ``expires`` date (on ``today``) gets ``kb:status`` ``expired``, as its
    page shows 已过期: search marks it and ranks it lower."""
    status = entry.status.value if entry.status else None
    expires = getattr(entry.meta, "expires", None)
    if entry.type == "announcement" and today is not None and expires is not None \
            and today > expires:
        status = "expired"
    values: dict[str, str | None] = {
        "type": "manual" if entry.type == "chapter" else entry.type,
        # a course's identifier is its course_code (kb.content.rules.ID_FIELDS): typed alone in
        # search it brings up the course itself, not the training index that lists it
        "doc_id": entry.doc_id or (getattr(entry.meta, "course_code", None)
                                   if entry.type == "course" else None),
        "version": entry.version,
        "status": status,
        "confidentiality": entry.level,
        "tags": ",".join(entry.tags) or None,
        "updated": entry.updated.isoformat() if entry.updated else None,
        "chapter": str(entry.chapter) if entry.chapter is not None else None,
        "owner": entry.controlled.owner if entry.controlled else None,
        "keywords": ",".join(getattr(entry.meta, "keywords", None) or []) or None,
    }
    return [Markup('<meta name="kb:{}" content="{}">').format(name, value)
            for name, value in values.items() if value is not None]


def page_top(entry: Entry, catalog: Catalog, today: _dt.date, warning_days: int) -> list[Markup]:
    """Fragments for the page's top slot (:func:`kb.content.slots.slots`): banners first, then
    the control block."""
    review = ReviewState.of(entry, today, warning_days)
    block = control_block(entry, catalog, review)
    return banners(entry, catalog, review) + ([block] if block is not None else [])

