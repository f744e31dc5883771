"""What a writer types reaches readers as text or as documentation markup, never as script.

Two halves, both applied by ``hooks/safety.py`` to every page before the theme sees it:

* :func:`clean_html`: the page's converted Markdown (the writer's raw HTML and everything
  Markdown and its extensions made of it) through nh3 (the Ammonia sanitizer) with an allow-list
  for documentation: headings, lists, tables, code, ``details``/``summary``, ``kbd``,
  ``mark``, ``abbr``, figures, images and links with safe URLs (relative, http(s), mailto,
  tel), ids for anchors, classes (attr_list, Pygments, admonitions, tabs, task lists),
  Material's emoji SVG. No ``<script>``, ``<style>``, ``<iframe>``, ``<object>``, forms or
  event handlers; no ``javascript:``/``data:`` URLs; ``style`` keeps ``text-align`` only (the
  table extension's column alignment); element ids that Material's own script looks up
  (``__config``, ``__search``, …) are dropped so content cannot stand in for them. Our own
  fragments (registers, notice lists, control block) are added after this, from escaped text.
* :func:`escape_meta`: front-matter text handed to the theme (``title``, ``description``,
  ``author``, ``subtitle``, ``tags``, …) becomes escaped :class:`markupsafe.Markup`, so the
  templates that print ``page.meta.title``, ``page.title`` or a tag's name raw print text; a
  template that escapes (``| e``) leaves Markup as it is, so nothing is escaped twice.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import nh3
from markupsafe import Markup, escape

#: elements a documentation page may contain; anything else is dropped (its text kept)
TAGS: frozenset[str] = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col",
    "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "ins", "kbd", "label", "li",
    "mark", "nav", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp", "section", "small",
    "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time",
    "tr", "u", "ul", "var", "wbr",
    "svg", "path", "g",  # Material's emoji and icons (pymdownx.emoji to_svg)
})
#: elements removed together with everything inside them
DROP_WITH_CONTENT: frozenset[str] = frozenset({
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "template",
    "noscript", "noembed", "noframes", "textarea", "select", "xmp", "plaintext", "math",
})
#: attributes per element (``*``: any allowed element)
ATTRIBUTES: dict[str, set[str]] = {
    "*": {"id", "class", "title", "lang", "dir", "role", "aria-label", "aria-hidden",
          "aria-current"},
    "a": {"href", "name", "hreflang", "download", "rel"},  # rel: prev/next of notice archives
    "img": {"src", "alt", "width", "height", "loading"},
    "input": {"checked", "disabled", "name"},  # task lists (checkbox), content tabs (radio)
    "label": {"for"},
    "ol": {"start", "reversed", "type"},
    "li": {"value", "data-kb-notice"},  # notice lists (kb.notices.pages)
    "td": {"colspan", "rowspan", "headers", "style"},
    "th": {"colspan", "rowspan", "headers", "scope", "style"},
    "col": {"span"},
    "colgroup": {"span"},
    "details": {"open"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
    "div": {"data-tabs"},  # pymdownx.tabbed
    "svg": {"xmlns", "viewBox", "width", "height", "fill", "focusable"},
    "path": {"d", "fill", "fill-rule", "clip-rule"},
    "g": {"fill"},
}
#: attributes allowed with a fixed set of values
ATTRIBUTE_VALUES: dict[str, dict[str, set[str]]] = {
    "input": {"type": {"checkbox", "radio"}},
    "a": {"type": {"application/rss+xml", "application/atom+xml"}},  # feed links of notice lists
}
#: URL schemes of href/src/cite; relative URLs are kept as they are
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto", "tel"})
#: ids Material's scripts find with getElementById/querySelector: content must not clobber them
_THEME_IDS = re.compile(r"^__(?:config|drawer|search|consent|palette|analytics|announce|outdated)",
                        re.I)


def _filter(element: str, attribute: str, value: str) -> str | None:
    if attribute in ("id", "name", "for") and _THEME_IDS.match(value):
        return None
    return value


_cleaner = nh3.Cleaner(
    tags=set(TAGS), clean_content_tags=set(DROP_WITH_CONTENT), attributes=ATTRIBUTES,
    attribute_filter=_filter, strip_comments=False, link_rel=None,
    tag_attribute_values=ATTRIBUTE_VALUES, url_schemes=set(URL_SCHEMES),
    filter_style_properties={"text-align"},
)


def clean_html(html: str) -> str:
    """``html`` with everything that could run, load or restyle the page removed."""
    return _cleaner.clean(html)


#: elements whose removal the writer is told about (the rest of what is not in TAGS is formatting
#: that loses its tag and keeps its text)
REPORTED_TAGS: frozenset[str] = DROP_WITH_CONTENT | {"form", "base", "meta", "link", "button"}
#: attributes holding a URL: a scheme outside URL_SCHEMES (javascript:, data:, ...) is removed
URL_ATTRIBUTES: frozenset[str] = frozenset(
    {"href", "src", "cite", "action", "formaction", "data", "poster", "background", "xlink:href"})
_SCHEME = re.compile(r"^\s*([a-z][a-z0-9+.\-]*)\s*:", re.I)
_STYLE_PROPERTY = re.compile(r"([a-z\-]+)\s*:", re.I)
#: attr_list braces left as text that ask for an event handler or a style
_ATTR_TEXT = re.compile(r"\{:?[^{}\n]*?\b(on[a-z]+|style)\s*=[^{}\n]*\}", re.I)


#: how the build's warning about a :class:`Removal` starts (``kb check``: kind ``safety``)
UNSAFE_MARKUP = "unsafe markup taken out of the page:"


@dataclass(frozen=True)
class Removal:
    """One thing :func:`clean_html` takes out of a page, for the writer: what, and the text to
    look for in the Markdown source to find its line."""

    what: str
    needle: str


class _Unsafe(HTMLParser):
    """Walks converted Markdown and notes what the sanitiser will remove (script, frames,
    handlers, script URLs, style overlays, theme ids) or what stays as inert text
    (an attr_list with a handler that Markdown did not apply)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Removal] = []
        self._code = 0

    def _add(self, what: str, needle: str) -> None:
        removal = Removal(what, needle)
        if removal not in self.found:
            self.found.append(removal)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("code", "pre"):
            self._code += 1
        if tag in REPORTED_TAGS:
            content = " and its content" if tag in DROP_WITH_CONTENT else ""
            self._add(f"<{tag}> element{content}", f"<{tag}")
            return
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self._add(f"event handler {name}= on <{tag}>", name)
            elif name == "style" and {p.lower() for p in _STYLE_PROPERTY.findall(value)} - \
                    {"text-align"}:
                self._add(f"style= on <{tag}> (only text-align is kept)", "style")
            elif name in URL_ATTRIBUTES and (m := _SCHEME.match(value)) and \
                    m[1].lower() not in URL_SCHEMES:
                self._add(f"{m[1].lower()}: URL in {name}= of <{tag}>", f"{m[1]}:")
            elif name in ("id", "name", "for") and _THEME_IDS.match(value):
                self._add(f"{name}={value!r} on <{tag}> (reserved by the theme)", value)
            elif name == "srcdoc":
                self._add(f"srcdoc= on <{tag}>", "srcdoc")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("code", "pre") and self._code:
            self._code -= 1

    def handle_data(self, data: str) -> None:
        if self._code or "{" not in data:
            return
        for match in _ATTR_TEXT.finditer(data):
            self._add(f"attribute {match[1]}= in `{match[0]}` is not applied (shown as text; "
                      "event handlers and styles are not allowed)", match[0])


