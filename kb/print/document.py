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
import re
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
    # the level badge of pages without a control block: the PDF prints 密级 on every page
    ".//div[contains(concat(' ', @class, ' '), ' kb-page-level ')]",
    # git "last updated" line (the build date without git) and the on-line revision table
    ".//*[contains(concat(' ', @class, ' '), ' kb-updated ')]",
    ".//*[contains(concat(' ', @class, ' '), ' kb-revision-record ')]",
    ".//script", ".//style", ".//noscript", ".//button",
])

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "pdf"

#: replaced when the PDF is rendered (not part of the cache key): when it was generated
GENERATED = "@@KB-GENERATED@@"
CREATED = "@@KB-CREATED@@"

#: page size and the largest image that fits under a heading on one page (the page box less
#: room for a heading and a caption)
PAPER = {"A4": ("A4", "170mm"), "A5": ("A5", "115mm")}

#: a table cell this short (characters) is never wrapped (公开, 信息中心运维部): the longest limit
#: whose unwrapped columns leave room (at most NOWRAP_ROOM characters across the table)
NOWRAP_CELL = (8, 6, 4)
NOWRAP_ROOM = 36
#: numbers, dates, phone numbers and codes in cells are kept on one line (010-8888-8001)
_NUMBERISH = re.compile(r"[0-9A-Za-z][0-9A-Za-z.:/+-]*[0-9][0-9A-Za-z.:/+-]*")
#: code blocks up to this many lines are kept on one page; longer ones may break
KEEP_CODE_LINES = 20


@dataclass(frozen=True)
class PrintOptions:
    """How this run prints: paper, review copy, the texts on every page, references."""

    paper: str = "A4"
    draft: bool = False
    copy_number: int | None = None  # 第 N 份: a numbered copy of a confidential document
    uncontrolled: str = "打印件为非受控文件，以网站现行版本为准"
    audience_label: str | None = None  # 内部: the audience of the build (watermark)
    watermark_font: tuple[str, int] | None = None  # font file and index drawing the watermark
    #: site-relative URL of a controlled document's page -> "XXZX-ZD-001 v1.2"
    references: dict[str, str] = field(default_factory=dict)


