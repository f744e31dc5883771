"""引用本文的页面: the pages that link to a page, computed at build time.

``on_page_content`` of every page records the pages its text links to (:meth:`Backlinks.record`;
links resolved like the browser would, fragments dropped). Every page's content is rendered
before any page's template, so by ``on_page_context`` the list of a page's referrers is complete
and :meth:`Backlinks.html` places it below the text (before the feedback widget and the
"最后更新" line). The hook runs before registers, notice lists and catalogues are added, so only
the links writers wrote count. Sources are written pages only: the home page, pages kept out of search
(search, tags), generated pages (archived versions, notice archives) and the page itself do not
count; links to generated pages are not recorded.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from html import escape, unescape
from urllib.parse import unquote, urlsplit

from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from kb.content.sanitize import page_title_text
from kb.content.tagindex import sort_key

_HREF = re.compile(r'<a\s[^>]*?href="([^"#][^"]*)"', re.I)
#: where a referrer list goes: before the first of these, else at the end
_BEFORE = ('<section class="kb-feedback"', '<p class="kb-updated"')


def _is_source(page: Page) -> bool:
    search = page.meta.get("search")
    return not (page.is_homepage or page.file.generated_by is not None
                or (isinstance(search, dict) and search.get("exclude")))


@dataclass
class Backlinks:
    """One build's links between written pages: target URL → referring pages."""

    referrers: dict[str, dict[str, Page]] = field(default_factory=dict)

    def record(self, html: str, page: Page) -> None:
        if not _is_source(page):
            return
        for href in _HREF.findall(html):
            href = unescape(href)
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            target = posixpath.normpath(posixpath.join(posixpath.dirname("/" + page.url),
                                                       unquote(parts.path)))
            target = target.lstrip("/")
            if parts.path.endswith("/") and target not in ("", "."):
                target += "/"
            if target in (".", page.url):
                continue
            self.referrers.setdefault(target, {})[page.url] = page

    def html(self, page: Page) -> str:
        if page.file.generated_by is not None:
            return ""
        pages = sorted(self.referrers.get(page.url, {}).values(),
                       key=lambda p: (sort_key(page_title_text(p.title)), p.url))
        if not pages:
            return ""
        items = "".join(f'<li><a href="{escape(get_relative_url(p.url, page.url))}">'
                        f"{escape(page_title_text(p.title or p.url))}</a></li>" for p in pages)
        return ('<section class="kb-backlinks" aria-labelledby="kb-backlinks-title" '
                'data-kb-pdf="omit">'
                '<h2 id="kb-backlinks-title">引用本文的页面</h2>'
                f"<ul>{items}</ul></section>")

    def place(self, content: str, page: Page) -> str:
        block = self.html(page)
        if not block:
            return content
        positions = [content.find(marker) for marker in _BEFORE if marker in content]
        at = min(positions) if positions else len(content)
        return content[:at] + block + content[at:]