def removals(html: str) -> list[Removal]:
    """What :func:`clean_html` removes from ``html`` that the writer should know about, in order
    of appearance; empty for ordinary documentation markup."""
    if not _MAYBE_UNSAFE.search(html):
        return []
    parser = _Unsafe()
    parser.feed(html)
    parser.close()
    return parser.found


_MAYBE_UNSAFE = re.compile(
    r"<(?:" + "|".join(sorted(REPORTED_TAGS)) + r")\b|\son[a-z]+\s*=|\sstyle\s*=|"
    r"\s(?:href|src|cite|action|formaction|data|poster|background|xlink:href)\s*=\s*[\"']?\s*"
    r"(?!https?:|mailto:|tel:)[a-z][a-z0-9+.\-]*:|__(?:config|drawer|search|consent|palette|"
    r"analytics|announce|outdated)|srcdoc|\{", re.I)


def escape_meta(meta: dict[str, Any]) -> None:
    """Escape, in place, the text values of front matter that the theme prints.

    Top-level strings and lists of strings become :class:`markupsafe.Markup` (HTML-safe text);
    nested data (``history``, ``search``) and non-text values stay as they are. Idempotent.
    """
    for key, value in meta.items():
        if isinstance(value, str):
            meta[key] = escape(value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            meta[key] = [escape(v) for v in value]


def page_title_text(title: object) -> str:
    """Plain text of a page's title (``page.title``), which MkDocs and :func:`escape_meta` hand
    over as HTML text: escaped Markup from front matter, or the first heading's text with its
    entities. Print it into HTML with ``escape(page_title_text(...))``: escaped exactly once."""
    return html.unescape(str(title)) if title is not None else ""


def text_of(value: object) -> str:
    """Plain text of a value :func:`escape_meta` may have escaped."""
    return value.unescape() if isinstance(value, Markup) else str(value)
