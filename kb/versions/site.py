"""One build's versioned-document features, driven by ``hooks/history.py``.

``on_files``: load the git history (one pass, cached by HEAD), find every earlier version of the
controlled documents of this build (:mod:`kb.versions.archive`) and add their archived pages and
comparison pages to the site, out of the navigation. ``on_page_content``: the 历史版本 banner,
the comparison body, the 修订记录 table, the "最后更新 / 作者" line and ``kb:updated`` /
``kb:archived`` meta tags. ``on_page_context``: the home page's recently-updated list.

Controlled documents come from the build's catalog (:mod:`kb.buildstate`; only pages in this
build: drafts and documents above the audience are already left out, so none of their versions is published).
An old version is skipped too when ITS front matter put it above the audience, or it was a draft.
"""

from __future__ import annotations

import datetime as _dt
import logging
import posixpath
import time
from dataclasses import dataclass, field
from html import escape
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from kb.versions import git as git_history
from kb.clock import today
from kb.config import KBSettings, audience, level_rank, preview
from kb.content.model import parse_front_matter
from kb.versions.render import (
    archived_markdown,
    banner,
    diff_html,
    diff_markdown,
    meta_tag,
    record_rows,
    record_table,
    updated_line,
)
from kb.content.roots import ContentRoots
from kb.content.sanitize import page_title_text
from kb.content.slots import slots
from kb.versions.archive import Document, Member, Source, Version, discover, relocate_links
from kb.versions.rendertext import Renderer

log = logging.getLogger("mkdocs.plugins.kb.history")

RECENT_MARKER = "<!-- kb:recently-updated -->"
RECORD_MARKER = "<!-- kb:revision-record -->"
RECENT_COUNT = 10


@dataclass
class Generated:
    """A page this feature added: an archived version (of one member) or a comparison."""

    doc: Document
    version: Version
    member: Member | None = None  # archived page of this member
    old: Version | None = None  # comparison: old -> version


