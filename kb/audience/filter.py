"""Audience-filtered builds: one site per audience (public < internal < confidential).

A static site cannot check who reads it, so every audience gets its own build
(``KB_AUDIENCE=public|internal|confidential``, see :func:`kb.config.audience`) and its own place
on the web server. Every page has one level, decided once by :mod:`kb.content.catalog` (front matter
``confidentiality``, else the manual's, else the root's or ``docs_confidentiality``). This module
makes a page above the audience leave no trace:

* :func:`apply` (called by ``hooks/documents.py`` in ``on_files``, right after the catalog is
  built): leaves such pages out of the catalog and removes their files, removes images and
  attachments that only left-out pages reference, and prunes the ``nav`` of mkdocs.yml. Nothing
  downstream (navigation, sitemap, Material's search, tags, registers, notices and feeds,
  archived versions, PDFs, the Whoosh index) ever sees them.
* :class:`RestrictedLinkTreeprocessor`: a link from a page of this build to a left-out page is
  rendered as plain text marked restricted (its text is the including page's own; the target's
  URL, title and anchor are dropped) before MkDocs validates links.
* :func:`level_banner`: the level badge of pages without a document-control block.
* :func:`write_report`: the links rendered restricted, the pages and files left out, written to
  a JSON file outside the site and logged at INFO.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from kb.atomic import write_atomic
from kb.content.catalog import Catalog, Entry
from kb.config import KBSettings, Level, level_rank
from kb.content.model import CONFIDENTIALITY_LABELS, FIELD_LABELS
from kb.content.roots import ContentRoots
from kb.content.sitelinks import locate

log = logging.getLogger("mkdocs.plugins.kb.audience")

RESTRICTED_TITLE = "受限内容"
RESTRICTED_BADGE = "受限"

#: local references in Markdown: inline links/images, reference definitions, HTML attributes
_REFERENCE_PATTERNS = (
    re.compile(r"\]\(\s*<?([^)\s>]+)"),
    re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)", re.M),
    re.compile(r"""\b(?:src|href|data|poster)\s*=\s*["']([^"']+)["']""", re.I),
)


def above(level: str, audience: Level) -> bool:
    """Whether a page of ``level`` must not be in a build for ``audience``."""
    return level_rank(level) > level_rank(audience)


def level_reason(audience: Level) -> Callable[[Entry], str | None]:
    """``keep`` function of :meth:`kb.content.catalog.Catalog.leave_out` for the audience.

    A chapter goes with its manual even when its own level is lower.
    """
    def reason(entry: Entry) -> str | None:
        for item in (entry, entry.manual):
            if item is not None and above(item.level, audience):
                return f"level {item.level} above audience {audience}"
        return None
    return reason


# --------------------------------------------------------------------------- state of a build


@dataclass
class RestrictedLink:
    """A link of an included page to a page left out of this build."""

    source: str  # repository path of the including page (or generated page's source URI)
    line: int | None  # line of the link in the source file, when found
    target: str  # repository path of the left-out page
    text: str  # the link text (the including page's own words); "" for a front-matter field
    field: str | None = None  # the front-matter field naming the left-out document, if not a link


@dataclass
class AudienceState:
    """What this build left out, and the restricted links found while rendering."""

    audience: Level = "internal"
    roots: ContentRoots | None = None
    pages: dict[str, str] = field(default_factory=dict)  # src_uri -> repo path of left-out pages
    repo_paths: set[str] = field(default_factory=set)  # repo paths of left-out pages
    urls: dict[str, str] = field(default_factory=dict)  # url (no slashes) -> repo path
    assets: list[str] = field(default_factory=list)  # repo paths of removed images/attachments
    reasons: dict[str, str] = field(default_factory=dict)  # repo path -> why left out
    links: list[RestrictedLink] = field(default_factory=list)
    page: File | None = None  # the page being rendered

    def reset(self, audience: Level, roots: ContentRoots) -> None:
        self.__init__(audience, roots)  # type: ignore[misc]

    def target_of(self, href: str, page: File) -> str | None:
        """Repository path of the left-out page ``href`` (found in ``page``) points at, or None."""
        if self.roots is None or not (self.pages or self.urls):
            return None
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path:
            return None
        path = unquote(parts.path)
        if path.startswith("/"):
            key = path.strip("/")
            return self.urls.get(key) or self.urls.get(key.removesuffix("index.html").strip("/"))
        site = posixpath.normpath(posixpath.join(posixpath.dirname(page.src_uri), path))
        if site in self.pages:
            return self.pages[site]
        repo = posixpath.normpath(posixpath.join(posixpath.dirname(self.roots.repo_path(page)),
                                                 path))
        if repo in self.repo_paths:
            return repo
        url = posixpath.normpath(posixpath.join(page.url or ".", path))
        url = url.removesuffix("index.html").strip("/")
        return self.urls.get(url)


# --------------------------------------------------------------------------- on_files


def apply(catalog: Catalog, files: Files, config: MkDocsConfig, settings: KBSettings,
          roots: ContentRoots, audience: Level, state: AudienceState) -> AudienceState:
    """Leave pages above ``audience`` out; remove files only left-out pages use; prune the nav.
    ``state`` (this build's, also held by the link rewriter) records what was left out; the
    catalog keeps it (``catalog.audience``) for references rendered later.

    Call right after the catalog is built (and drafts are left out), before any other feature
    reads ``files`` or the catalog.
    """
    state.reset(audience, roots)
    catalog.audience = state
    catalog.leave_out(level_reason(audience), files)
    for entry in catalog.entries:  # a kept manual no longer lists left-out chapters
        entry.chapters = [c for c in entry.chapters if c.left_out is None]
    for entry in catalog.left_out:
        state.pages[entry.src_uri] = entry.repo_path
        state.repo_paths.add(entry.repo_path)
        state.urls[entry.url.strip("/")] = entry.repo_path
        state.reasons[entry.repo_path] = entry.left_out or ""
    removed = remove_unshared_assets(catalog, files, config, roots)
    state.assets = sorted(roots.repo_path(f) for f in removed)
    if config.nav:
        config.nav = prune_nav(config.nav, set(state.pages))
    return state


def references(text: str) -> Iterable[str]:
    """Local link/image targets written in a Markdown page (without query and fragment)."""
    for pattern in _REFERENCE_PATTERNS:
        for match in pattern.finditer(text):
            parts = urlsplit(match.group(1).strip())
            if not parts.scheme and not parts.netloc and parts.path and not parts.path.startswith("/"):
                yield unquote(parts.path)


def _referenced(entry: Entry, files: dict[str, File], by_repo: dict[str, File]) -> set[str]:
    """Source URIs of the non-page files that ``entry``'s Markdown references."""
    try:
        with open(entry.file.abs_src_path if entry.file else "", encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return set()
    out: set[str] = set()
    site_here = posixpath.dirname(entry.src_uri)
    repo_here = posixpath.dirname(entry.repo_path)
    for path in references(text):
        site = posixpath.normpath(posixpath.join(site_here, path))
        repo = posixpath.normpath(posixpath.join(repo_here, path))
        if site in files:
            out.add(site)
        elif repo in by_repo:
            out.add(by_repo[repo].src_uri)
    return out


def _protected(config: MkDocsConfig) -> tuple[set[str], str]:
    """Names of files the theme or mkdocs.yml use (logo, favicon, extra CSS/JS), and the text
    of the template overrides (a file they mention stays too)."""
    names: set[str] = set()
    theme = config.theme
    for key in ("logo", "favicon"):
        if theme.get(key):
            names.add(posixpath.basename(str(theme[key])))
    for item in [*config.extra_css, *config.extra_javascript]:
        names.add(posixpath.basename(str(getattr(item, "path", item))))
    texts: list[str] = []
    if theme.custom_dir:
        for path in sorted(Path(theme.custom_dir).rglob("*")):
            if path.is_file() and path.suffix in (".html", ".css", ".js", ".json", ".svg"):
                texts.append(path.read_text(encoding="utf-8", errors="ignore"))
    return names, "\n".join(texts)


def remove_unshared_assets(catalog: Catalog, files: Files, config: MkDocsConfig,
                           roots: ContentRoots) -> list[File]:
    """Remove images/attachments referenced by left-out pages and by no page of this build.

    Files named by the theme or mkdocs.yml (logo, favicon, extra CSS/JS, anything the
    template overrides mention) always stay.
    """
    if not catalog.left_out:
        return []
    others = {f.src_uri: f for f in files if not f.is_documentation_page()}
    by_repo = {roots.repo_path(f): f for f in others.values()}
    used: set[str] = set()
    for entry in catalog.entries:
        used |= _referenced(entry, others, by_repo)
    candidates: set[str] = set()
    for entry in catalog.left_out:
        candidates |= _referenced(entry, others, by_repo)
    names, templates = _protected(config)
    removed: list[File] = []
    for uri in sorted(candidates - used):
        name = posixpath.basename(uri)
        if name in names or name in templates:
            continue
        files.remove(others[uri])
        removed.append(others[uri])
    return removed


def prune_nav(nav: list, removed: set[str]) -> list:
    """The ``nav`` of mkdocs.yml without left-out pages and without sections left empty."""
    out: list = []
    for item in nav:
        if isinstance(item, str):
            if item not in removed:
                out.append(item)
        elif isinstance(item, dict):
            kept = {}
            for title, value in item.items():
                if isinstance(value, list):
                    value = prune_nav(value, removed)
                    if value:
                        kept[title] = value
                elif value not in removed:
                    kept[title] = value
            if kept:
                out.append(kept)
        else:
            out.append(item)
    return out


# --------------------------------------------------------------------------- restricted links


class RestrictedLinkTreeprocessor(Treeprocessor):
    """Turns links to left-out pages into restricted plain text (before MkDocs checks links).

    Runs after the repository-link rewriter of :mod:`kb.content.roots` (priority 1.5) and before
    MkDocs' own link processor (``relpath``, priority 0).
    """

    def __init__(self, md: Markdown, state: AudienceState):
        super().__init__(md)
        self.state = state

    def run(self, root: ET.Element) -> None:
        page = self.state.page
        if page is None or not (self.state.pages or self.state.urls):
            return
        for element in list(root.iter("a")):
            href = element.get("href")
            target = self.state.target_of(href, page) if href else None
            if target is None:
                continue
            text = "".join(element.itertext()).strip()
            restrict(element)
            self.state.links.append(RestrictedLink(
                self.state.roots.repo_path(page) if self.state.roots else page.src_uri,
                _line_of(page, href or ""), target, text))


def restrict(element: ET.Element) -> None:
    """Make the link ``element`` plain text marked restricted, keeping its text and tail."""
    element.tag = "span"
    element.attrib.clear()
    element.set("class", "kb-restricted")
    element.set("title", RESTRICTED_TITLE)
    badge = ET.SubElement(element, "span", {"class": "kb-badge kb-restricted__badge"})
    badge.text = RESTRICTED_BADGE

def level_badge(level: str) -> Markup:
    """``<span>`` badge of a confidentiality level (公开, 内部, 机密)."""
    return Markup('<span class="kb-badge kb-level kb-level--{}" title="{}">{}</span>').format(
        level, FIELD_LABELS["confidentiality"], CONFIDENTIALITY_LABELS[level])


def restricted_reference(source: Entry | None, field: str | None, target: Entry,
                         state: AudienceState | None) -> Markup:
    """A front-matter reference (``superseded_by``, …) to a left-out document: the restricted
    badge alone (the document's number and title are the left-out page's, not the source's);
    reported once per source, field and target (in ``state``, this build's)."""
    if source is not None and state is not None:
        link = RestrictedLink(source.repo_path, source.line(field) if field else None,
                              target.repo_path, "", field)
        if link not in state.links:
            state.links.append(link)
    return Markup('<span class="kb-restricted" title="{}"><span class="kb-badge '
                  'kb-restricted__badge">{}</span></span>').format(RESTRICTED_TITLE,
                                                                    RESTRICTED_BADGE)


def _line_of(page: File, href: str) -> int | None:
    """Line of ``href`` in the body of the page's source file, when found
    (:func:`kb.content.sitelinks.locate`: link syntax first, front matter skipped)."""
    if not page.abs_src_path or not href:
        return None
    try:
        with open(page.abs_src_path, encoding="utf-8-sig") as handle:
            return locate(handle.read(), href)
    except (OSError, UnicodeDecodeError):
        return None


_HTML_LINK = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.S | re.I)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_TAG = re.compile(r"<[^>]+>")


def restrict_html(html: str, page: File, state: AudienceState) -> str:
    """Restrict links to left-out pages left in a page's HTML (raw HTML in the Markdown)."""
    if not (state.pages or state.urls) or "<a" not in html:
        return html

    def replace(match: re.Match[str]) -> str:
        href_match = _HREF.search(match.group(1))
        href = next((g for g in href_match.groups() if g is not None), "") if href_match else ""
        target = state.target_of(unescape(href), page) if href else None
        if target is None:
            return match.group(0)
        inner = match.group(2)
        state.links.append(RestrictedLink(
            state.roots.repo_path(page) if state.roots else page.src_uri,
            _line_of(page, href), target, unescape(_TAG.sub("", inner)).strip()))
        return Markup('<span class="kb-restricted" title="{}">{}<span class="kb-badge '
                      'kb-restricted__badge">{}</span></span>').format(
            RESTRICTED_TITLE, Markup(inner), RESTRICTED_BADGE)

    return _HTML_LINK.sub(replace, html)


class RestrictedLinkExtension(Extension):
    """Markdown extension registering :class:`RestrictedLinkTreeprocessor`."""

    def __init__(self, state: AudienceState):
        super().__init__()
        self.state = state

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.treeprocessors.register(RestrictedLinkTreeprocessor(md, self.state),
                                   "kb_restricted_links", 1.4)


# --------------------------------------------------------------------------- badge and report


def level_banner(level: str) -> Markup:
    """The level badge shown above a page without a document-control block."""
    return Markup('<div class="kb-page-level">{}</div>').format(level_badge(level))


def _entries_by_url(catalog: Catalog) -> dict[str, Entry]:
    """Catalog entries by URL (first one wins; the site root left out)."""
    return catalog.by_url()


def page_level(src_uri: str, url: str, repo_path: str, catalog: Catalog, settings: KBSettings,
               declared: object = None) -> str:
    """Level of a page of this build: its catalog entry's; for a generated page (archived
    version, comparison) the document's under whose URL it lives, raised to the level the page
    declares in its front matter; else its location's default."""
    entry = catalog.by_src_uri(src_uri)
    if entry is not None:
        return entry.level
    # archived versions and comparisons live under <root>/<doc_id>/...: their document owns them
    parts = url.strip("/").split("/")
    owner = catalog.by_doc_id(parts[1]) if len(parts) > 1 else None
    if owner is None:
        by_url = _entries_by_url(catalog)  # the longest entry URL that starts this URL
        owner = next((by_url[url[:i]] for i in range(len(url), 0, -1) if url[:i] in by_url), None)
    if owner is not None:
        level = owner.level
        if isinstance(declared, str) and declared in ("public", "internal", "confidential"):
            level = max(level, declared, key=level_rank)
        return level
    first = repo_path.split("/", 1)[0]
    return next((r.confidentiality for r in settings.roots if r.dir.strip("/") == first),
                settings.docs_confidentiality)


def report_path(config: MkDocsConfig, settings: KBSettings, audience: Level) -> Path:
    """Where the build report goes: ``extra.kb.audience_report`` relative to mkdocs.yml."""
    project = Path(config.config_file_path).resolve().parent
    return project / settings.audience_report.format(audience=audience)


def write_report(path: Path, site_dir: str, state: AudienceState) -> dict:
    """Log the restricted links at INFO and write the report (never inside the site)."""
    for link in state.links:
        log.info("%s%s: %s to %s (left out: %s) rendered as restricted text", link.source,
                 f":{link.line}" if link.line else "",
                 f"{link.field} reference" if link.field else "link", link.target,
                 state.reasons.get(link.target, "not in this build"))
    data = {
        "audience": state.audience,
        "restricted_links": [asdict(link) for link in state.links],
        "left_out_pages": [{"path": p, "reason": r} for p, r in sorted(state.reasons.items())],
        "removed_files": state.assets,
    }
    site = Path(site_dir).resolve()
    target = path.resolve()
    if target == site or site in target.parents:
        log.warning("mkdocs.yml: extra.kb.audience_report: expected a path outside the site "
                    "folder, found %s; report not written", path)
        return data
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    log.info("audience %s: %d page(s) and %d file(s) left out, %d restricted link(s); report %s",
             state.audience, len(state.reasons), len(state.assets), len(state.links), target)
    return data


# --------------------------------------------------------------------------- the site folder

#: file in the site folder naming the audience it was built for (dot files are never served)
AUDIENCE_MARK = ".kb-audience"
#: dot folders ``mkdocs build`` does not clean that may hold another audience's content
_UNCLEANED = (".search-index", ".search-index.old")


def clear_other_audience(site_dir: str, audience: Level) -> None:
    """Remove the search index a site folder kept from a build for another audience.

    ``mkdocs build`` cleans the site folder but keeps dot files, and the indexer keeps the
    previous index as ``.search-index.old``; rebuilding a folder for a lower audience must not
    leave the higher audience's index behind.
    """
    site = Path(site_dir)
    mark = site / AUDIENCE_MARK
    previous = mark.read_text(encoding="utf-8").strip() if mark.is_file() else None
    if previous == audience:
        return
    for name in _UNCLEANED:
        if (site / name).is_dir():
            shutil.rmtree(site / name, ignore_errors=True)
            log.info("site folder was built for audience %s: removed its %s", previous or "?", name)


def mark_site(site_dir: str, audience: Level) -> None:
    """Record the audience a site folder was built for (read by :func:`clear_other_audience`)."""
    Path(site_dir, AUDIENCE_MARK).write_text(audience + "\n", encoding="utf-8")
