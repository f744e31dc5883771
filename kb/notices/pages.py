"""HTML of notices: home list, archive index, generated archive pages, banners on notice pages.

Archive pages are generated MkDocs files (``File.generated``), never in the navigation:

* ``announcements/archive/YYYY/``: the months of a year with their counts;
* ``announcements/archive/YYYY/MM/`` (+ ``page/N/``): the notices of a month, paginated;
* ``announcements/category/<slug>/`` (+ ``page/N/``): the notices of a category, paginated.

Each page is small whatever the number of notices, and notice pages are not in the navigation,
so thousands of notices do not weigh down every page. Links are relative to the page they are on.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

from kb.notices.catalog import Notices, Notice, State, category_slug
from kb.notices.generated import generated

HOME_MARKER = "<!-- kb:current-announcements -->"
ARCHIVE_MARKER = "<!-- kb:announcement-archive -->"

STATE_BADGES = {State.expired: "已过期", State.scheduled: "待发布"}


# --------------------------------------------------------------------------- URLs


def month_uri(folder: str, year: int, month: int, page: int = 1) -> str:
    return _paged(f"{folder}/archive/{year}/{month:02d}", page)


def year_uri(folder: str, year: int) -> str:
    return f"{folder}/archive/{year}/index.md"


def category_uri(folder: str, category: str, page: int = 1) -> str:
    return _paged(f"{folder}/category/{category_slug(category)}", page)


def _paged(base: str, page: int) -> str:
    return f"{base}/index.md" if page == 1 else f"{base}/page/{page}/index.md"


def feed_uris(folder: str, category: str | None = None) -> tuple[str, str]:
    """Site paths of the RSS 2.0 and Atom feeds (all current notices, or one category)."""
    base = folder if category is None else f"{folder}/category/{category_slug(category)}"
    return f"{base}/feed.xml", f"{base}/atom.xml"


def page_url(src_uri: str, config: MkDocsConfig) -> str:
    """Page URL of a source URI as MkDocs computes it (directory URLs or not)."""
    return File(src_uri, None, None, config.use_directory_urls).url


# --------------------------------------------------------------------------- fragments


def notice_list(notices: Sequence[Notice], anns: Notices, here: str,
                *, show_category: bool = True, empty: str = "暂无通知。") -> str:
    """``<ul>`` of notices with date, category, pinned and lifecycle badges; one HTML block."""
    if not notices:
        return f'<p class="kb-notices-empty">{empty}</p>'
    items = []
    for n in notices:
        state = anns.state(n)
        classes = ["kb-notice", f"kb-notice--{state.value}"] + (["kb-notice--pinned"] if n.meta.pinned else [])
        parts = [f'<span class="kb-notice__date">{n.meta.date.isoformat()}</span>',
                 f'<a class="kb-notice__title" href="{html.escape(get_relative_url(n.url, here))}">'
                 f"{html.escape(n.meta.title)}</a>"]
        if show_category:
            parts.append(f'<span class="kb-notice__category">{html.escape(n.meta.category)}</span>')
        if n.meta.pinned and state is State.current:
            parts.append('<span class="kb-badge kb-badge--pinned">置顶</span>')
        if state in STATE_BADGES:
            parts.append(f'<span class="kb-badge kb-badge--{state.value}">{STATE_BADGES[state]}</span>')
        if n.meta.summary:
            parts.append(f'<span class="kb-notice__summary">{html.escape(n.meta.summary)}</span>')
        items.append(f'<li class="{" ".join(classes)}" data-kb-notice="{html.escape(n.url)}">'
                     + " ".join(parts) + "</li>")
    return '<ul class="kb-notices">' + "".join(items) + "</ul>"


def _link(target_uri: str, text: str, here: str, config: MkDocsConfig) -> str:
    href = get_relative_url(page_url(target_uri, config), here)
    return f'<a href="{html.escape(href)}">{html.escape(text)}</a>'


def _file_link(path: str, text: str, here: str, kind: str) -> str:
    href = get_relative_url(path, here)
    return f'<a href="{html.escape(href)}" type="{kind}">{text}</a>'


def feed_links(folder: str, here: str, category: str | None = None) -> str:
    rss, atom = feed_uris(folder, category)
    return (f'<p class="kb-feeds">订阅：{_file_link(rss, "RSS", here, "application/rss+xml")} · '
            f'{_file_link(atom, "Atom", here, "application/atom+xml")}</p>')


def feed_head_links(folder: str, here: str, site_name: str, category: str | None = None) -> list[str]:
    """``<link rel="alternate feed">`` tags so browsers and readers discover the feeds.

    Not a bare ``rel="alternate"``: Material reads ``link[rel=alternate]`` as another language
    version of the site and fetches ``sitemap.xml`` beside it (a 404 in the console)."""
    rss, atom = feed_uris(folder, category)
    title = html.escape(f"{site_name} · 通知公告" + (f" · {category}" if category else ""))
    return [f'<link rel="alternate feed" type="application/rss+xml" title="{title}" '
            f'href="{html.escape(get_relative_url(rss, here))}">',
            f'<link rel="alternate feed" type="application/atom+xml" title="{title}" '
            f'href="{html.escape(get_relative_url(atom, here))}">']


def home_block(anns: Notices, limit: int, folder: str, here: str,
               config: MkDocsConfig) -> str:
    """What replaces the home page marker: current notices, pinned first, and archive/feed links."""
    more = _link(f"{folder}/index.md", "全部通知", here, config)
    return ('<div class="kb-home-notices">'
            + notice_list(anns.home(limit), anns, here, empty="当前没有有效的通知。")
            + f'<p class="kb-notices-more">{more}</p>' + feed_links(folder, here) + "</div>")


def archive_index_markdown(anns: Notices, limit: int, folder: str, here: str,
                           config: MkDocsConfig) -> str:
    """What replaces the archive marker: latest notices, then links by category and by month."""
    out = ["", feed_links(folder, here), "", "## 最新通知", "",
           notice_list(anns.notices[:limit], anns, here), "", "## 按类别", "",
           '<ul class="kb-archive-categories">' + "".join(
               f"<li>{_link(category_uri(folder, c), c, here, config)} ({len(ns)})</li>"
               for c, ns in anns.by_category().items()) + "</ul>", "", "## 按月份", ""]
    years: dict[int, list[str]] = {}
    for (year, month), ns in anns.by_month().items():
        years.setdefault(year, []).append(
            _link(month_uri(folder, year, month), f"{month} 月", here, config) + f" ({len(ns)})")
    if not years:
        out.append('<p class="kb-notices-empty">暂无通知。</p>')
    out.append('<ul class="kb-archive-months">' + "".join(
        f"<li>{_link(year_uri(folder, y), f'{y} 年', here, config)}：{' · '.join(ms)}</li>"
        for y, ms in years.items()) + "</ul>")
    return "\n".join(out) + "\n"


def banners(notice: Notice, anns: Notices, folder: str, here: str,
            config: MkDocsConfig) -> list[str]:
    """Fragments above a notice page: lifecycle banner (已过期 / 待发布) and the notice's data."""
    out = []
    state, meta = anns.state(notice), notice.meta
    if state is State.expired:
        out.append('<div class="admonition warning kb-notice-banner kb-notice-banner--expired">'
                   '<p class="admonition-title">已过期</p>'
                   f"<p>本通知有效期至 {meta.expires.isoformat()}，已过期，仅供查阅。</p></div>")  # type: ignore[union-attr]
    elif state is State.scheduled:
        out.append('<div class="admonition info kb-notice-banner kb-notice-banner--scheduled">'
                   '<p class="admonition-title">待发布（预览）</p>'
                   f"<p>本通知定于 {meta.date.isoformat()} 发布，正式站点此前不显示。</p></div>")
    facts = [f"发布日期 {meta.date.isoformat()}",
             "类别 " + _link(category_uri(folder, meta.category), meta.category, here, config)]
    if meta.expires is not None:
        facts.append(f"有效期至 {meta.expires.isoformat()}")
    if meta.pinned and state is State.current:
        facts.append('<span class="kb-badge kb-badge--pinned">置顶</span>')
    out.append('<p class="kb-notice-facts">' + " · ".join(facts) + "</p>")
    return out


