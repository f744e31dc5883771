"""Security headers, and the Content-Security-Policy that the build decided for the site.

The policy of a site's files is not computed from what a page contains (a page could carry an
injected script): the build writes it (:mod:`kb.publish.headers`) with the hashes of the inline scripts
the theme ships, into ``SITE_DIR/.kb-headers/headers.json``, and :class:`SitePolicy` reads it
for the folder being served (again when a publish switches the release). The nginx recipe
includes the same build's ``nginx.conf``, so both servers send the same policy. A site without
that file (built before, or by another tool) gets the policy with no inline script at all.

No ``'unsafe-inline'``, no ``'unsafe-eval'``, no ``'unsafe-hashes'``, no other host.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import json
import logging
import os
import re
import threading

log = logging.getLogger("mkdocs.plugins.kb.search.service")

#: headers on every response (HTML, assets, JSON, errors)
BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
#: the policy of pages and assets; ``{scripts}`` receives the allowed inline-script hashes
SITE_POLICY = ("default-src 'self'; script-src 'self'{scripts}; style-src 'self'; "
               "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
               "worker-src 'self'; media-src 'self'; object-src 'none'; base-uri 'self'; "
               "form-action 'self'; frame-ancestors 'self'")
#: the policy of API answers: JSON is never rendered as a document
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
#: where the build leaves the site's headers (see :mod:`kb.publish.headers`)
HEADERS_FILE = os.path.join(".kb-headers", "headers.json")

#: a start tag with its attributes (quoted values may contain ``>``)
_START_TAG = re.compile(rb"""<[a-zA-Z][^\s/>]*((?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|"""
                        rb"""[^\s"'>]+))?)*)\s*/?>""")
#: one attribute of a start tag's attribute text (matched in sequence, so values are skipped)
_ATTR = re.compile(rb"""([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_SCRIPT_TAG = re.compile(rb"<script\b([^>]*)>", re.I)
_HAS_SRC = re.compile(rb"\bsrc\s*=", re.I)
_DATA_TYPE = re.compile(rb"""\btype\s*=\s*["']?application/(?:ld\+)?json""", re.I)


def script_hash(body: bytes) -> str:
    """The CSP source expression (``'sha256-…'``) of a script text."""
    return f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode('ascii')}'"


def inline_script_hashes(html: bytes) -> list[str]:
    """Hashes of the executable inline scripts of an HTML text, in order of appearance.

    Found with ``bytes.find`` (a page has a handful), so checking every page of a large build
    costs a few hundredths of a millisecond per page."""
    found: list[str] = []
    lower = html.lower()
    start = lower.find(b"<script")
    while start != -1:
        tag = _SCRIPT_TAG.match(html, start)
        end = lower.find(b"</script", tag.end()) if tag else -1
        if tag is None or end == -1:
            start = lower.find(b"<script", start + 7)
            continue
        attrs = tag.group(1)
        if not (_HAS_SRC.search(attrs) or _DATA_TYPE.search(attrs)):
            source = script_hash(html[tag.end():end])
            if source not in found:
                found.append(source)
        start = lower.find(b"<script", end)
    return found


def event_handler_hashes(html: bytes) -> list[str]:
    """Hashes of inline event-handler attributes (``onclick="…"``) of an HTML text."""
    found: list[str] = []
    for tag in _START_TAG.finditer(html):
        for m in _ATTR.finditer(tag.group(1)):
            if not m.group(1).lower().startswith(b"on"):
                continue
            raw = next((g for g in m.groups()[1:] if g is not None), b"")
            value = html_lib.unescape(raw.decode("utf-8", "replace")).encode("utf-8")
            source = script_hash(value)
            if source not in found:
                found.append(source)
    return found


def page_sources(html: bytes) -> list[str]:
    """What an HTML text would need allowed to run all of its inline code: script hashes, and
    ``'unsafe-hashes'`` with the handler hashes when it has event handlers."""
    handlers = event_handler_hashes(html)
    return inline_script_hashes(html) + (["'unsafe-hashes'", *handlers] if handlers else [])


def site_policy(hashes: list[str]) -> str:
    """The page policy allowing exactly ``hashes`` as inline scripts."""
    return SITE_POLICY.format(scripts="".join(" " + h for h in hashes))


#: the policy of a site whose build left no headers file: no inline script runs
STRICT_POLICY = site_policy([])


class SitePolicy:
    """The Content-Security-Policy of the served folder, as its build wrote it.

    Read once per version of the headers file (checked with one ``stat`` per request, as
    cheap as the static file's own); a missing or unreadable file gives :data:`STRICT_POLICY`
    and one warning per served folder.
    """

    def __init__(self) -> None:
        self._key: tuple[str, int, int] | None = None
        self._policy = STRICT_POLICY
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def for_root(self, root: str) -> str:
        """The policy of the site folder ``root`` (a real path)."""
        path = os.path.join(root, HEADERS_FILE)
        try:
            st = os.stat(path)
        except OSError:
            if root not in self._warned:
                self._warned.add(root)
                log.warning("%s: no %s (site built without kb's hooks?): pages are served with "
                            "a policy that allows no inline script", root, HEADERS_FILE)
            return STRICT_POLICY
        key = (path, st.st_mtime_ns, st.st_size)
        with self._lock:
            if key == self._key:
                return self._policy
        try:
            with open(path, encoding="utf-8") as fh:
                policy = json.load(fh)["content_security_policy"]
            if not isinstance(policy, str) or not policy.startswith("default-src"):
                raise ValueError("not a policy")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("%s: unreadable (%s): serving a policy that allows no inline script",
                        path, exc)
            policy = STRICT_POLICY
        with self._lock:
            self._key, self._policy = key, policy
        return policy
