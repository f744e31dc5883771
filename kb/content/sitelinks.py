"""Links, anchors and images checked on a built site (part of ``kb check``).

Every internal ``href``/``src`` of every HTML page must resolve to a file of the site, and a
``#fragment`` to an element ``id`` (or ``<a name>``) of the target page. Checking the output rather
than the Markdown covers links made by hooks (registers, revision records, announcement lists) and
by the theme. A broken link is tied back to the page's source file and, where the link can be found
in it, its line. Paths under ``/api/`` belong to the search service and are not files.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html

from kb.buildrun import BuildRun, BuiltPage

#: (tag, attribute) pairs that reference another resource of the site
REFERENCES: tuple[tuple[str, str], ...] = (
    ("a", "href"), ("area", "href"), ("link", "href"), ("img", "src"), ("script", "src"),
    ("source", "src"), ("iframe", "src"), ("video", "src"), ("audio", "src"), ("embed", "src"),
)
#: URL prefixes served by the search service, not by files
SERVICE_PREFIXES: tuple[str, ...] = ("api/",)
_SKIP_REL = {"canonical", "preconnect", "dns-prefetch"}


@dataclass(frozen=True)
class BrokenLink:
    """One reference of the built site that leads nowhere."""

    html_file: str  # site-relative output file holding the reference
    file: str | None  # source file of that page (repository path), None for theme/generated pages
    line: int | None  # line of the link in the source, when found
    kind: str  # link, anchor or image
    href: str  # the reference as written in the HTML
    message: str
    source_link: str | None = None  # the text found in the source (to recognise MkDocs' reports)


#: link targets as written in Markdown and HTML: ``](target``, ``[ref]: target``,
#: ``src="target"`` / ``href='target'`` / ``src=target``
_TARGETS = (
    re.compile(r"\]\(\s*<?([^)\s>]+)"),
    re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)"),
    re.compile(r"""\b(?:src|href|srcset|poster|data)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""",
               re.I),
)
_FENCE = re.compile(r"^---[ \t]*$")


def body_start(lines: list[str]) -> int:
    """Index of the first line after the front matter (0 when the file has none)."""
    if not lines or not _FENCE.match(lines[0]):
        return 0
    return next((i + 1 for i in range(1, len(lines)) if _FENCE.match(lines[i])), 0)


def _targets(text: str) -> list[str]:
    found = []
    for pattern in _TARGETS:
        for match in pattern.finditer(text):
            value = next((g for g in match.groups() if g is not None), "")
            found += [value, unquote(value)]
    return found


def locate(source: str, link: str) -> int | None:
    """1-based line of ``source`` where ``link`` (or its file name or fragment) is written.

    Only the body is searched (front matter is text, not links), and a link written as a
    link target (``](x)``, ``src="x"``, ``[ref]: x``) wins over the same text in prose: a title
    reading ``src=x`` does not stand for ``<img src="x">`` further down.
    """
    if not source or not link:
        return None
    parts = urlsplit(link)
    candidates = [link, unquote(link)]
    path = unquote(parts.path)
    segments = [s for s in path.split("/") if s and s not in (".", "..", "index.html")]
    if segments:
        candidates += [segments[-1], segments[-1].rsplit(".", 1)[0]]
    if parts.fragment:
        candidates.append("#" + unquote(parts.fragment))
    wanted = list(dict.fromkeys(c for c in candidates if c))
    lines = source.splitlines()
    first = body_start(lines)
    body = list(enumerate(lines, 1))[first:]
    targets = [(number, _targets(text)) for number, text in body]
    tiers = (
        lambda c, t: t == c or t.removeprefix("./") == c,
        lambda c, t: t.split("#")[0].endswith("/" + c) or (c.startswith("#") and t.endswith(c))
        or (len(c) > 2 and c in t),
    )
    for tier in tiers:
        for candidate in wanted:
            for number, found in targets:
                if any(tier(candidate, target) for target in found):
                    return number
    for candidate in wanted:  # written some other way (a shortcode, a template): plain text
        for number, text in body:
            if candidate in text:
                return number
    return None


def _references(tree: lxml.html.HtmlElement) -> Iterator[tuple[str, str]]:
    for tag, attr in REFERENCES:
        for element in tree.iter(tag):
            value = element.get(attr)
            if value is None:
                continue
            if tag == "link" and _SKIP_REL & set((element.get("rel") or "").lower().split()):
                continue
            yield tag, value.strip()


class _Site:
    """The built site: files and the ids of each HTML page (read once)."""

    def __init__(self, root: Path, url_prefix: str):
        self.root = root
        self.url_prefix = url_prefix.strip("/")
        self._ids: dict[str, set[str]] = {}
        self._trees: dict[str, lxml.html.HtmlElement] = {}

    def tree(self, rel: str) -> lxml.html.HtmlElement:
        if rel not in self._trees:
            data = (self.root / rel).read_bytes()
            self._trees[rel] = lxml.html.fromstring(data) if data.strip() else \
                lxml.html.fromstring("<html></html>")
        return self._trees[rel]

    def ids(self, rel: str) -> set[str]:
        if rel not in self._ids:
            tree = self.tree(rel)
            found = {e.get("id") for e in tree.iter() if isinstance(e.tag, str) and e.get("id")}
            found |= {e.get("name") for e in tree.iter("a") if e.get("name")}
            self._ids[rel] = found  # type: ignore[assignment]
        return self._ids[rel]

    def resolve(self, page_rel: str, url: str) -> tuple[str | None, str, bool]:
        """(site-relative target file or None if outside the site, fragment, is-internal)."""
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith("//"):
            return None, "", False
        fragment = unquote(parts.fragment)
        path = unquote(parts.path)
        if not path:
            return page_rel, fragment, True
        if path.startswith("/"):
            path = path.lstrip("/")
            if self.url_prefix and (path == self.url_prefix
                                    or path.startswith(self.url_prefix + "/")):
                path = path[len(self.url_prefix):].lstrip("/")
            target = posixpath.normpath(path) if path else "."
        else:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(page_rel), path))
        if target == ".." or target.startswith("../"):
            return None, fragment, True
        if any(f"{target}/".startswith(p) for p in SERVICE_PREFIXES):
            return "", "", False
        full = self.root / target if target != "." else self.root
        if parts.path.endswith("/") or full.is_dir():
            target = posixpath.join(target, "index.html") if target != "." else "index.html"
        return target, fragment, True


def _html_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html")
                  if not any(part.startswith(".") for part in p.relative_to(root).parts))


def check_links(run: BuildRun) -> list[BrokenLink]:
    """Every broken internal reference of ``run``'s built site (theme-wide ones reported once)."""
    assert run.config is not None
    site = _Site(run.site_dir, urlsplit(run.config.site_url or "").path)
    pages: dict[str, BuiltPage] = run.page_by_dest()
    found: list[BrokenLink] = []
    unlocated: dict[tuple[str, str], list[BrokenLink]] = {}
    for rel in _html_files(run.site_dir):
        page = pages.get(rel)
        source = page.source if page else ""
        seen: set[str] = set()
        for tag, url in _references(site.tree(rel)):
            if url in seen or url.startswith(("mailto:", "tel:", "javascript:", "data:")):
                continue
            seen.add(url)
            target, fragment, internal = site.resolve(rel, url)
            if not internal:
                continue
            kind = "image" if tag in ("img", "source") else "link"
            if target is None:
                message = f"{tag} {url!r} points outside the site"
            elif not (site.root / target).is_file():
                message = f"{'image' if kind == 'image' else 'link'} {url!r}: no file {target}"
            elif fragment and target.endswith(".html") and fragment not in site.ids(target):
                kind = "anchor"
                message = f"link {url!r}: {target} has no anchor #{fragment}"
            else:
                continue
            line = locate(source, url) if source else None
            source_link = None
            if line is not None:
                source_link = source.splitlines()[line - 1].strip()
            broken = BrokenLink(rel, page.repo_path if page and source else None, line, kind,
                                url, message, source_link)
            if line is None:
                unlocated.setdefault((kind, f"{target}#{fragment}"), []).append(broken)
            else:
                found.append(broken)
    for group in unlocated.values():
        first = group[0]
        if len(group) == 1:
            found.append(first)
            continue
        found.append(BrokenLink(first.html_file, None, None, first.kind, first.href,
                                f"{first.message} (on {len(group)} pages, e.g. {first.html_file})"))
    return found