# --------------------------------------------------------------------------- generated pages


def _pager(pages: list[str], index: int, here: str, config: MkDocsConfig) -> str:
    if len(pages) < 2:
        return ""
    links = []
    if index > 0:
        links.append(_link(pages[index - 1], "上一页", here, config).replace("<a ", '<a rel="prev" ', 1))
    for i, uri in enumerate(pages):
        links.append(f'<strong aria-current="page">{i + 1}</strong>' if i == index
                     else _link(uri, str(i + 1), here, config))
    if index < len(pages) - 1:
        links.append(_link(pages[index + 1], "下一页", here, config).replace("<a ", '<a rel="next" ', 1))
    return f'<nav class="kb-pager" aria-label="分页">{" ".join(links)}</nav>'


def _paginated(title: str, intro: Callable[[str], str], notices: list[Notice], uri_of: Callable[[int], str],
               anns: Notices, page_size: int, config: MkDocsConfig,
               show_category: bool = True) -> list[File]:
    chunks = [notices[i:i + page_size] for i in range(0, len(notices), page_size)] or [[]]
    uris = [uri_of(i + 1) for i in range(len(chunks))]
    files = []
    for i, chunk in enumerate(chunks):
        here = page_url(uris[i], config)
        page_title = title if i == 0 else f"{title}（第 {i + 1} 页）"
        body = "\n".join([
            "---", "search:", "  exclude: true", "---", "", f"# {page_title}", "", intro(here), "",
            notice_list(chunk, anns, here, show_category=show_category), "",
            _pager(uris, i, here, config), ""])
        files.append(generated(config, uris[i], body))
    return files


