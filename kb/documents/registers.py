"""Registers generated at build time from the catalog: 制度目录 and 手册目录.

A page holds a marker comment where its register goes (``<!-- kb:policy-register -->`` in
``policies/index.md``, ``<!-- kb:manual-register -->`` in ``manuals/index.md``);
:func:`replace_markers` swaps it for an HTML table in ``on_page_content`` (Markdown keeps the
comment as raw HTML; a marker quoted in a code block is escaped and left alone).

Tables are plain HTML that reads well without JavaScript. ``assets/javascripts/kb-registers.js``
makes them sortable (every ``th[data-sort]``; cells carry ``data-sort-value``) and filterable
(free text, status and owner selects in the ``.kb-register-tools`` bar, hidden until the script
runs) in the browser, without a server.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup
from mkdocs.utils import get_relative_url

from kb.content.catalog import Catalog, Entry
from kb.documents.control import ReviewState, status_badge
from kb.content.model import FIELD_LABELS, STATUS_LABELS, Status

POLICY_MARKER = "<!-- kb:policy-register -->"
MANUAL_MARKER = "<!-- kb:manual-register -->"

_STATUS_ORDER = {s.value: i for i, s in enumerate(Status)}


@dataclass(frozen=True)
class Column:
    """One register column: header, kind of sort, and cell HTML + sort value per entry."""

    key: str
    label: str
    sort: str  # "text", "number" or "none"
    cell: Callable[[Entry], tuple[Markup | str, str]]


def _version_value(version: str | None) -> str:
    if not version:
        return ""
    major, minor = version.split(".")
    return f"{int(major):06d}.{int(minor):06d}"


def _date_cell(value: _dt.date | None) -> tuple[str, str]:
    return (value.isoformat(), value.isoformat()) if value else ("—", "")


class _Register:
    """Renders one register table for the page at ``page_url`` on ``today``."""

    def __init__(self, catalog: Catalog, page_url: str, today: _dt.date, warning_days: int):
        self.catalog, self.page_url = catalog, page_url
        self.today, self.warning_days = today, warning_days

    def link(self, entry: Entry, text: str) -> Markup:
        return Markup('<a href="{}">{}</a>').format(get_relative_url(entry.url, self.page_url),
                                                    text)

    def review_cell(self, entry: Entry) -> tuple[Markup | str, str]:
        review = ReviewState.of(entry, self.today, self.warning_days)
        if review is None:
            return "—", ""
        if review.state == "ok":
            return review.due.isoformat(), review.due.isoformat()
        label = "已超期" if review.state == "overdue" else "即将到期"
        return (Markup('<span class="kb-due kb-due--{}" title="{}">{}</span>').format(
            review.state, label, review.due.isoformat()), review.due.isoformat())

    def title_cell(self, entry: Entry) -> Markup:
        """The linked title; a manual's title cell lists its chapters below it."""
        link = self.link(entry, entry.title or "")
        if not entry.chapters:
            return link
        items = Markup("").join(
            Markup('<li value="{}">{}</li>').format(c.chapter, self.link(c, c.title or ""))
            for c in entry.chapters)
        return link + Markup('<ol class="kb-register-chapters">{}</ol>').format(items)

    def columns(self) -> list[Column]:
        def meta(entry: Entry):  # noqa: ANN202 (the controlled metadata of a policy or manual)
            assert entry.controlled is not None
            return entry.controlled

        return [
            Column("doc_id", FIELD_LABELS["doc_id"], "text",
                   lambda e: (meta(e).doc_id, meta(e).doc_id)),
            Column("title", FIELD_LABELS["title"], "text",
                   lambda e: (self.title_cell(e), meta(e).title)),
            Column("version", FIELD_LABELS["version"], "text",
                   lambda e: (meta(e).version, _version_value(meta(e).version))),
            Column("status", FIELD_LABELS["status"], "number",
                   lambda e: (status_badge(meta(e).status), str(_STATUS_ORDER[meta(e).status]))),
            Column("effective_date", FIELD_LABELS["effective_date"], "text",
                   lambda e: _date_cell(meta(e).effective_date)),
            Column("owner", FIELD_LABELS["owner"], "text",
                   lambda e: (meta(e).owner or "—", meta(e).owner or "")),
            Column("next_review", FIELD_LABELS["next_review"], "text", self.review_cell),
        ]

    def table(self, name: str, caption: str, entries: list[Entry]) -> Markup:
        columns = self.columns()
        head = Markup("").join(
            Markup('<th scope="col" data-key="{}"{}>{}</th>').format(
                c.key, Markup(' data-sort="{}"').format(c.sort) if c.sort != "none" else "",
                c.label)
            for c in columns)
        rows = []
        for entry in entries:
            meta = entry.controlled
            assert meta is not None
            cells = Markup("").join(
                Markup('<td data-key="{}" data-sort-value="{}">{}</td>').format(c.key, value, html)
                for c in columns for html, value in [c.cell(entry)])
            rows.append(Markup('<tr data-status="{}" data-owner="{}">{}</tr>').format(
                meta.status.value, meta.owner or "", cells))
        return Markup(
            '<div class="kb-register-wrap">{tools}<div class="md-typeset__scrollwrap">'
            '<div class="md-typeset__table"><table class="kb-register" id="kb-register-{name}" '
            'data-kb-register="{name}"><caption>{caption}（共 {count} 项）</caption>'
            "<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div></div>"
            '<p class="kb-register-empty" hidden>没有符合条件的条目。</p></div>').format(
            tools=self.tools(name, entries), name=name, caption=caption, count=len(entries),
            head=head, rows=Markup("").join(rows))

    def tools(self, name: str, entries: list[Entry]) -> Markup:
        """Filter bar: free text, status, owner; hidden until the script enables it."""
        statuses = sorted({e.controlled.status.value for e in entries if e.controlled},
                          key=_STATUS_ORDER.__getitem__)
        owners = sorted({e.controlled.owner for e in entries if e.controlled and e.controlled.owner})
        status_options = Markup("").join(Markup('<option value="{}">{}</option>').format(
            s, STATUS_LABELS[s]) for s in statuses)
        owner_options = Markup("").join(Markup('<option value="{}">{}</option>').format(o, o)
                                        for o in owners)
        return Markup(
            '<div class="kb-register-tools" data-kb-register-for="kb-register-{name}" hidden>'
            '<label>筛选 <input type="search" data-filter="text" '
            'placeholder="编号、标题、部门……"></label>'
            '<label>{status} <select data-filter="status"><option value="">全部</option>'
            "{status_options}</select></label>"
            '<label>{owner} <select data-filter="owner"><option value="">全部</option>'
            "{owner_options}</select></label>"
            '<output class="kb-register-count" aria-live="polite"></output></div>').format(
            name=name, status=FIELD_LABELS["status"], owner=FIELD_LABELS["owner"],
            status_options=status_options, owner_options=owner_options)


def policy_register(catalog: Catalog, page_url: str, today: _dt.date, warning_days: int) -> Markup:
    """制度目录: every policy of this build, by document number."""
    policies = sorted(catalog.of_type("policy"), key=lambda e: e.doc_id or "")
    return _Register(catalog, page_url, today, warning_days).table("policies", "制度目录", policies)


def manual_register(catalog: Catalog, page_url: str, today: _dt.date, warning_days: int) -> Markup:
    """手册目录: every manual of this build, its chapters in order under its title."""
    manuals = sorted(catalog.of_type("manual"), key=lambda e: e.doc_id or "")
    return _Register(catalog, page_url, today, warning_days).table("manuals", "手册目录", manuals)


def replace_markers(html: str, catalog: Catalog, page_url: str, today: _dt.date,
                    warning_days: int) -> str:
    """Swap register markers in a page's HTML for the registers."""
    if POLICY_MARKER in html:
        html = html.replace(POLICY_MARKER, policy_register(catalog, page_url, today, warning_days))
    if MANUAL_MARKER in html:
        html = html.replace(MANUAL_MARKER, manual_register(catalog, page_url, today, warning_days))
    return html
