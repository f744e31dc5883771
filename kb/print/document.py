"""Assemble the print document of one PDF from the built site's HTML.

The article of each built page (``article.md-content__inner``) is taken as MkDocs and Material
rendered it, cleaned of screen-only parts (edit button, permalinks, buttons, banners), and adapted
for paper: ids are made unique per section, links between the sections of one PDF become internal
links, links to other site pages become absolute URLs, images become ``file:`` URLs (a missing
image is an error naming the page), tabbed blocks are unfolded, ``<details>`` are opened and
admonitions without a title get a Chinese one. The result is wrapped in the Jinja template
``kb/templates/pdf/document.html`` with the cover, the 目录 and our paged-media stylesheet.
"""

from __future__ import annotations

import copy
import hashlib
import posixpath
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import jinja2
from lxml import etree
from lxml import html as lhtml
from markupsafe import Markup

from kb.content.admonitions import chinese_title
from kb.errors import ContentError
from kb.print.targets import Section, Target, chapter_label

#: screen-only parts of a built article, never printed in a PDF
OMIT_XPATH = " | ".join([
    ".//a[contains(concat(' ', @class, ' '), ' md-content__button ')]",
    ".//a[contains(concat(' ', @class, ' '), ' headerlink ')]",
    ".//a[contains(concat(' ', @class, ' '), ' footnote-backref ')]",
    ".//aside[contains(concat(' ', @class, ' '), ' md-source-file ')]",
    ".//nav[contains(concat(' ', @class, ' '), ' md-tags ')]",
    ".//*[@data-kb-pdf='omit']",
    # control block and banners: the cover and 修订记录 of the PDF carry that information
    ".//section[contains(concat(' ', @class, ' '), ' kb-control ')]",
    ".//div[contains(concat(' ', @class, ' '), ' kb-banner ')]",
    # git "last updated" line (the build date without git) and the on-line revision table
    ".//*[contains(concat(' ', @class, ' '), ' kb-updated ')]",
    ".//*[contains(concat(' ', @class, ' '), ' kb-revision-record ')]",
    ".//script", ".//style", ".//noscript", ".//button",
])

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "pdf"


@dataclass
class TocEntry:
    """One line of the 目录."""

    level: int  # 1 or 2
    href: str  # "#s2-登录"
    text: str


@dataclass
class PrintSection:
    """One section of a print document, ready for the template."""

    anchor: str
    html: Markup
    toc: list[TocEntry] = field(default_factory=list)


@dataclass
class PrintDocument:
    """The print HTML of one target, with the local files it uses (for the cache key)."""

    target: Target
    html: str
    resources: list[str]  # site-relative paths of the images and other files it loads

    def digest(self, site_dir: str, extra: str = "") -> str:
        """A hash of everything the PDF depends on: the HTML, its files, ``extra`` (versions);
        independent of where the site folder is."""
        sha = hashlib.sha256()
        sha.update(extra.encode())
        sha.update(self.html.encode())
        for rel in sorted(set(self.resources)):
            sha.update(rel.encode())
            sha.update(_file_digest(Path(site_dir, rel)).encode())
        return sha.hexdigest()


def _file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                              autoescape=jinja2.select_autoescape(["html"]),
                              trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'


def stylesheet(fonts: dict[str, str]) -> str:
    """Our paged-media stylesheet with the configured font families and code colours."""
    from pygments.formatters import HtmlFormatter

    families = {k: css_string(v) for k, v in fonts.items()}
    code = HtmlFormatter(style="friendly", nobackground=True).get_style_defs(".highlight")
    return _environment().get_template("pdf.css").render(fonts=families, pygments=code)


