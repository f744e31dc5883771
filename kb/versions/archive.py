"""Earlier versions of controlled documents, found in git history, and their site pages.

A controlled document is a policy (one file) or a manual (its ``index.md`` with the manual's
``version`` plus its chapters). Every distinct ``version`` value in committed front matter is a
version; its snapshot is the document as it was at the LAST commit carrying that version. All
earlier versions are published, out of the navigation, at stable URLs:

* ``/<root>/<doc_id>/v<version>/`` — the archived version (a manual's chapters below it),
* ``/<root>/<doc_id>/diff/v<old>-v<new>/`` — comparison of two consecutive versions.

Everything comes from the one history pass (:mod:`kb.versions.git`) plus one ``git cat-file --batch``
for all old file contents; the version found in a blob is cached by blob id, which never changes.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kb.versions.git import CACHE_DIR, Commit, GitError, History, Touch, read_blobs
from kb.content.model import parse_front_matter, version_key

log = logging.getLogger("mkdocs.plugins.kb.history")


@dataclass
class Member:
    """One file of a document (a policy's only file; a manual's index or a chapter)."""

    head_path: str  # repository path at HEAD
    path: str  # repository path in this version
    text: str  # the file's text in this version


@dataclass
class Version:
    """One version of a controlled document."""

    version: str
    commit: Commit | None  # the last commit carrying it; None for the working-tree version
    members: list[Member] = field(default_factory=list)  # index/policy first, then chapters
    authors: list[str] = field(default_factory=list)  # authors of the document up to this commit

    @property
    def main(self) -> Member:
        return self.members[0]

    def front(self, member: Member | None = None) -> tuple[dict, str]:
        """Front-matter data and body of ``member`` (default: the main file) in this version."""
        fm, _ = parse_front_matter((member or self.main).text, (member or self.main).path)
        return (fm.data, fm.body) if fm is not None else ({}, (member or self.main).text)


@dataclass
class Document:
    """A controlled document with all its versions, oldest first (the current one last)."""

    root: str  # "policies" or "manuals"
    doc_id: str
    title: str
    head_path: str  # the main file at HEAD
    versions: list[Version]
    current: str  # the working tree's version

    def archived(self) -> list[Version]:
        return [v for v in self.versions if v.version != self.current]

    def get(self, version: str) -> Version | None:
        return next((v for v in self.versions if v.version == version), None)

    def successor(self, version: str) -> str:
        """The version that replaced ``version``: the next higher one, else the current one."""
        higher = [v.version for v in self.versions if version_key(v.version) > version_key(version)]
        return higher[0] if higher else self.current

    def pairs(self) -> list[tuple[Version, Version]]:
        """Consecutive versions (by version number) that can be compared."""
        return list(zip(self.versions, self.versions[1:]))

    # -- URLs (site source URIs; with directory URLs ``x/v1.0.md`` is served at ``x/v1.0/``) ---

    def base(self) -> str:
        return f"{self.root}/{self.doc_id}"

    def version_uri(self, version: str, member: Member | None = None, v: Version | None = None) -> str:
        if member is None or v is None or member is v.main:
            return f"{self.base()}/v{version}.md" if self.root != "manuals" else \
                f"{self.base()}/v{version}/index.md"
        return f"{self.base()}/v{version}/{posixpath.basename(member.head_path)}"

    def diff_uri(self, old: str, new: str) -> str:
        return f"{self.base()}/diff/v{old}-v{new}.md"


@dataclass
class Source:
    """A controlled document of the working tree, as :func:`discover` needs it."""

    root: str
    doc_id: str
    title: str
    version: str
    members: list[Member]  # main file first (head_path == path, working-tree text)


# --------------------------------------------------------------------------- discovery


_FRONT_VERSION = re.compile(r"""^version:[ \t]*(["']?)(\d+\.\d+)\1[ \t]*(?:#.*)?$""", re.M)


def _version_of(text: str) -> str | None:
    """The top-level ``version`` of a file's front matter (a regular expression, not YAML: this
    runs on every old revision of every controlled document)."""
    if not text.startswith("---"):
        return None
    end = text.find("\n---", 3)
    match = _FRONT_VERSION.search(text, 0, end if end >= 0 else len(text))
    return match.group(2) if match else None


class _VersionCache:
    """Version found in a blob, by blob id (a blob's content never changes)."""

    def __init__(self, project_dir: str):
        self.path = Path(project_dir, CACHE_DIR, "blob-versions.json")
        try:
            self.data: dict[str, str | None] = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            self.data = {}
        self.dirty = False

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data), "utf-8")
            tmp.replace(self.path)
        except OSError as exc:
            log.debug("could not write %s: %s", self.path, exc)


