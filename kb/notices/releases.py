"""Generated 制度发布 notices: one per effective version of a controlled document that opts in.

A policy or manual with ``announce: true`` in its front matter gets, for its current effective
version (dated ``effective_date``) and for each earlier version in its revision record (dated by
that entry), a notice page in the notice folder. It is an ordinary notice afterwards: it appears in
the archive, the feeds and the home list, and expires ``announcement_release_days`` after its date.
Writers therefore do not write both the document and its release notice.

Documents come from the build's catalog (:mod:`kb.content.catalog`): only valid ones, already filtered
by preview and audience.
"""

from __future__ import annotations

import datetime as _dt
import posixpath
from collections.abc import Iterator

import yaml
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File

from kb.acks.page import asks_again, notice_sentence
from kb.notices.catalog import Notice, folder_of, notice_uri
from kb.content.catalog import Catalog, Entry
from kb.config import KBSettings
from kb.content.model import ControlledMeta, NoticeMeta, PolicyMeta, Status, version_key

CATEGORY = "制度发布"
RELEASED = (Status.effective, Status.superseded, Status.retired)


def announced_documents(catalog: Catalog) -> Iterator[tuple[Entry, ControlledMeta]]:
    """Policies and manuals of this build with ``announce: true`` that have been released."""
    for entry in catalog.of_type("policy", "manual"):
        meta = entry.meta
        if (isinstance(meta, ControlledMeta) and (meta.announce or _acknowledged(meta))
                and meta.status in RELEASED and meta.effective_date is not None):
            yield entry, meta


def _acknowledged(meta: ControlledMeta) -> bool:
    """``acknowledge: required`` (阅知确认): staff must be told, so the notice is implied."""
    return isinstance(meta, PolicyMeta) and meta.acknowledge_required


def releases(meta: ControlledMeta) -> list[tuple[str, _dt.date, str | None]]:
    """(version, date, change summary) of every effective version, oldest first."""
    assert meta.effective_date is not None
    current = version_key(meta.version)
    found: dict[str, tuple[_dt.date, str | None]] = {}
    for entry in meta.history:
        if version_key(entry.version) < current:
            found[entry.version] = (entry.date, entry.summary)
    summary = next((h.summary for h in meta.history if h.version == meta.version), None)
    found[meta.version] = (meta.effective_date, summary)
    return sorted(((v, d, s) for v, (d, s) in found.items()), key=lambda r: version_key(r[0]))


def doc_slug(src_uri: str) -> str:
    """``policies/network.md`` → ``network``; ``manuals/oa/index.md`` → ``oa``."""
    stem = posixpath.splitext(src_uri)[0]
    if stem.endswith("/index"):
        stem = stem[: -len("/index")]
    return posixpath.basename(stem)


def release_files(catalog: Catalog, config: MkDocsConfig, settings: KBSettings
                  ) -> list[tuple[File, Notice]]:
    """Generated notice pages (MkDocs files) and their notices, for every announced release."""
    folder = folder_of(settings)
    out: list[tuple[File, Notice]] = []
    for doc, meta in announced_documents(catalog):
        previous = None
        for version, day, change in releases(meta):
            ack, due_note = None, ""
            if _acknowledged(meta):
                days = meta.acknowledge_days or settings.acknowledge_days
                ack = notice_sentence(version, previous, day, days, meta.acknowledge_groups,
                                      settings.acknowledge_renew)
                if asks_again(version, previous, settings.acknowledge_renew):
                    due_note = f"须于 {(day + _dt.timedelta(days=days)).isoformat()} 前阅知确认。"
            previous = version
            src_uri = notice_uri(folder, day, f"release-{doc_slug(doc.src_uri)}-v{version.replace('.', '-')}")
            notice_meta = NoticeMeta(
                title=f"关于发布《{meta.title}》{version} 版的通知",
                date=day,
                category=CATEGORY,
                expires=day + _dt.timedelta(days=settings.announcement_release_days - 1),
                confidentiality=meta.confidentiality,
                summary=f"《{meta.title}》（{meta.doc_id}）{version} 版自 {day.isoformat()} 起生效。"
                        + due_note,
                tags=list(meta.tags),
            )
            content = _page(notice_meta, src_uri, doc.src_uri, meta, version, change, ack)
            file = File.generated(config, src_uri, content=content)
            out.append((file, Notice(src_uri, f"(generated from {doc.src_uri})", file.url,
                                     notice_meta, doc.level, announces=doc.src_uri)))
    return out


def _page(notice: NoticeMeta, src_uri: str, doc_uri: str, meta: ControlledMeta,
          version: str, change: str | None, ack: str | None = None) -> str:
    """Markdown of a generated release notice; the link to the document is checked by MkDocs."""
    front = {k: v for k, v in notice.model_dump(mode="json", exclude_defaults=True).items()}
    link = posixpath.relpath(doc_uri, posixpath.dirname(src_uri))
    lines = [
        "---", yaml.safe_dump(front, allow_unicode=True, sort_keys=False).rstrip(), "---", "",
        f"# {notice.title}", "",
        "信息中心各部门：", "",
        f"《[{_md_escape(meta.title)}]({link})》（文件编号 {meta.doc_id}，第 {version} 版）"
        f"已经批准，自 {notice.date.year} 年 {notice.date.month} 月 {notice.date.day} 日起生效，"
        "请遵照执行。", "",
    ]
    if change:
        lines += [f"本版修订内容：{_md_escape(change)}", ""]
    if ack:
        lines += [_md_escape(ack), ""]
    lines += ["!!! note \"说明\"", "    本通知根据文件的修订记录自动生成。", ""]
    return "\n".join(lines)


def _md_escape(text: str) -> str:
    for ch in "\\`*_[]<>#":
        text = text.replace(ch, "\\" + ch)
    return text