class Assembler:
    """Builds :class:`PrintDocument` objects from a built site; reads each page once."""

    def __init__(self, site_dir: str, site_url: str | None, organisation: str, css: str):
        self.site_dir = Path(site_dir)
        self.site_url = (site_url or "").rstrip("/") + "/" if site_url else None
        self.organisation = organisation
        self.css = css
        self._articles: dict[str, etree._Element] = {}

    # -- reading ------------------------------------------------------------------------

    def _article(self, section: Section) -> etree._Element:
        if section.dest_uri not in self._articles:
            path = self.site_dir / section.dest_uri
            tree = lhtml.parse(str(path))
            found = tree.xpath("//article[contains(concat(' ', @class, ' '), ' md-content__inner ')]")
            if not found:
                raise ContentError(section.repo_path, None, None,
                                   f"an article element in the built page {section.dest_uri}",
                                   "none (was the page built with the Material theme?)")
            article = found[0]
            for element in article.xpath(OMIT_XPATH):
                element.drop_tree()
            self._articles[section.dest_uri] = article
        return copy.deepcopy(self._articles[section.dest_uri])

    # -- assembling ---------------------------------------------------------------------

    def document(self, target: Target) -> tuple[PrintDocument | None, list[ContentError]]:
        """The print document of ``target``, or the errors (missing images, ...) naming pages."""
        anchors = {s.url: f"s{i}" for i, s in enumerate(target.sections, 1)}
        multi = len(target.sections) > 1
        sections: list[PrintSection] = []
        resources: list[str] = []
        errors: list[ContentError] = []
        for section in target.sections:
            try:
                article = self._article(section)
            except ContentError as error:
                errors.append(error)
                continue
            anchor = anchors[section.url]
            errors += self._adapt(article, section, anchor, anchors, resources)
            header = target.title
            title_el = next(iter(article.iter("h1")), None)
            if title_el is not None:
                title_el.set("class", "kb-title")
                if section.chapter is not None:
                    label = chapter_label(section.chapter)
                    if not (title_el.text or "").lstrip().startswith("第"):
                        number = etree.Element("span", {"class": "kb-title__number"})
                        number.text = label
                        number.tail = " " + (title_el.text or "")
                        title_el.text = None
                        title_el.insert(0, number)
                    header = f"{target.title} — {_text(title_el)}"
                title_el.set("data-kb-header", header)
            levels = ("h1", "h2") if multi else ("h2", "h3")
            toc = [TocEntry(levels.index(h.tag) + 1, "#" + h.get("id", anchor), _text(h))
                   for h in article.iter(*levels) if h.get("id") or h.tag == "h1"]
            body = "".join(lhtml.tostring(child, encoding="unicode") for child in article)
            body = (article.text or "") + body
            sections.append(PrintSection(anchor, Markup(body), toc))
        if errors:
            return None, errors
        html = _environment().get_template("document.html").render(
            target=target, sections=sections, css=self.css, organisation=self.organisation,
            header=css_string(target.title), footer_id=css_string(target.footer),
            marking=css_string(f"密级：{target.level_label}") if target.level_label else None,
            chapter_pdf=target.kind == "chapter")
        return PrintDocument(target, html, resources), []

    def _adapt(self, article: etree._Element, section: Section, anchor: str,
               anchors: dict[str, str], resources: list[str]) -> list[ContentError]:
        """Make ids unique, fix links and images, unfold screen widgets; return errors."""
        errors: list[ContentError] = []
        page_url = "/" + section.url
        for element in article.iter():
            if not isinstance(element.tag, str):
                continue
            if element.get("id"):
                element.set("id", f"{anchor}-{element.get('id')}")
            if element.tag == "a" and element.get("href") is not None:
                self._link(element, page_url, anchor, anchors)
            elif element.tag == "img" and element.get("src"):
                error = self._image(element, section, resources)
                if error:
                    errors.append(error)
            elif element.tag == "details":
                element.set("open", "open")
        for box in article.xpath(".//input"):
            if box.get("type") == "checkbox":  # task lists: print the state
                mark = etree.Element("span", {"class": "kb-checkbox"})
                mark.text = "■" if box.get("checked") is not None else "□"  # in the CJK fonts
                mark.tail = box.tail
                box.getparent().replace(box, mark)
            else:
                box.drop_tree()
        for element in article.xpath(".//*[@name]"):
            del element.attrib["name"]
        _unfold_tabs(article)
        _title_admonitions(article)
        return errors

    def _link(self, link: etree._Element, page_url: str, anchor: str,
              anchors: dict[str, str]) -> None:
        href = link.get("href", "")
        if href.startswith("#__codelineno"):  # line-number anchors of code blocks
            link.drop_tag()
            return
        if href.startswith("#"):
            link.set("href", f"#{anchor}-{unquote(href[1:])}" if len(href) > 1 else f"#{anchor}")
            return
        parts = urlsplit(href)
        if parts.scheme in ("http", "https", "ftp"):
            if not (self.site_url and href.startswith(self.site_url)):
                link.set("class", (link.get("class", "") + " kb-external").strip())
            return
        if parts.scheme:  # mailto:, tel:
            return
        target = urljoin(page_url, parts.path)
        target_anchor = anchors.get(target.lstrip("/")) or anchors.get(
            target.lstrip("/").removesuffix("index.html"))
        if target_anchor:
            fragment = unquote(parts.fragment)
            link.set("href", f"#{target_anchor}-{fragment}" if fragment else f"#{target_anchor}")
        elif self.site_url:
            link.set("href", urljoin(self.site_url, target.lstrip("/"))
                     + (f"#{parts.fragment}" if parts.fragment else ""))
        else:
            link.drop_tag()

    def _image(self, image: etree._Element, section: Section,
               resources: list[str]) -> ContentError | None:
        src = image.get("src", "")
        parts = urlsplit(src)
        if parts.scheme == "data":
            return None
        if parts.scheme or src.startswith("//"):
            return ContentError(section.repo_path, None, "image",
                                "an image stored in the repository (PDFs load nothing "
                                "from the network)", src)
        rel = posixpath.normpath(posixpath.join(posixpath.dirname(section.dest_uri),
                                                unquote(parts.path)))
        path = (self.site_dir / rel).resolve()
        if rel.startswith("../") or not path.is_file():
            return ContentError(section.repo_path, None, "image",
                                "an image file that exists", f"{src} (missing from the site)")
        image.set("src", rel)  # relative to the site folder, the documents' base URL
        for attribute in ("loading", "srcset", "sizes"):
            image.attrib.pop(attribute, None)
        resources.append(rel)
        return None


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _unfold_tabs(article: etree._Element) -> None:
    """pymdownx.tabbed: print every tab, each under its label."""
    for tabbed in article.xpath(".//div[contains(concat(' ', @class, ' '), ' tabbed-set ')]"):
        labels = [_text(label) for label in tabbed.xpath(
            "./div[contains(@class, 'tabbed-labels')]/label | ./label")]
        blocks = tabbed.xpath(".//div[contains(concat(' ', @class, ' '), ' tabbed-block ')]")
        if not blocks:
            continue
        unfolded = etree.Element("div", {"class": "kb-tabs"})
        for index, block in enumerate(blocks):
            tab = etree.SubElement(unfolded, "div", {"class": "kb-tab"})
            title = etree.SubElement(tab, "p", {"class": "kb-tab__title"})
            title.text = labels[index] if index < len(labels) else f"选项 {index + 1}"
            tab.extend(list(block))
        unfolded.tail = tabbed.tail
        tabbed.getparent().replace(tabbed, unfolded)


def _title_admonitions(article: etree._Element) -> None:
    """Give admonitions that show Material's English default title a Chinese one."""
    for title in article.xpath(".//p[contains(@class, 'admonition-title')] | .//details/summary"):
        box = title.getparent()
        new = chinese_title(box.get("class", ""), _text(title))
        if new:
            for child in list(title):
                title.remove(child)
            title.text = new