class _Unreadable(Exception):
    """A built page the PDF cannot be made from (its :class:`ContentError` names the page)."""

    def __init__(self, error: ContentError):
        super().__init__(str(error))
        self.error = error


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
    compact_html: str | None = None  # cover and 目录 folded, record at the end (short documents)
    text_chars: int = 0  # characters of body text: a short one is tried compact first

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

    def __init__(self, site_dir: str, site_url: str | None, organisation: str, css: str,
                 options: PrintOptions | None = None):
        self.site_dir = Path(site_dir)
        self.site_url = (site_url or "").rstrip("/") + "/" if site_url else None
        self.organisation = organisation
        self.css = css
        self.options = options or PrintOptions()
        self._articles: dict[str, etree._Element] = {}

    # -- reading ------------------------------------------------------------------------

    def _article(self, section: Section) -> etree._Element:
        if section.dest_uri not in self._articles:
            path = self.site_dir / section.dest_uri
            if not path.is_file():
                raise _Unreadable(ContentError(section.repo_path, None, None,
                                               f"the built page {section.dest_uri}",
                                               "no such file in the site folder"))
            tree = lhtml.parse(str(path))
            found = tree.xpath("//article[contains(concat(' ', @class, ' '), ' md-content__inner ')]")
            if not found:
                raise _Unreadable(ContentError(
                    section.repo_path, None, None,
                    f"an article element in the built page {section.dest_uri}",
                    "none (was the page built with the Material theme?)"))
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
        text_chars = 0
        for section in target.sections:
            try:
                article = self._article(section)
            except _Unreadable as problem:
                errors.append(problem.error)
                continue
            anchor = anchors[section.url]
            errors += self._adapt(article, section, anchor, anchors, resources)
            text_chars += len(_text(article))
            _edition(article, target.edition)
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
            if target.preface and not sections:  # 培训目标, 先修要求 under the title
                _insert_preface(article, title_el, target.preface)
            body = "".join(lhtml.tostring(child, encoding="unicode") for child in article)
            body = (article.text or "") + body
            sections.append(PrintSection(anchor, Markup(body), toc))
        if errors:
            return None, errors
        options = self.options
        paper, image_height = PAPER[options.paper]
        page_url = urljoin(self.site_url, target.page_url) if self.site_url else None
        watermark = [w for w in (f"{target.level_label}资料", options.audience_label and
                                 f"{options.audience_label}版") if w] \
            if target.level_label else []
        if options.draft:
            watermark.insert(0, "征求意见稿")
        if options.copy_number is not None and watermark:
            watermark.append(f"第 {options.copy_number} 份")
        values = dict(
            target=target, sections=sections, css=self.css, organisation=self.organisation,
            header=css_string(target.title), footer_id=css_string(target.footer),
            marking=css_string(f"密级：{target.level_label}") if target.level_label else None,
            chapter_pdf=target.kind == "chapter", paper=paper, image_height=image_height,
            copy_number=options.copy_number,
            draft=options.draft, uncontrolled=css_string(
                f"{options.uncontrolled} · 生成于 {GENERATED}" if options.uncontrolled
                else f"生成于 {GENERATED}"),
            generated=GENERATED, created=CREATED, page_url=page_url,
            qr=Markup(qr_data_uri(page_url)) if page_url else None,
            watermark=Markup(watermark_data_uri(" · ".join(watermark), options.watermark_font))
            if watermark and options.watermark_font else None)
        template = _environment().get_template("document.html")
        html = template.render(compact=False, **values)
        compact = template.render(compact=True, **values)
        return PrintDocument(target, html, resources, compact, text_chars), []

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
        _paper_rules(article)
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
            self._reference(link, target.lstrip("/"))
            link.set("href", urljoin(self.site_url, target.lstrip("/"))
                     + (f"#{parts.fragment}" if parts.fragment else ""))
        else:
            self._reference(link, target.lstrip("/"))
            link.drop_tag()

    def _reference(self, link: etree._Element, url: str) -> None:
        """After a link to a controlled document: its number and version, as a paper copy
        cannot follow the link (unless the link text already names the number)."""
        reference = self.options.references.get(url) or self.options.references.get(
            url.removesuffix("index.html"))
        if not reference or reference.split()[0] in _text(link):
            return
        note = etree.Element("span", {"class": "kb-docref"})
        note.text = f"（{reference}）"
        note.tail = link.tail
        link.tail = None
        link.addnext(note)

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


