"""Security headers, and a Content-Security-Policy the built site satisfies without weakening it.

Material puts a few small scripts inline in every page (``__md_scope``, ``__md_get``/``__md_set``,
the palette switch); their text differs with the page's depth. Instead of ``'unsafe-inline'``
each HTML response lists the SHA-256 hashes of exactly the inline scripts of that file, computed
once per file version (cached by path, size and mtime). Scripts are otherwise same-origin only;
nothing may load from another host.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import re
import threading
from collections import OrderedDict

#: headers on every response (HTML, assets, JSON, errors)
BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
#: the policy of pages and assets; ``{scripts}`` receives the inline-script hashes of a page.
SITE_POLICY = ("default-src 'self'; script-src 'self'{scripts}; style-src 'self'; "
               "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
               "worker-src 'self'; media-src 'self'; object-src 'none'; base-uri 'self'; "
               "form-action 'self'; frame-ancestors 'self'")
#: the policy of API answers: JSON is never rendered as a document
API_POLICY = "default-src 'none'; frame-ancestors 'none'"

_HANDLER = re.compile(rb"""<[a-zA-Z][^>]*?\son[a-z]+\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_HANDLER_ATTR = re.compile(rb"""\son[a-z]+\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_INLINE_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
_HAS_SRC = re.compile(rb"\bsrc\s*=", re.I)
_DATA_TYPE = re.compile(rb"""\btype\s*=\s*["']?application/(?:ld\+)?json""", re.I)


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP source expressions (``'sha256-…'``) for the executable inline scripts of a page."""
    found: list[str] = []
    for match in _INLINE_SCRIPT.finditer(html):
        attrs, body = match.group(1), match.group(2)
        if _HAS_SRC.search(attrs) or _DATA_TYPE.search(attrs):
            continue
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
        source = f"'sha256-{digest}'"
        if source not in found:
            found.append(source)
    return found


def event_handler_hashes(html: bytes) -> list[str]:
    """Hashes of inline event-handler attributes (``onclick="window.print()"``), if any.

    Allowed with ``'unsafe-hashes'``: only these exact handler texts may run; a handler with
    other text (injected or not) is still blocked.
    """
    found: list[str] = []
    for tag in _HANDLER.finditer(html):
        for m in _HANDLER_ATTR.finditer(tag.group(0)):
            value = html_lib.unescape((m.group(1) or m.group(2) or b"").decode("utf-8", "replace"))
            digest = base64.b64encode(hashlib.sha256(value.encode("utf-8")).digest()).decode()
            source = f"'sha256-{digest}'"
            if source not in found:
                found.append(source)
    return found


def page_sources(html: bytes) -> list[str]:
    """The script sources a page needs beyond 'self': inline scripts, event handlers."""
    handlers = event_handler_hashes(html)
    return inline_script_hashes(html) + (["'unsafe-hashes'", *handlers] if handlers else [])


def site_policy(hashes: list[str]) -> str:
    """The page policy allowing exactly ``hashes`` as inline scripts."""
    return SITE_POLICY.format(scripts="".join(" " + h for h in hashes))


class PolicyCache:
    """Page policies by file version; bounded so a large site cannot grow it without end."""

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._items: OrderedDict[tuple[str, int, int], str] = OrderedDict()
        self._lock = threading.Lock()

    def for_html(self, path: str, size: int, mtime_ns: int) -> str:
        """The policy of the HTML file at ``path`` (read only when this version is new)."""
        key = (path, size, mtime_ns)
        with self._lock:
            policy = self._items.get(key)
            if policy is not None:
                self._items.move_to_end(key)
                return policy
        with open(path, "rb") as fh:
            policy = site_policy(page_sources(fh.read()))
        with self._lock:
            self._items[key] = policy
            while len(self._items) > self._limit:
                self._items.popitem(last=False)
        return policy
