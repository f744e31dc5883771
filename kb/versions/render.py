"""HTML of the versioned-document features: the 修订记录 table, the "最后更新 / 作者" line, the
历史版本 banner of archived pages and the comparison pages of two versions.

Functions here take plain data (dates, names, URLs already relative to the page) and return
HTML strings; :mod:`hooks.history` places them in the page slots (``slots(page).top``/``.head``)
or below the content. Every piece of text from a source file is escaped.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from html import escape

from kb.content.model import FIELD_LABELS, VALUE_LABELS, version_key
from kb.versions.textdiff import compare, meta_changes, render
from kb.versions.archive import Document, Version, strip_title_heading, yaml_quote


def meta_tag(name: str, content: str) -> str:
    return f'<meta name="{escape(name)}" content="{escape(content)}">'


def updated_line(date: _dt.date, authors: Iterable[str], *, note: str | None = None) -> str:
    """``最后更新：2026-05-01 · 作者：张伟、李娜`` (with an optional note in brackets)."""
    names = "、".join(escape(a) for a in authors)
    text = f'最后更新：<time datetime="{date.isoformat()}">{date.isoformat()}</time>'
    if note:
        text += f"（{escape(note)}）"
    if names:
        text += f' · 作者：<span class="kb-authors">{names}</span>'
    return f'<p class="kb-updated">{text}</p>'


def banner(doc: Document, version: Version, *, current_url: str,
           next_diff_url: str | None) -> str:
    """The prominent 历史版本 banner at the top of an archived version's pages."""
    successor = doc.successor(version.version)
    replaced = f"已被 v{escape(successor)} 取代"
    if successor != doc.current:
        replaced += f"，现行版本为 v{escape(doc.current)}"
    when = f"（{version.commit.date.isoformat()} 提交）" if version.commit else ""
    links = [f'<a class="kb-current-link" href="{escape(current_url)}">查看现行版本 v{escape(doc.current)}</a>']
    if next_diff_url:
        links.append(f'<a href="{escape(next_diff_url)}">查看 v{escape(version.version)} → '
                     f"v{escape(successor)} 的修订对比</a>")
    return (
        '<div class="admonition warning kb-archived-banner" role="note">'
        f'<p class="admonition-title">历史版本 · v{escape(version.version)} · {replaced}</p>'
        f"<p>本页是《{escape(doc.title)}》（{escape(doc.doc_id)}）v{escape(version.version)}"
        f"{when}的存档，仅供查阅，不作为现行依据。</p>"
        f'<p>{" · ".join(links)}</p></div>'
    )


@dataclass
class RecordRow:
    """One row of the revision record: a ``history`` entry and/or a version found in git."""

    version: str
    date: str
    summary: str
    approver: str
    view_url: str | None  # archived page; None when current or not in git
    diff_url: str | None  # comparison with the previous version
    current: bool
    diff_from: str | None = None  # the version the comparison starts from


def record_rows(history: Iterable[Mapping[str, object]], doc: Document | None,
                urls: Mapping[str, str], diff_urls: Mapping[str, str],
                diff_from: Mapping[str, str] | None = None) -> list[RecordRow]:
    """Rows, newest version first: every ``history`` entry plus versions only git knows.

    ``urls`` maps a version to its archived page URL, ``diff_urls`` a version to the URL of its
    comparison with the version before it (both relative to the page showing the record),
    ``diff_from`` a version to that earlier version (the link names it: an archive may lack one).
    """
    before = diff_from or {}
    current = doc.current if doc else None
    rows: dict[str, RecordRow] = {}
    for entry in history:
        version = str(entry.get("version", ""))
        date = entry.get("date")
        rows[version] = RecordRow(
            version, date.isoformat() if isinstance(date, _dt.date) else str(date or ""),
            str(entry.get("summary") or ""), str(entry.get("approver") or ""),
            urls.get(version), diff_urls.get(version), version == current, before.get(version))
    for v in doc.versions if doc else []:
        if v.version not in rows:
            date = v.commit.date.isoformat() if v.commit else ""
            rows[v.version] = RecordRow(v.version, date, "（修订记录中无此版本的说明）", "",
                                        urls.get(v.version), diff_urls.get(v.version),
                                        v.version == current, before.get(v.version))
    def key(row: RecordRow) -> tuple[int, int]:
        try:
            return version_key(row.version)
        except ValueError:
            return (-1, -1)
    return sorted(rows.values(), key=key, reverse=True)


