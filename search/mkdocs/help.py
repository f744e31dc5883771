"""The results page's help for searches that find nothing: popular searches and the helpdesk.

Both come from ``extra.kb`` (:mod:`kb.config`: ``popular_searches``, ``helpdesk``) and are
rendered at build time as a hidden block after the results container; the results page script
shows it under "没有找到" (no request to the service needed, nothing loaded from elsewhere).
"""

from __future__ import annotations

from urllib.parse import quote

from markupsafe import Markup

from kb.config import KBSettings

#: marks the results page (docs/search.md); the block goes right after the page's content
RESULTS_MARKER = 'id="kb-search-page"'


def help_block(settings: KBSettings) -> Markup:
    """``<div id="kb-search-help" hidden>`` with the popular searches (links to the results
    page itself, ``?q=…``) and the helpdesk line; empty when neither is configured."""
    parts: list[Markup] = []
    if settings.popular_searches:
        links = Markup("").join(
            Markup('<li><a href="?q={}">{}</a></li>').format(quote(q), q)
            for q in settings.popular_searches)
        parts.append(Markup('<p class="kb-search-help-title">大家常搜：</p>'
                            '<ul class="kb-search-popular">{}</ul>').format(links))
    if settings.helpdesk:
        parts.append(Markup('<p class="kb-search-helpdesk">仍未找到？请联系{}</p>').format(
            settings.helpdesk))
    if not parts:
        return Markup("")
    return Markup('<div id="kb-search-help" class="kb-search-help" hidden>{}</div>').format(
        Markup("").join(parts))


def add_help(html: str, settings: KBSettings) -> str:
    """The page's HTML with the help block appended when it is the results page."""
    if RESULTS_MARKER not in html:
        return html
    return html + str(help_block(settings))
