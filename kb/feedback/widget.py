"""The widget's HTML (placed by ``hooks/feedback.py``, driven by ``assets/feedback.js``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: hidden until the service answers; no inline script or handler (the build's CSP forbids them)
WIDGET = (
    '<section class="kb-feedback" hidden aria-labelledby="kb-feedback-title" data-kb-pdf="omit">'
    '<h2 id="kb-feedback-title" class="kb-feedback__title">本页有帮助吗？</h2>'
    '<div class="kb-feedback__choices" role="group" aria-labelledby="kb-feedback-title">'
    '<button type="button" class="md-button kb-feedback__choice" data-helpful="true" '
    'aria-pressed="false">有帮助</button>'
    '<button type="button" class="md-button kb-feedback__choice" data-helpful="false" '
    'aria-pressed="false">没帮助</button></div>'
    '<form class="kb-feedback__form" hidden>'
    '<label for="kb-feedback-comment">想补充说明吗？（可选，请勿填写口令等敏感信息）</label>'
    '<textarea id="kb-feedback-comment" name="comment" rows="3" maxlength="1000"></textarea>'
    '<button type="submit" class="md-button md-button--primary">提交反馈</button></form>'
    '<p class="kb-feedback__status" role="status" aria-live="polite"></p>'
    "</section>"
)


def wants_widget(meta: Mapping[str, Any]) -> bool:
    """Pages kept out of search (search page, archived versions, comparisons) or hiding it
    (``hide: [feedback]``, Material's own key for its feedback widget) get none."""
    search = meta.get("search")
    if isinstance(search, Mapping) and search.get("exclude"):
        return False
    return "feedback" not in (meta.get("hide") or [])
