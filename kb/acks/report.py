"""Who has confirmed what, and who has not: for ``kb report --acks`` and the admin page.

:func:`build` joins the requirements (:mod:`kb.acks.declare`), the stored confirmations
(:class:`kb.acks.records.AckStore`) and, when given, the staff roster — a CSV export of the
HR/LDAP directory with the columns ``id, name, department, groups`` (groups separated by ``;``
or ``|``). Without a roster only confirmations can be counted: who *should* have confirmed is
not known. Renderers: :func:`text`, :func:`as_json`, :func:`as_csv`, :func:`html`.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import hashlib
import io
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from markupsafe import Markup

from kb.acks.manifest import Requirement
from kb.acks.records import AckStore, Record

ROSTER_COLUMNS = ("id", "name", "department", "groups")
_GROUP_SPLIT = re.compile(r"[;|；]")


class RosterError(ValueError):
    """The roster file cannot be read: names the file, line and column."""


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    department: str
    groups: frozenset[str] = frozenset()


def read_roster(path: str | os.PathLike[str]) -> list[Person]:
    """The staff of a roster CSV (UTF-8, with or without BOM; header row required)."""
    try:
        text = open(path, encoding="utf-8-sig", newline="").read()  # noqa: SIM115
    except FileNotFoundError:
        raise RosterError(f"{path}: roster file not found") from None
    except UnicodeDecodeError as exc:
        raise RosterError(f"{path}: expected UTF-8 text, found a byte {exc.object[exc.start]:#x} "
                          f"at offset {exc.start}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ROSTER_COLUMNS if c not in header]
    if missing:
        raise RosterError(f"{path}:1: header: expected the columns {', '.join(ROSTER_COLUMNS)}, "
                          f"missing {', '.join(missing)} (found {', '.join(header) or 'nothing'})")
    people: dict[str, Person] = {}
    for row in reader:
        line = reader.line_num
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        for column in ("id", "name"):
            if not row.get(column):
                raise RosterError(f"{path}:{line}: column {column}: expected a value, found "
                                  "nothing")
        if row["id"] in people:
            raise RosterError(f"{path}:{line}: column id: expected each id once, found "
                              f"{row['id']!r} again")
        groups = frozenset(g.strip() for g in _GROUP_SPLIT.split(row.get("groups", "")) if g.strip())
        people[row["id"]] = Person(row["id"], row["name"], row.get("department") or "（未填部门）",
                                   groups)
    return list(people.values())


@dataclass
class DocReport:
    """One required document version: who confirmed, who has not."""

    req: Requirement
    confirmed: list[tuple[Record, Person | None]] = field(default_factory=list)
    pending: list[Person] | None = None  # None: no roster
    overdue: bool = False
    outside: int = 0  # confirmations by people not expected (not in the roster or its groups)

    @property
    def expected(self) -> int | None:
        return None if self.pending is None else len(self.pending) + len(self.confirmed) - self.outside

    def by_department(self) -> list[tuple[str, int, int]]:
        """(department, confirmed, expected) per department of the roster."""
        if self.pending is None:
            return []
        done: Counter[str] = Counter(p.department for _, p in self.confirmed
                                     if p is not None and self.req.applies_to(set(p.groups)))
        todo: Counter[str] = Counter(p.department for p in self.pending)
        return [(d, done[d], done[d] + todo[d]) for d in sorted(set(done) | set(todo))]


def build(reqs: list[Requirement], store: AckStore, roster: list[Person] | None,
          today: _dt.date, timezone: str = "Asia/Shanghai") -> list[DocReport]:
    """The report of every requirement, in doc_id order."""
    people = {p.id: p for p in roster} if roster is not None else {}
    out = []
    for req in reqs:
        seen: dict[str, Record] = {}
        for record in store.confirmations(req.doc_id):
            if req.counts(record.version) and record.user_id not in seen:
                seen[record.user_id] = record
        report = DocReport(req, overdue=today > _dt.date.fromisoformat(req.due))
        for user, record in seen.items():
            person = people.get(user)
            report.confirmed.append((record, person))
            if roster is not None and (person is None or not req.applies_to(set(person.groups))):
                report.outside += 1
        if roster is not None:
            report.pending = [p for p in roster if p.id not in seen
                              and req.applies_to(set(p.groups))]
        out.append(report)
    return out


def local_date(moment: _dt.datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()


def _expected_text(r: DocReport) -> str:
    if r.pending is None:
        return f"已确认 {len(r.confirmed)} 人（未提供花名册，无法列出未确认人员）"
    return (f"已确认 {len(r.confirmed) - r.outside}/{r.expected} 人，未确认 {len(r.pending)} 人"
            + (f"（另有名单外确认 {r.outside} 人）" if r.outside else ""))


def text(reports: list[DocReport], today: _dt.date) -> str:
    """The plain-text report: per document, by department, then the owners' overdue lists."""
    lines = [f"阅知确认（今天 {today.isoformat()}）："]
    if not reports:
        return "\n".join(lines + ["  无需要确认的制度（front matter acknowledge: required）"]) + "\n"
    for r in reports:
        req = r.req
        scope = "、".join(req.groups) if req.groups else "全体员工"
        state = "已过期限" if r.overdue else "期限内"
        lines.append(f"  {req.doc_id}  {req.title}  v{req.version}  确认范围 {scope}  "
                     f"期限 {req.due}（{state}）")
        lines.append(f"    {_expected_text(r)}")
        for dept, done, total in r.by_department():
            lines.append(f"      {dept}：{done}/{total}")
        if r.pending:
            lines.append("    未确认：" + "、".join(f"{p.name}（{p.id}，{p.department}）"
                                              for p in r.pending))
    overdue = [r for r in reports if r.overdue and r.pending]
    lines.append("")
    lines.append("逾期未确认（按归口部门）：")
    if not overdue:
        lines.append("  无" if any(r.pending is not None for r in reports) or not reports
                     else "  未提供花名册（--roster staff.csv），无法判断")
    by_owner: dict[str, list[DocReport]] = defaultdict(list)
    for r in overdue:
        by_owner[r.req.owner or "（未填写归口部门）"].append(r)
    for owner in sorted(by_owner):
        lines.append(f"  {owner}")
        for r in by_owner[owner]:
            lines.append(f"    {r.req.doc_id} v{r.req.version}（期限 {r.req.due}）未确认 "
                         f"{len(r.pending or [])} 人：" + "、".join(p.name for p in r.pending or []))
    return "\n".join(lines) + "\n"


