"""What a built page shows of 阅知确认: the button block, and the sentence of the 制度发布 notice.

The block is a ``<form hidden data-kb-ack>`` below the policy's control block: hidden until
the page script (``kb-ack.js``) hears from ``/api/ack`` (a static deployment never shows it);
the search indexer leaves forms out, the PDF pipeline leaves ``data-kb-pdf="omit"`` out.
"""

from __future__ import annotations

import datetime as _dt

from markupsafe import Markup
from mkdocs.utils import get_relative_url

from kb.acks.manifest import EVERYONE, Requirement

#: the button's label; ``{version}`` is the current effective version
BUTTON_LABEL = "我已阅读并理解本制度（v{version}）"


def scope_text(groups: tuple[str, ...] | list[str]) -> str:
    return "、".join(groups) if groups and EVERYONE not in groups else EVERYONE


def block(req: Requirement, page_url: str, today: _dt.date) -> Markup:
    """The hidden confirmation form of the page at ``page_url`` (the deadline said as passed
    when ``today`` is after it: nightly builds keep it current)."""
    api = get_relative_url("api/ack", page_url)
    since = (f"（自 v{req.asked_version} 起要求，v{req.major}.x 任一版的确认均有效）"
             if req.asked_version and req.asked_version != req.version else "")
    when = (f"v{req.asked_version or req.version} 的确认期限 {req.due} 已过，请尽快确认"
            if today.isoformat() > req.due else f"请于 {req.due} 前确认")
    return Markup(
        '<form class="kb-ack" data-kb-ack data-kb-pdf="omit" hidden data-doc-id="{doc}" '
        'data-version="{version}" data-api="{api}" aria-label="阅知确认">'
        '<p class="kb-ack__note">本制度要求{scope}阅知确认{since}，{when}。</p>'
        '<button type="button" class="md-button md-button--primary kb-ack__button">{label}'
        '</button><p class="kb-ack__status" role="status" aria-live="polite"></p></form>'
    ).format(doc=req.doc_id, version=req.version, api=api, scope=scope_text(req.groups),
             since=since, when=when, label=BUTTON_LABEL.format(version=req.version))


def asks_again(version: str, previous: str | None, renew: str) -> bool:
    """Whether releasing ``version`` after ``previous`` asks staff to confirm again."""
    if previous is None or renew == "every":
        return True
    return version.split(".")[0] != previous.split(".")[0]


def notice_sentence(version: str, previous: str | None, day: _dt.date, days: int,
                    groups: list[str], renew: str) -> str:
    """What a 制度发布 notice of ``version`` (released on ``day``) says about confirming."""
    if not asks_again(version, previous, renew):
        return (f"本次为小版本修订：此前对第 {previous} 版的阅知确认继续有效，无需重新确认。")
    due = day + _dt.timedelta(days=days)
    return (f"本制度要求{scope_text(groups)}阅知确认：请于 {due.year} 年 {due.month} 月 "
            f"{due.day} 日前登录知识库，在制度页面末尾点击“"
            f"{BUTTON_LABEL.format(version=version)}”完成确认。")
