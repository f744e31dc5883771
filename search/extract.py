"""Read one page of a site built by MkDocs with the Material theme into sections.

Works on any Material site: the article (``<article class="md-content__inner">``), its h1/h2/h3
headings with their ``id`` anchors, the breadcrumb from the active entries of the primary
navigation, and our ``<meta name="kb:…">`` tags when the page has them. Pages without a Material
article (404, redirects, assets) give ``None``.

The page is cut with plain string searches before lxml parses only the article: Material repeats
the whole navigation in every page, which makes pages of big sites mostly navigation.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import lxml.etree
import lxml.html

ARTICLE_OPEN = '<article class="md-content__inner'
_META = re.compile(r"<meta\s[^>]*>", re.I)
_ATTR = re.compile(r'([\w:-]+)\s*=\s*("[^"]*"|\'[^\']*\')')
_TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)
_ACTIVE = re.compile(r'class="md-nav__item md-nav__item--active')
_ELLIPSIS = re.compile(r'<span class="md-ellipsis">(.*?)</span>', re.S)
_TAGS_STRIP = re.compile(r"<[^>]+>")
_WS = re.compile(r"\s+")

#: elements whose text is not page content
DROP = (
    "script", "style", "template", "nav", "form", "button", "svg",
)
DROP_CLASSES = (
    "headerlink", "md-source-file", "md-content__button", "md-tags", "md-feedback",
    "md-source", "md-annotation__index",
    "trainer",  # trainer notes (!!! trainer): hidden on the page, printed in the trainer's PDF only
    # what our hooks add around the text: the control block, banners, the "最后更新" line,
    # the feedback widget, backlinks and pagers are not what a snippet should quote
    "kb-control", "kb-banner", "kb-updated", "kb-feedback", "kb-backlinks", "kb-pager-nav",
    # the 修订记录 table (versions and their one-line summaries) is metadata like the control
    # block: as a short section it named a policy's topic better than the article about it
    "kb-revision-record",
)
BLOCKS = frozenset(
    "p div li ul ol dl dt dd table tr td th blockquote pre section details summary figure "
    "figcaption h4 h5 h6 br hr".split()
)
HEADINGS = frozenset(("h1", "h2", "h3"))
NOINDEX_META = "kb:noindex"
KB_META = ("type", "doc_id", "version", "status", "confidentiality", "tags", "updated", "archived")


@dataclass
class Section:
    """Text under one heading (h1 intro, h2 or h3) up to the next one."""

    anchor: str
    heading: str
    level: int
    text: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    display: list[str] = field(default_factory=list)

    def prose(self) -> str:
        return _clean(" ".join(self.text))

    def code_text(self) -> str:
        return _clean(" ".join(self.code))

    def display_text(self) -> str:
        return _clean(" ".join(self.display))


@dataclass
class Page:
    """One content page: URL relative to the site root, title, breadcrumb, kb: metadata."""

    url: str
    title: str
    crumbs: list[str]
    meta: dict[str, str]
    lead: str
    sections: list[Section]


def _clean(text: str) -> str:
    return _WS.sub(" ", text).strip()


def page_url(relpath: str) -> str:
    """``common/du/index.html`` → ``common/du/``; ``index.html`` → ``""``; ``a.html`` kept."""
    if relpath == "index.html":
        return ""
    if relpath.endswith("/index.html"):
        return relpath[: -len("index.html")]
    return relpath


def slice_page(source: str) -> str | None:
    """The parts of a built page that indexing uses (head metas, breadcrumb, article) or None."""
    start = source.find(ARTICLE_OPEN)
    if start < 0:
        return None
    end = source.find("</article>", start)
    if end < 0:
        return None
    head_end = source.find("</head>")
    head = source[: head_end if head_end > 0 else 0]
    metas = "".join(m.group(0) for m in _META.finditer(head))
    if is_noindex(metas):
        return None
    title = _TITLE.search(head)
    crumbs = " \x1f ".join(breadcrumb(source[:start]))
    return (
        f"{metas}\n<title>{title.group(1) if title else ''}</title>\n"
        f"<!--crumbs:{html.escape(crumbs)}-->\n{source[start : end + 10]}"
    )


def is_noindex(head: str) -> bool:
    """True when the page's head asks not to be indexed: ``<meta name="kb:noindex">`` (our
    utility pages: results page, tag index, notice archive listings) or ``robots`` noindex."""
    for m in _META.finditer(head):
        attrs = {k.lower(): v[1:-1].lower() for k, v in _ATTR.findall(m.group(0))}
        name = attrs.get("name", "")
        if name == NOINDEX_META or (name == "robots" and "noindex" in attrs.get("content", "")):
            return True
    return False


def noindex_tag(page_meta: dict, head: list[str] | None = None) -> str | None:
    """The ``<head>`` tag that keeps a page out of the index, for a page whose front matter says
    ``search: exclude: true`` (Material's own switch for its search), else None.

    Archived versions and comparisons (``<meta name="kb:archived">`` already in ``head``) set
    that switch too, to stay out of the theme's search box, but our index keeps them, marked
    archived, for ``archived:true`` queries."""
    search = page_meta.get("search") if isinstance(page_meta, dict) else None
    if not (isinstance(search, dict) and search.get("exclude") is True):
        return None
    if any('name="kb:archived"' in str(tag) for tag in head or ()):
        return None
    return f'<meta name="{NOINDEX_META}" content="true">'


def breadcrumb(before_article: str) -> list[str]:
    """Labels of the active entries of the primary navigation (section path to the page)."""
    primary_end = before_article.find("md-nav--secondary")
    text = before_article if primary_end < 0 else before_article[:primary_end]
    labels: list[str] = []
    for m in _ACTIVE.finditer(text):
        span = _ELLIPSIS.search(text, m.end(), m.end() + 3000)
        if not span:
            continue
        label = _clean(html.unescape(_TAGS_STRIP.sub("", span.group(1))))
        if label and (not labels or labels[-1] != label):
            labels.append(label)
    return labels


def meta_tags(head: str) -> dict[str, str]:
    """``<meta name="kb:x" content="…">`` values by ``x`` (unknown kb: names kept as well)."""
    out: dict[str, str] = {}
    for m in _META.finditer(head):
        attrs = {k.lower(): html.unescape(v[1:-1]) for k, v in _ATTR.findall(m.group(0))}
        name = attrs.get("name", "")
        if name.startswith("kb:") and "content" in attrs:
            out[name[3:]] = attrs["content"].strip()
    return out


def _dropped(el: lxml.html.HtmlElement) -> bool:
    if el.tag in DROP:
        return True
    classes = (el.get("class") or "").split()
    return any(c in DROP_CLASSES for c in classes)


def _is_code_block(el: lxml.html.HtmlElement) -> bool:
    """``<pre>`` and a paragraph made of one ``<code>`` only (tldr-style command lines)."""
    if el.tag == "pre":
        return True
    if el.tag == "p" and len(el) == 1 and el[0].tag == "code":
        return not (el.text or "").strip() and not (el[0].tail or "").strip()
    return False


class _Walker:
    def __init__(self) -> None:
        self.sections: list[Section] = [Section("", "", 1)]
        self.lead = ""

    def add(self, text: str | None, code: bool = False) -> None:
        if not text:
            return
        sec = self.sections[-1]
        (sec.code if code else sec.text).append(text)
        sec.display.append(text)

    def walk(self, el: lxml.html.HtmlElement) -> None:
        for child in el:
            if not isinstance(child.tag, str):  # comments, processing instructions
                self.add(child.tail)
                continue
            if _dropped(child):
                self.add(child.tail)
                continue
            if child.tag in HEADINGS:
                heading = _clean(child.text_content())
                level = int(child.tag[1])
                if level == 1 and len(self.sections) == 1 and not self.sections[0].heading:
                    self.sections[0].heading = heading
                    self.sections[0].anchor = ""
                else:
                    self.sections.append(Section(child.get("id") or "", heading, level))
            elif _is_code_block(child):
                self.add(child.text_content(), code=True)
                self.add("\n")
            else:
                if child.tag in ("p", "blockquote") and not self.lead and len(self.sections) == 1:
                    self.lead = _clean(child.text_content())[:400]
                self.add(child.text)
                self.walk(child)
                if child.tag in BLOCKS:
                    self.add("\n")
            self.add(child.tail)


def _walk_article(article: str) -> _Walker:
    root = lxml.html.fragment_fromstring(article)
    for bad in [e for e in root.iter() if isinstance(e.tag, str) and _dropped(e)]:
        if bad.getparent() is not None:
            bad.drop_tree()  # keeps the tail text
    w = _Walker()
    w.add(root.text)
    w.walk(root)
    return w


def parse_page(relpath: str, sliced: str) -> Page | None:
    """Build a :class:`Page` from the output of :func:`slice_page`."""
    art_at = sliced.find(ARTICLE_OPEN)
    head = sliced[:art_at]
    meta = meta_tags(head)
    m = re.search(r"<!--crumbs:(.*?)-->", head, re.S)
    crumbs = [c for c in html.unescape(m.group(1)).split(" \x1f ") if c] if m else []
    w = _walk_article(sliced[art_at:])
    title = w.sections[0].heading
    if not title:
        t = _TITLE.search(head)
        title = _clean(html.unescape(t.group(1)).rsplit(" - ", 1)[0]) if t else relpath
        w.sections[0].heading = title
    if crumbs and crumbs[-1] == title:
        crumbs = crumbs[:-1]
    sections = [
        s for i, s in enumerate(w.sections) if i == 0 or s.heading or s.prose() or s.code_text()
    ]
    return Page(page_url(relpath), title, crumbs, meta, w.lead, sections)