def archive_files(anns: Notices, folder: str, page_size: int,
                  config: MkDocsConfig) -> list[File]:
    """Every generated archive page: years, months (paginated), categories (paginated)."""
    files: list[File] = []
    index_uri = f"{folder}/index.md"
    months = anns.by_month()
    by_year: dict[int, list[tuple[int, int]]] = {}
    for (year, month), ns in months.items():
        by_year.setdefault(year, []).append((month, len(ns)))
        def intro(here: str, year: int = year) -> str:
            return (f"{_link(index_uri, '通知公告', here, config)} › "
                    f"{_link(year_uri(folder, year), f'{year} 年', here, config)}")
        files += _paginated(f"{year} 年 {month} 月通知", intro, ns,
                            lambda p, y=year, m=month: month_uri(folder, y, m, p),
                            anns, page_size, config)
    for year, ms in by_year.items():
        uri = year_uri(folder, year)
        here = page_url(uri, config)
        rows = "".join(f"<li>{_link(month_uri(folder, year, m), f'{year} 年 {m} 月', here, config)}"
                       f" ({count})</li>" for m, count in ms)
        body = "\n".join(["---", "search:", "  exclude: true", "---", "", f"# {year} 年通知", "",
                          _link(index_uri, "通知公告", here, config), "",
                          f'<ul class="kb-archive-months">{rows}</ul>', ""])
        files.append(generated(config, uri, body))
    for category, ns in anns.by_category().items():
        def category_intro(here: str, category: str = category) -> str:
            return (f"{_link(index_uri, '通知公告', here, config)} › 类别\n\n"
                    + feed_links(folder, here, category))
        files += _paginated(f"{category}", category_intro, ns,
                            lambda p, c=category: category_uri(folder, c, p),
                            anns, page_size, config, show_category=False)
    return files