@dataclass
class HistorySite:
    """State of one build."""

    roots: ContentRoots
    settings: KBSettings
    history: git_history.History = field(default_factory=git_history.History)
    changed: set[str] = field(default_factory=set)
    documents: dict[str, Document] = field(default_factory=dict)  # by main file's repo path
    generated: dict[str, Generated] = field(default_factory=dict)  # by src_uri
    controlled: set[str] = field(default_factory=set)  # repo paths of controlled documents' files
    files: Files | None = None
    build_date: _dt.date = field(default_factory=today)
    seconds: float = 0.0  # time spent gathering git data
    markdown_extensions: list[Any] = field(default_factory=list)  # the site's, for comparisons
    markdown_configs: dict[str, Any] = field(default_factory=dict)
    renderer: Renderer | None = None

    # ------------------------------------------------------------------ on_files

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        started = time.perf_counter()
        self.files = files
        # the extensions named in mkdocs.yml only: hooks add instances (link rewriters) that
        # track the page being rendered and must not see the old versions' text
        self.markdown_extensions = [e for e in config.markdown_extensions if isinstance(e, str)]
        self.markdown_configs = {k: v for k, v in config.mdx_configs.items()
                                 if k in self.markdown_extensions}
        self.history = git_history.load(self.roots.project_dir)
        if self.history.reason and self.history.reason.startswith("shallow"):
            log.warning("kb history: %s (a shallow clone); pages show the build date %s instead of "
                        "their last commit, and no archived versions are published. Clone with "
                        "full history (git fetch --unshallow, or fetch-depth: 0 in CI).",
                        self.history.reason, self.build_date)
        elif self.history.reason:
            log.info("kb history: %s; pages show the build date", self.history.reason)
        self.changed = git_history.changed_paths(self.roots.project_dir, self.history)
        sources = self._sources(files, config)
        found = discover(sources, self.history, self.roots.project_dir)
        self.seconds = time.perf_counter() - started
        log.debug("kb history: git data in %.3f s (%d files, %d documents)", self.seconds,
                  len(self.history.files), len(found))
        for doc in found:
            self.documents[doc.head_path] = doc
            self.controlled.update(m.head_path for v in doc.versions for m in v.members)
            self._add_pages(doc, files, config)
        return files

    def _sources(self, files: Files, config: MkDocsConfig) -> list[Source]:
        entries = _catalog_entries(config)
        out: list[Source] = []
        if entries is not None:
            for e in entries:
                if e.type in ("policy", "manual"):
                    members = [e.repo_path, *(c.repo_path for c in e.chapters)]
                    out.append(self._source(e.repo_path, e.meta.doc_id, e.meta.title,
                                            e.meta.version, members))
            return out
        # no catalog (hooks/documents.py not listed): read the front matter ourselves
        kinds = {r.dir.strip("/"): r.type for r in self.settings.roots}
        pages = {self.roots.repo_path(f): f for f in files.documentation_pages()
                 if f.abs_src_path and f.generated_by is None}
        for path in sorted(pages):
            parts = path.split("/")
            kind = kinds.get(parts[0])
            is_policy = kind == "policy" and len(parts) == 2 and parts[1] != "index.md"
            is_manual = kind == "manual" and len(parts) == 3 and parts[2] == "index.md"
            if not (is_policy or is_manual):
                continue
            data = _front(_read(pages[path].abs_src_path or ""), path)
            if not all(isinstance(data.get(k), str) for k in ("doc_id", "title", "version")):
                continue
            members = [path] + ([p for p in sorted(pages) if p.startswith(f"{parts[0]}/{parts[1]}/")
                                 and p != path] if is_manual else [])
            out.append(self._source(path, data["doc_id"], data["title"], data["version"], members))
        return out

    def _source(self, path: str, doc_id: str, title: str, version: str,
                members: list[str]) -> Source:
        abs_path = posixpath.join(self.roots.project_dir, "")
        return Source(path.split("/", 1)[0], doc_id, title, version,
                      [Member(p, p, _read(abs_path + p)) for p in members])

    def _allowed(self, doc: Document, version: Version) -> bool:
        """An old version is published unless it was a draft or above this build's audience."""
        data, _ = version.front()
        if data.get("status") in ("draft", "review") and not preview():
            return False
        level = data.get("confidentiality") or next(
            (r.confidentiality for r in self.settings.roots if r.dir.strip("/") == doc.root),
            "internal")
        try:
            return level_rank(str(level)) <= level_rank(audience())
        except ValueError:
            return False

    def _add_pages(self, doc: Document, files: Files, config: MkDocsConfig) -> None:
        doc.versions = [v for v in doc.versions if v.commit is None or self._allowed(doc, v)]
        for version in doc.archived():
            for member in version.members:
                uri = doc.version_uri(version.version, member, version)
                chapter_title = None
                if member is not version.main:
                    chapter_title = str(version.front(member)[0].get("title") or member.head_path)
                body = relocate_links(version.front(member)[1], member.path, uri, self._resolve)
                text = archived_markdown(doc, version, body, chapter_title=chapter_title)
                self._add(files, config, uri, text, Generated(doc, version, member))
        for old, new in doc.pairs():
            self._add(files, config, doc.diff_uri(old.version, new.version),
                      diff_markdown(doc, old, new), Generated(doc, new, old=old))

    def _add(self, files: Files, config: MkDocsConfig, uri: str, text: str, role: Generated) -> None:
        if files.get_file_from_path(uri) is not None:
            log.warning("kb history: %s already exists; archived page of %s v%s not added",
                        uri, role.doc.doc_id, role.version.version)
            return
        files.append(File.generated(config, uri, content=text, inclusion=InclusionLevel.NOT_IN_NAV))
        self.generated[uri] = role

    def _resolve(self, repo_path: str) -> str | None:
        uri = self.roots.site_uri(repo_path)
        if uri is None or self.files is None or self.files.get_file_from_path(uri) is None:
            return None
        return uri

    # ------------------------------------------------------------------ dates

    def updated(self, repo_path: str) -> tuple[_dt.date, list[str], str | None]:
        """Last-updated date, authors and a note (why the build date is shown) of a file."""
        fh = self.history.get(repo_path)
        if not self.history.available:
            return self.build_date, [], "构建日期；未取得 git 历史"
        if repo_path in self.changed or fh is None or fh.updated is None:
            return self.build_date, fh.authors if fh else [], "构建日期；有未提交的修改"
        return fh.updated, fh.authors, None

    # ------------------------------------------------------------------ on_page_content

    def on_page_content(self, html: str, page: Page) -> str:
        role = self.generated.get(page.file.src_uri)
        head: list[str] = slots(page).head
        if role is not None:
            head.append(meta_tag("kb:archived", "true"))
            return self._generated_content(html, page, role, head)
        repo_path = self.roots.repo_path(page.file)
        date, authors, note = self.updated(repo_path)
        doc = self.documents.get(repo_path)
        meta_history = page.meta.get("history")
        if doc is not None or (isinstance(meta_history, list) and "version" in page.meta):
            table = self._record(page, doc, meta_history if isinstance(meta_history, list) else [])
            html = html.replace(RECORD_MARKER, table) if RECORD_MARKER in html else html + table
        # controlled documents name 编制/审核/批准 in their control block, never git authors;
        # other pages show git authors only when configured (extra.kb.show_authors)
        shown = authors if self.settings.show_authors and repo_path not in self.controlled \
            and page.meta.get("doc_id") is None else []
        hide = page.meta.get("hide") or []
        if "edit" in hide:  # a tool page such as the search page: no edit pencil either
            page.edit_url = None
        return html + ("" if "updated" in hide else updated_line(date, shown, note=note))

    def _generated_content(self, html: str, page: Page, role: Generated, head: list[str]) -> str:
        doc, version = role.doc, role.version
        here = page.url
        current_url = self._url_to(doc.head_path, here)
        if role.old is not None:  # comparison page
            old_url = self._version_url(doc, role.old, here)
            new_url = self._version_url(doc, version, here)
            body = diff_html(doc, role.old, version, old_url=old_url, new_url=new_url,
                             current_url=current_url, text_of=self._renderer().text)
            return html + body
        head.append(meta_tag("kb:version", version.version))
        following = next((n for o, n in doc.pairs() if o.version == version.version), None)
        diff_url = (get_relative_url(self._gen_url(doc.diff_uri(version.version, following.version)), here)
                    if following else None)
        slots(page).top.append(banner(doc, version, current_url=current_url,
                                            next_diff_url=diff_url))
        date = version.commit.date if version.commit else self.build_date
        return html + updated_line(date, [])

    def _record(self, page: Page, doc: Document | None, history: list[Any]) -> str:
        here = page.url
        urls: dict[str, str] = {}
        diffs: dict[str, str] = {}
        before: dict[str, str] = {}
        if doc is not None:
            for v in doc.archived():
                urls[v.version] = self._version_url(doc, v, here) or ""
            for old, new in doc.pairs():
                diffs[new.version] = get_relative_url(self._gen_url(doc.diff_uri(old.version, new.version)),
                                                  here)
                before[new.version] = old.version
        return record_table(record_rows([h for h in history if isinstance(h, dict)], doc, urls, diffs,
                                        before))

    def _renderer(self) -> Renderer:
        if self.renderer is None:
            self.renderer = Renderer(self.markdown_extensions, self.markdown_configs)
        return self.renderer

    def _version_url(self, doc: Document, version: Version, here: str) -> str | None:
        if version.commit is None:
            return self._url_to(doc.head_path, here)
        return get_relative_url(self._gen_url(doc.version_uri(version.version)), here)

    def _gen_url(self, src_uri: str) -> str:
        file = self.files.get_file_from_path(src_uri) if self.files is not None else None
        return file.url if file is not None else src_uri

    def _url_to(self, repo_path: str, here: str) -> str:
        uri = self.roots.site_uri(repo_path)
        file = self.files.get_file_from_path(uri) if self.files is not None and uri else None
        return get_relative_url(file.url, here) if file is not None else "#"

    # ------------------------------------------------------------------ on_page_context

    def on_page_context(self, page: Page) -> None:
        """``kb:updated`` from git (replacing a metadata-based one set by an earlier hook); the
        home page's recently-updated list (every page's title is known by now)."""
        if page.file.src_uri not in self.generated:
            date, _, _ = self.updated(self.roots.repo_path(page.file))
            head = slots(page).head
            head[:] = [h for h in head if 'name="kb:updated"' not in str(h)]
            head.append(meta_tag("kb:updated", date.isoformat()))
        if page.content and RECENT_MARKER in page.content and self.files is not None:
            page.content = page.content.replace(RECENT_MARKER, self.recent_html(page))

    def recent_html(self, page: Page, count: int = RECENT_COUNT) -> str:
        rows = []
        for file in self.files.documentation_pages() if self.files is not None else []:
            # real documents only: no archived versions or comparisons, no pages generated by
            # other features (notice archives, categories) dated by the build
            if file.src_uri in self.generated or file.page is None or file is page.file \
                    or file.generated_by is not None or not file.abs_src_path \
                    or (file.page.meta.get("search") or {}).get("exclude"):  # search, tags pages
                continue
            date, _, _ = self.updated(self.roots.repo_path(file))
            rows.append((date, file.page.title or file.src_uri, file.url))
        rows.sort(key=lambda r: (r[0], r[2]), reverse=True)
        items = "".join(
            f'<li><a href="{escape(get_relative_url(url, page.url))}">'
            f'{escape(page_title_text(title))}</a> '
            f'<time datetime="{d.isoformat()}">{d.isoformat()}</time></li>'
            for d, title, url in rows[:count])
        return f'<ul class="kb-recently-updated">{items}</ul>'


# --------------------------------------------------------------------------- helpers


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return ""


def _front(text: str, path: str) -> dict[str, Any]:
    fm, _ = parse_front_matter(text, path)
    return fm.data if fm is not None else {}


def _catalog_entries(config: MkDocsConfig) -> list[Any] | None:
    """Entries of this build's catalog, or None when ``hooks/documents.py`` is not listed."""
    from kb import buildstate

    state = buildstate.of(config)
    return list(state.catalog) if state.has_catalog else None
