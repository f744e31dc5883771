"""Content roots: folders outside ``docs/`` (``policies/``, ``manuals/``) published as part of the site.

A root ``policies/`` becomes the URL prefix ``/policies/``; its files get the source URI
``policies/<rel>`` as if they were in the docs folder, while their ``abs_src_path`` and "edit this
page" link point at the real file. Links are written as they work when the Markdown is browsed in
the repository (``../policies/network.md`` from ``docs/index.md``); :class:`RepoLinkTreeprocessor`
rewrites them to site form before MkDocs checks them, and a link already in site form is kept, so
both forms work.
"""

from __future__ import annotations

import os
import posixpath
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

from kb.config import KBSettings


@dataclass(frozen=True)
class ContentRoots:
    """Where each source file lives in the repository and where it lands in the site."""

    project_dir: str  # folder of mkdocs.yml (the repository root)
    docs_prefix: str  # docs_dir relative to project_dir, e.g. "docs"
    roots: tuple[str, ...]  # root folders relative to project_dir, e.g. ("policies", "manuals")

    @classmethod
    def from_config(cls, config: MkDocsConfig, settings: KBSettings) -> ContentRoots:
        project_dir = os.path.dirname(os.path.abspath(config.config_file_path))
        docs_prefix = Path(os.path.relpath(config.docs_dir, project_dir)).as_posix()
        return cls(project_dir, docs_prefix, tuple(r.dir.strip("/") for r in settings.roots))

    # -- mapping between repository paths and site source URIs -----------------------------

    def repo_path(self, file: File) -> str:
        """Repository-relative path of a source file (``docs/index.md``, ``policies/x.md``)."""
        if file.abs_src_path:
            return Path(os.path.relpath(file.abs_src_path, self.project_dir)).as_posix()
        return file.src_uri

    def site_uri(self, repo_path: str) -> str | None:
        """Site source URI of a repository path, or None when it is not part of the site."""
        if repo_path.startswith(self.docs_prefix + "/"):
            return repo_path[len(self.docs_prefix) + 1:]
        first = repo_path.split("/", 1)[0]
        return repo_path if first in self.roots else None

    # -- files --------------------------------------------------------------------------

    def iter_root_files(self, config: MkDocsConfig) -> Iterator[File]:
        """Every file of every root, as a MkDocs :class:`File` with its real edit path."""
        for root in self.roots:
            base = Path(self.project_dir, root)
            if not base.is_dir():
                raise PluginError(f"mkdocs.yml: extra.kb.roots: expected folder {root}/, "
                                  "found nothing")
            for path in sorted(base.rglob("*")):
                rel = path.relative_to(self.project_dir).as_posix()
                if path.is_dir() or any(part.startswith(".") for part in rel.split("/")):
                    continue
                file = File(rel, self.project_dir, config.site_dir, config.use_directory_urls)
                file.edit_uri = rel
                yield file

    def add_to(self, files: Files, config: MkDocsConfig) -> Files:
        """Add the roots' files; a docs/ file at the same URL is a clear error."""
        for file in files:
            if file.src_uri.split("/", 1)[0] in self.roots:
                raise PluginError(
                    f"{self.docs_prefix}/{file.src_uri}: expected no folder "
                    f"{self.docs_prefix}/{file.src_uri.split('/', 1)[0]}/ (that URL belongs to the "
                    "content root of the same name), found this file")
            if file.generated_by is None and file.abs_src_path:
                file.edit_uri = self.repo_path(file)
        for file in self.iter_root_files(config):
            files.append(file)
        return files

    # -- links --------------------------------------------------------------------------

    def rewrite_link(self, link: str, page: File, files: Files) -> str:
        """Return the site form of ``link`` found in ``page``; unchanged when not ours to change."""
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
            return link
        path = unquote(parts.path)
        here = posixpath.dirname(page.src_uri)
        if files.get_file_from_path(posixpath.normpath(posixpath.join(here, path))) is not None:
            return link  # already in site form
        repo_here = posixpath.dirname(self.repo_path(page))
        target = self.site_uri(posixpath.normpath(posixpath.join(repo_here, path)))
        if target is None or files.get_file_from_path(target) is None:
            return link  # MkDocs reports it as a dangling link
        new_path = posixpath.relpath(target, here or ".")
        return urlunsplit(("", "", new_path, parts.query, parts.fragment))


class RepoLinkTreeprocessor(Treeprocessor):
    """Rewrites repository-form links of the page being rendered (runs before MkDocs' ``relpath``)."""

    def __init__(self, md: Markdown, state: LinkState):
        super().__init__(md)
        self.state = state

    def run(self, root: ET.Element) -> None:
        state = self.state
        if state.roots is None or state.page is None or state.files is None:
            return
        for element in root.iter():
            attr = "href" if element.tag == "a" else "src" if element.tag == "img" else None
            if attr and (value := element.get(attr)):
                element.set(attr, state.roots.rewrite_link(value, state.page, state.files))


class LinkState:
    """What the link rewriter needs for the page MkDocs is rendering now (pages render in turn)."""

    def __init__(self) -> None:
        self.roots: ContentRoots | None = None
        self.files: Files | None = None
        self.page: File | None = None


class RepoLinkExtension(Extension):
    """Markdown extension registering :class:`RepoLinkTreeprocessor` before MkDocs' own."""

    def __init__(self, state: LinkState):
        super().__init__()
        self.state = state

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.treeprocessors.register(RepoLinkTreeprocessor(md, self.state), "kb_repo_links", 1.5)