def record_table(rows: list[RecordRow]) -> str:
    """The 修订记录 block: version, date, summary, approver, links to the version and its diff."""
    body = []
    for r in rows:
        if r.current:
            view = '<span class="kb-current-version">现行版本</span>'
        elif r.view_url:
            view = f'<a href="{escape(r.view_url)}">查看 v{escape(r.version)}</a>'
        else:
            view = '<span class="kb-no-archive">无存档</span>'
        label = f"与 v{escape(r.diff_from)} 比较" if r.diff_from else "与上一版比较"
        diff = f'<a href="{escape(r.diff_url)}">{label}</a>' if r.diff_url else ""
        body.append(f"<tr><td>v{escape(r.version)}</td><td>{escape(r.date)}</td>"
                    f"<td>{escape(r.summary)}</td><td>{escape(r.approver)}</td>"
                    f"<td>{view}</td><td>{diff}</td></tr>")
    return ('<section class="kb-revision-record">'
            '<h2 id="kb-revision-record">修订记录</h2><div class="kb-table-scroll">'
            '<table class="kb-revision-table"><thead><tr><th>版本</th><th>日期</th>'
            "<th>修订说明</th><th>批准人</th><th>存档</th><th>对比</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div></section>")


def archived_markdown(doc: Document, version: Version, body: str, *, chapter_title: str | None) -> str:
    """Source of an archived page: a title, kept out of the theme's search, then the old body."""
    title = f"{chapter_title or doc.title}（v{version.version} 历史版本）"
    return (f"---\ntitle: {yaml_quote(title)}\nsearch:\n  exclude: true\n---\n\n"
            f"# {title}\n\n{strip_title_heading(body)}")


def diff_markdown(doc: Document, old: Version, new: Version) -> str:
    """Source of a comparison page; its content is filled in by :func:`diff_html`."""
    title = f"{doc.title} v{old.version} → v{new.version} 修订对比"
    return f"---\ntitle: {yaml_quote(title)}\nsearch:\n  exclude: true\n---\n\n# {title}\n"


def diff_html(doc: Document, old: Version, new: Version, *, old_url: str | None,
              new_url: str | None, current_url: str,
              text_of: Callable[[str], str] | None = None) -> str:
    """Body of the comparison page of two consecutive versions; ``text_of`` turns a Markdown
    body into the text compared (:class:`kb.versions.rendertext.Renderer`: what readers see)."""
    readable = text_of or (lambda body: body)
    def link(url: str | None, v: Version) -> str:
        label = f"v{escape(v.version)}"
        return f'<a href="{escape(url)}">{label}</a>' if url else label

    parts = [f'<p class="kb-diff-intro">《{escape(doc.title)}》（{escape(doc.doc_id)}）'
             f"从 {link(old_url, old)} 到 {link(new_url, new)} 的变化（比较的是两版的正文文字，"
             "表格按行、图片按说明文字列出）。"
             '<ins>新增的文字</ins>、<del>删除的文字</del>已标出，未修改的章节已折叠。'
             f' <a href="{escape(current_url)}">现行版本 v{escape(doc.current)}</a></p>']
    old_data, _ = old.front()
    new_data, _ = new.front()
    changes = meta_changes(old_data, new_data, FIELD_LABELS, value_labels=VALUE_LABELS)
    if changes:
        rows = "".join(f"<tr><th>{escape(label)}</th><td><del>{escape(a)}</del></td>"
                       f"<td><ins>{escape(b)}</ins></td></tr>" for label, a, b in changes)
        parts.append('<h2 id="kb-diff-meta">文件信息的变化</h2><div class="kb-table-scroll">'
                     '<table class="kb-diff-meta">'
                     f"<thead><tr><th>项目</th><th>v{escape(old.version)}</th>"
                     f"<th>v{escape(new.version)}</th></tr></thead><tbody>{rows}</tbody></table></div>")
    parts.append('<h2 id="kb-diff-text">正文的变化</h2>')
    old_members = {m.head_path: m for m in old.members}
    new_members = {m.head_path: m for m in new.members}
    for head_path in [*new_members, *(p for p in old_members if p not in new_members)]:
        o, n = old_members.get(head_path), new_members.get(head_path)
        old_body = readable(old.front(o)[1]) if o else ""
        new_body = readable(new.front(n)[1]) if n else ""
        if len(new.members) > 1 or len(old.members) > 1:
            parts.append(f'<h3 class="kb-diff-file">{escape(head_path)}</h3>')
        if old_body == new_body:
            parts.append('<p class="kb-diff-none">正文未修改。</p>')
            continue
        parts.append(f'<div class="kb-diff">{render(compare(old_body, new_body))}</div>')
    return "\n".join(parts)
