"""What site settings add to search: the results page's help for searches that find nothing
(popular searches, the helpdesk) and the best bets (a query → the page shown first).

All come from ``extra.kb`` (:mod:`kb.config`: ``popular_searches``, ``helpdesk``,
``best_bets``). The help is rendered at build time as a hidden block after the results
container; the results page script shows it under "没有找到" (no request to the service needed,
nothing loaded from elsewhere). A best bet becomes ``<meta name="kb:best-bets">`` on its page;
the indexer files those queries with the page's exact title, so typing one shows it first.
"""

from __future__ import annotations

from urllib.parse import quote

from markupsafe import Markup

from mkdocs.exceptions import PluginError

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


BEST_BETS_META = "kb:best-bets"


def best_bets_by_page(settings: KBSettings, src_paths: set[str]) -> dict[str, list[str]]:
    """``extra.kb.best_bets`` (query → source path) as queries per source path; a path that is
    not a page of the site stops the build naming the entry and what was expected."""
    out: dict[str, list[str]] = {}
    for query, target in settings.best_bets.items():
        path = target.strip().lstrip("/")
        if path not in src_paths:
            near = sorted(p for p in src_paths if p.rsplit("/", 1)[-1] == path.rsplit("/", 1)[-1])
            hint = f" (did you mean {', '.join(near[:3])}?)" if near else ""
            raise PluginError(
                f"mkdocs.yml: extra.kb.best_bets.{query}: expected the source path of a page of "
                f"the site, such as about.md or policies/accounts-passwords.md; found "
                f"{target!r}, which is not a page{hint}")
        out.setdefault(path, []).append(query)
    return out


def best_bets_meta(queries: list[str]) -> Markup:
    """``<meta name="kb:best-bets">`` of a page: the queries that show it first."""
    return Markup('<meta name="{}" content="{}">').format(BEST_BETS_META, "|".join(queries))