def as_json(reports: list[DocReport], today: _dt.date, timezone: str) -> dict:
    """The report as JSON-ready data."""
    docs = []
    for r in reports:
        docs.append({
            **r.req.to_json(), "overdue": r.overdue,
            "confirmed_count": len(r.confirmed) - r.outside,
            "expected_count": r.expected, "outside_roster": r.outside,
            "confirmed": [{"user_id": rec.user_id, "name": p.name if p else None,
                           "department": p.department if p else None, "version": rec.version,
                           "date": local_date(rec.confirmed_at, timezone),
                           "confirmed_at": rec.confirmed_at.isoformat()}
                          for rec, p in r.confirmed],
            "pending": None if r.pending is None else [
                {"user_id": p.id, "name": p.name, "department": p.department}
                for p in r.pending],
            "by_department": [{"department": d, "confirmed": c, "expected": t}
                              for d, c, t in r.by_department()],
        })
    return {"today": today.isoformat(), "documents": docs}


def as_csv(reports: list[DocReport], timezone: str) -> str:
    """One row per person and document: confirmed or pending."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["doc_id", "version", "due", "user_id", "name", "department", "status",
                     "confirmed_version", "confirmed_date"])
    for r in reports:
        for rec, p in r.confirmed:
            writer.writerow([r.req.doc_id, r.req.version, r.req.due, rec.user_id,
                             p.name if p else "", p.department if p else "", "confirmed",
                             rec.version, local_date(rec.confirmed_at, timezone)])
        for p in r.pending or []:
            writer.writerow([r.req.doc_id, r.req.version, r.req.due, p.id, p.name, p.department,
                             "overdue" if r.overdue else "pending", "", ""])
    return out.getvalue()


#: the admin page's only style (allowed by its hash in the page's policy: :data:`HTML_POLICY`)
HTML_STYLE = ("body{font-family:sans-serif;margin:1.5em;max-width:60em}"
              "table{border-collapse:collapse;margin:.5em 0 1em}caption{text-align:left;"
              "font-weight:bold}th,td{border:1px solid #bbb;padding:.2em .6em;text-align:left}"
              "section{border-top:2px solid #3f51b5;margin-top:1.5em}")
HTML_POLICY = ("default-src 'none'; style-src 'sha256-"
               + base64.b64encode(hashlib.sha256(HTML_STYLE.encode()).digest()).decode()
               + "'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'")


def html(reports: list[DocReport], today: _dt.date, timezone: str, user: str) -> str:
    """The admin page: no script; one inline style allowed by its hash (:data:`HTML_POLICY`)."""
    parts = [Markup('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
                    '<meta name="viewport" content="width=device-width, initial-scale=1">'
                    '<title>阅知确认报告</title><style>{}</style></head><body><h1>阅知确认报告</h1>'
                    '<p>今天 {}，查看人 {}。下载：<a href="?format=csv">CSV</a> · '
                    '<a href="?format=json">JSON</a></p>').format(Markup(HTML_STYLE), today.isoformat(),
                                                                    user)]
    if not reports:
        parts.append(Markup("<p>无需要确认的制度。</p>"))
    for r in reports:
        req = r.req
        parts.append(Markup('<section data-doc-id="{}"><h2>{} 《{}》 v{}</h2><p>确认范围：{}；'
                            '期限：{}{}；{}</p>').format(
            req.doc_id, req.doc_id, req.title, req.version,
            "、".join(req.groups) or "全体员工", req.due, "（已过期限）" if r.overdue else "",
            _expected_text(r)))
        if r.by_department():
            rows = Markup("").join(Markup("<tr><td>{}</td><td>{}</td><td>{}</td></tr>").format(
                d, c, t) for d, c, t in r.by_department())
            parts.append(Markup('<table><caption>按部门</caption><thead><tr><th>部门</th>'
                                '<th>已确认</th><th>应确认</th></tr></thead><tbody>{}</tbody>'
                                '</table>').format(rows))
        if r.pending:
            rows = Markup("").join(Markup("<tr><td>{}</td><td>{}</td><td>{}</td></tr>").format(
                p.id, p.name, p.department) for p in r.pending)
            parts.append(Markup('<table class="pending"><caption>未确认</caption><thead><tr>'
                                '<th>工号</th><th>姓名</th><th>部门</th></tr></thead>'
                                '<tbody>{}</tbody></table>').format(rows))
        if r.confirmed:
            rows = Markup("").join(Markup("<tr><td>{}</td><td>{}</td><td>v{}</td><td>{}</td>"
                                          "</tr>").format(
                rec.user_id, p.name if p else ("" if r.pending is None else "（名单外）"),
                rec.version,
                local_date(rec.confirmed_at, timezone)) for rec, p in r.confirmed)
            parts.append(Markup('<table class="confirmed"><caption>已确认</caption><thead><tr>'
                                '<th>用户</th><th>姓名</th><th>版本</th><th>日期</th></tr>'
                                '</thead><tbody>{}</tbody></table>').format(rows))
        parts.append(Markup("</section>"))
    parts.append(Markup("</body></html>"))
    return str(Markup("").join(parts))