def discover(sources: list[Source], history: History, project_dir: str) -> list[Document]:
    """Find every version of every source document in git history (one blob read in all)."""
    if not history.available:
        return []
    cache = _VersionCache(project_dir)
    # 1. which main-file blobs need reading to learn their version
    main_touches = {s.members[0].head_path: _live(history, s.members[0].head_path) for s in sources}
    unknown = [t.blob for ts in main_touches.values() for t in ts if t.blob not in cache.data]
    try:
        texts = {b: c.decode("utf-8", "replace") for b, c in read_blobs(project_dir, unknown).items()}
    except GitError as exc:
        log.warning("kb history: could not read old versions: %s", exc)
        return []
    for touches in main_touches.values():
        for t in touches:
            if t.blob not in cache.data:
                cache.data[t.blob] = _version_of(texts.get(t.blob, ""))
                cache.dirty = True
    cache.save()
    # 2. per document: the snapshot commit of each version, then the members' blobs there
    plans: list[tuple[Source, dict[str, Touch]]] = []
    for source in sources:
        snapshot: dict[str, Touch] = {}
        for t in main_touches[source.members[0].head_path]:  # newest first
            version = cache.data.get(t.blob)
            if version and version != source.version and version not in snapshot:
                snapshot[version] = t
        plans.append((source, snapshot))
    needed: list[str] = []
    member_at: dict[tuple[str, str, str], Touch] = {}
    for source, snapshot in plans:
        for version, t in snapshot.items():
            for m in source.members:
                mt = t if m is source.members[0] else _at(history, m.head_path, t.commit)
                if mt is not None:
                    member_at[(source.doc_id, version, m.head_path)] = mt
                    needed.append(mt.blob)
    blobs = read_blobs(project_dir, [b for b in needed if b not in texts])
    texts.update({b: c.decode("utf-8", "replace") for b, c in blobs.items()})
    documents = []
    for source, snapshot in plans:
        versions = []
        for version, t in snapshot.items():
            members = []
            for m in source.members:
                mt = member_at.get((source.doc_id, version, m.head_path))
                if mt is not None and mt.blob in texts:
                    members.append(Member(m.head_path, mt.path, texts[mt.blob]))
            if members and members[0].head_path == source.members[0].head_path:
                authors = _authors_until(history, [m.head_path for m in source.members], t.commit)
                versions.append(Version(version, t.commit, members, authors))
        current_authors = _authors_until(history, [m.head_path for m in source.members], None)
        versions.append(Version(source.version, None, source.members, current_authors))
        versions.sort(key=lambda v: version_key(v.version))
        documents.append(Document(source.root, source.doc_id, source.title,
                                  source.members[0].head_path, versions, source.version))
    return documents


def _live(history: History, path: str) -> list[Touch]:
    fh = history.get(path)
    return [t for t in fh.touches if t.blob.strip("0")] if fh else []


def _at(history: History, path: str, commit: Commit) -> Touch | None:
    """The touch of ``path`` in effect at ``commit``: the newest one not after it."""
    for t in _live(history, path):
        if t.commit.seq >= commit.seq:
            return t
    return None


def _authors_until(history: History, paths: list[str], commit: Commit | None) -> list[str]:
    names: list[str] = []
    for path in paths:
        fh = history.get(path)
        for t in fh.touches if fh else []:
            if (commit is None or t.commit.seq >= commit.seq) and t.commit.author not in names:
                names.append(t.commit.author)
    return names


# --------------------------------------------------------------------------- old Markdown

_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(\s+\"[^\"]*\")?\s*\)")


def relocate_links(markdown: str, from_path: str, to_uri: str,
                   resolve: Callable[[str], str | None]) -> str:
    """Rewrite relative links of a file that was at repository path ``from_path`` so they work
    from site source URI ``to_uri``; ``resolve(repo_path)`` gives the site URI of a file that is
    in this build, else None — a link to it becomes its plain text (an image: its alt text).
    Links to other pages lose their ``#anchor``: old anchors may be gone from current pages."""
    here = posixpath.dirname(from_path)
    there = posixpath.dirname(to_uri) or "."

    def repl(match: re.Match[str]) -> str:
        bang, text, target, title = match.group(1), match.group(2), match.group(3), match.group(4)
        if re.match(r"^[a-z][a-z0-9+.-]*:|^/|^#", target, re.I):
            return match.group(0)
        path = target.split("#", 1)[0].split("?", 1)[0]
        uri = resolve(posixpath.normpath(posixpath.join(here, path)))
        if uri is None:
            return f"{text}（原链接已失效）" if not bang else f"[图片：{text or path}]"
        return f"{bang}[{text}]({posixpath.relpath(uri, there)}{title or ''})"

    return _LINK.sub(repl, markdown)


def strip_title_heading(body: str) -> str:
    """The body without its leading ``# title`` line (the archived page gets its own title)."""
    lines = body.lstrip("\n").split("\n", 1)
    if lines and lines[0].startswith("# "):
        return lines[1] if len(lines) > 1 else ""
    return body


def yaml_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)