def watermark_data_uri(text: str, font: tuple[str, int]) -> str:
    """The diagonal watermark as a transparent PNG ``data:`` URI: an image, so the words do not
    mix into the text a reader copies or searches (as rotated text in the page would)."""
    import base64
    import io

    from PIL import Image, ImageDraw, ImageFont

    face = ImageFont.truetype(font[0], 96, index=font[1])
    left, top, right, bottom = face.getbbox(text)
    canvas = Image.new("RGBA", (right - left + 40, bottom - top + 40), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((20 - left, 20 - top), text, font=face,
                                fill=(176, 0, 32, 30))
    rotated = canvas.rotate(35, expand=True, resample=Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    rotated.save(buffer, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def qr_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG ``data:`` URI (segno), printed on covers."""
    import segno

    return segno.make(url, error="m").svg_data_uri(border=2, dark="#000")


def _edition(article: etree._Element, edition: str | None) -> None:
    """A course's trainee handout: quiz answers removed (space to write instead) and trainer
    notes (``!!! trainer``) left out; the trainer's copy keeps both, answers marked."""
    if edition is None:
        return
    quiz = article.xpath(".//details[contains(concat(' ', @class, ' '), ' question ')]"
                         " | .//div[contains(concat(' ', @class, ' '), ' admonition ')]"
                         "[contains(concat(' ', @class, ' '), ' question ')]")
    for box in quiz:
        title = next((c for c in box if isinstance(c.tag, str) and (
            c.tag == "summary" or "admonition-title" in c.get("class", ""))), None)
        answers = [c for c in box if c is not title]
        if edition == "trainee":
            for child in answers:
                box.remove(child)
            space = etree.SubElement(box, "div", {"class": "kb-answer-space"})
            space.text = "答："
        elif answers:
            label = etree.Element("p", {"class": "kb-answer-label"})
            label.text = "参考答案"
            box.insert(box.index(answers[0]), label)
        box.set("class", box.get("class", "") + " kb-quiz")
    if edition == "trainee":
        for note in article.xpath(".//*[contains(concat(' ', @class, ' '), ' trainer ')]"):
            note.drop_tree()


def _insert_preface(article: etree._Element, title: etree._Element | None,
                    preface: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
    """培训目标 and 先修要求 of a course, right under its title."""
    blocks = []
    for heading, items in preface:
        block = etree.Element("section", {"class": "kb-preface"})
        head = etree.SubElement(block, "p", {"class": "kb-preface__title"})
        head.text = heading
        listing = etree.SubElement(block, "ul")
        for item in items:
            etree.SubElement(listing, "li").text = item
        blocks.append(block)
    if title is not None and title.getparent() is not None:
        for block in reversed(blocks):
            title.addnext(block)
            block.tail, title.tail = title.tail, None
    else:
        for block in reversed(blocks):
            article.insert(0, block)


#: the last characters of a paragraph kept together, so its last line is never one character
#: ("证；") left alone
LAST_LINE_CHARS = 4
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _keep_last_characters(paragraph: etree._Element) -> None:
    """Put the last :data:`LAST_LINE_CHARS` characters of a Chinese paragraph in a no-break
    span, when they are plain text (not inside a link or code)."""
    if len(paragraph):
        last = paragraph[-1]
        text = last.tail or ""
    else:
        last, text = None, paragraph.text or ""
    stripped = text.rstrip()
    if len(stripped) <= LAST_LINE_CHARS or not _CJK.search(stripped[-LAST_LINE_CHARS:]) \
            or " " in stripped[-LAST_LINE_CHARS:]:
        return
    span = etree.Element("span", {"class": "kb-nobr"})
    span.text = stripped[-LAST_LINE_CHARS:]
    span.tail = text[len(stripped):]
    if last is None:
        paragraph.text = stripped[:-LAST_LINE_CHARS]
        paragraph.insert(0, span)
    else:
        last.tail = stripped[:-LAST_LINE_CHARS]
        last.addnext(span)


def _paper_rules(article: etree._Element) -> None:
    """Paragraphs never end on a lone character; table cells and code blocks: short cells and
    numbers never split, long code may break."""
    for paragraph in article.iter("p", "li"):
        if paragraph.tag == "li" and any(isinstance(c.tag, str) and c.tag in ("p", "ul", "ol")
                                         for c in paragraph):
            continue
        _keep_last_characters(paragraph)
    for table in article.iter("table"):
        rows = [[(cell, _text(cell)) for cell in row if cell.tag in ("td", "th")]
                for row in table.iter("tr")]
        limit = 0
        for candidate in NOWRAP_CELL:
            widths: dict[int, int] = {}
            for row in rows:
                for column, (_cell, text) in enumerate(row):
                    if len(text) <= candidate:
                        widths[column] = max(widths.get(column, 0), len(text))
            if sum(widths.values()) <= NOWRAP_ROOM:
                limit = candidate
                break
        for row in rows:
            for cell, text in row:
                if 0 < len(text) <= limit:
                    cell.set("class", (cell.get("class", "") + " kb-nowrap").strip())
                elif len(cell) == 0 and cell.text and _NUMBERISH.search(cell.text):
                    _wrap_numbers(cell)
    for block in article.xpath(".//div[contains(concat(' ', @class, ' '), ' highlight ')]"):
        lines = "".join(block.itertext()).count("\n")
        if lines <= KEEP_CODE_LINES:
            block.set("class", block.get("class", "") + " kb-keep")


def _wrap_numbers(cell: etree._Element) -> None:
    """Put each number-like token of a text-only cell in a no-break span."""
    text = cell.text or ""
    cell.text = None
    last = 0
    previous: etree._Element | None = None
    for match in _NUMBERISH.finditer(text):
        before = text[last:match.start()]
        if previous is None:
            cell.text = before
        else:
            previous.tail = before
        span = etree.SubElement(cell, "span", {"class": "kb-nobr"})
        span.text = match.group(0)
        previous = span
        last = match.end()
    if previous is None:
        cell.text = text
    else:
        previous.tail = text[last:]


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
