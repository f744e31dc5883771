"""``/api/feedback`` of ``kb serve``: the widget's token (GET) and a reader's vote (POST).

``GET /api/feedback``
    ``{"enabled": true, "token": T}`` and the cookie ``kb_feedback=T`` (``SameSite=Strict``,
    ``HttpOnly``, path ``/api/feedback``). The widget shows itself only after this answers, so a
    site served by plain nginx (no service) never shows it.
``POST /api/feedback``
    JSON ``{"page": "/policies/network/", "helpful": true, "comment": "…"}`` with the header
    ``X-KB-Token: T``. Refused unless: the request comes from the site's own pages (``Origin``,
    else ``Sec-Fetch-Site`` or ``Referer``, names this host: 403 ``cross_origin``); the header
    repeats the cookie's token (403 ``csrf``); the body is JSON (415), small (413) and valid
    (400 naming the field); ``page`` is a page of the served site (400); the client has not
    voted ``limit`` times within ``window`` seconds (429 with ``Retry-After``). A vote is stored
    with the page's title and owner (``kb:owner``) read from the built page, and the reader's
    name only when the service trusts a proxy header (``identity_header``). Answer: 201.
"""

from __future__ import annotations

import datetime as _dt
import hmac
import html
import json
import re
import secrets
import time
from collections.abc import Callable
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

from kb.feedback.store import FeedbackStore, RateLimited, Vote
from search import static
from search.web import ApiError, Request, Response, Route

PATH = "/api/feedback"
COOKIE = "kb_feedback"
TOKEN_HEADER = "X-KB-Token"
MAX_BODY = 16384  # 1000 Chinese characters escaped in JSON are 6000 bytes
MAX_COMMENT = 1000
MAX_PAGE = 512
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)
_OWNER = re.compile(r'<meta name="kb:owner" content="([^"]*)"')
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S | re.I)
_TAGS = re.compile(r"<[^>]+>")


class FeedbackApi:
    """The endpoint; ``root()`` is the served site folder (follows a publish's ``current``)."""

    def __init__(self, store: FeedbackStore, root: Callable[[], str], *,
                 identity_header: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.store, self.root = store, root
        self.identity_header = identity_header
        self.clock = clock

    def routes(self) -> list[Route]:
        return [Route(PATH, ("GET", "POST"), self.handle)]

    def handle(self, request: Request) -> Response:
        if request.method == "POST":
            return self.post(request)
        return self.token(request)

    # ------------------------------------------------------------------ GET: the token

    def token(self, request: Request) -> Response:
        token = _cookie(request) or secrets.token_hex(16)
        cookie = f"{COOKIE}={token}; Path={PATH}; SameSite=Strict; HttpOnly"
        if _scheme(request) == "https":
            cookie += "; Secure"
        return Response.json({"enabled": True, "token": token}, headers=[("Set-Cookie", cookie)])

    # ------------------------------------------------------------------ POST: a vote

    def post(self, request: Request) -> Response:
        _same_origin(request)
        cookie = _cookie(request)
        sent = request.header(TOKEN_HEADER) or ""
        if cookie is None or not hmac.compare_digest(cookie, sent):
            raise ApiError("missing or wrong feedback token: load the page again",
                           HTTPStatus.FORBIDDEN, "csrf")
        data = _json_body(request)
        page, helpful, comment = _fields(data)
        title, owner = self._page(page)
        reader = None
        if self.identity_header:
            reader = (request.header(self.identity_header) or "").strip()[:100] or None
        client = reader or request.environ.get("REMOTE_ADDR", "") or "unknown"
        now = self.clock()
        try:
            self.store.add(Vote(page, title, owner, helpful, comment, reader), client, now,
                           _dt.datetime.fromtimestamp(now, _dt.timezone.utc))
        except RateLimited:
            raise ApiError("too many feedback messages; try again in a minute",
                           HTTPStatus.TOO_MANY_REQUESTS, "rate_limited",
                           [("Retry-After", str(int(self.store.window)))]) from None
        return Response.json({"ok": True, "message": "谢谢您的反馈！"}, HTTPStatus.CREATED)

    def _page(self, page: str) -> tuple[str, str]:
        """Title and owner of a page of the served site; 400 when it is not one."""
        root = self.root()
        resolved = static.resolve(root, page)
        file = resolved.file if resolved is not None and resolved.redirect is None else None
        if file is None or not file.endswith(".html") or Path(file).name == "404.html":
            raise ApiError("page: not a page of this site", HTTPStatus.BAD_REQUEST,
                           "bad_request", detail={"field": "page"})
        with open(file, encoding="utf-8", errors="replace") as fh:
            head = fh.read(200_000)
        heading = _H1.search(head)
        title = _TAGS.sub("", heading.group(1)) if heading else ""
        if not title.strip():
            found = _TITLE.search(head)
            title = found.group(1) if found else ""
        owner = _OWNER.search(head)
        return (html.unescape(title).replace("¶", "").strip()[:200],
                html.unescape(owner.group(1)).strip()[:100] if owner else "")


# --------------------------------------------------------------------------- checks


def _scheme(request: Request) -> str:
    forwarded = (request.header("X-Forwarded-Proto") or "").split(",")[0].strip().lower()
    return forwarded or str(request.environ.get("wsgi.url_scheme", "http"))


def _same_origin(request: Request) -> None:
    """403 unless the request comes from this host's own pages."""
    host = (request.header("X-Forwarded-Host") or request.header("Host") or "").split(",")[0]
    host = host.strip().lower()
    origin = request.header("Origin")
    if origin and origin != "null":
        ok = urlsplit(origin).netloc.lower() == host
    elif (request.header("Sec-Fetch-Site") or "").lower() == "same-origin":
        ok = True
    else:
        referer = request.header("Referer")
        ok = bool(referer) and urlsplit(referer).netloc.lower() == host
    if not host or not ok:
        raise ApiError("feedback is accepted from this site's own pages only",
                       HTTPStatus.FORBIDDEN, "cross_origin")


def _cookie(request: Request) -> str | None:
    raw = request.header("Cookie")
    if not raw:
        return None
    try:
        jar = SimpleCookie(raw)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None and _TOKEN.match(morsel.value) else None


def _json_body(request: Request) -> dict:
    ctype = (request.environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise ApiError("send the feedback as application/json", HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                       "unsupported_media_type")
    try:
        length = int(request.environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if length < 0 or length > MAX_BODY:
        raise ApiError(f"feedback body larger than {MAX_BODY} bytes",
                       HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large")
    raw = request.environ["wsgi.input"].read(length) if length else b""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError("body: not JSON", HTTPStatus.BAD_REQUEST, "bad_request") from None
    if not isinstance(data, dict):
        raise ApiError("body: expected a JSON object", HTTPStatus.BAD_REQUEST, "bad_request")
    return data


def _fields(data: dict) -> tuple[str, bool, str]:
    unknown = sorted(set(data) - {"page", "helpful", "comment"})
    if unknown:
        raise _bad(unknown[0], "unknown field")
    page = data.get("page")
    if not isinstance(page, str) or not page.startswith("/") or len(page) > MAX_PAGE \
            or any(c in page for c in "?#\\") or any(ord(c) < 32 for c in page):
        raise _bad("page", "expected the page's path on this site, e.g. /policies/network/")
    helpful = data.get("helpful")
    if not isinstance(helpful, bool):
        raise _bad("helpful", "expected true or false")
    comment = data.get("comment", "")
    if comment is None:
        comment = ""
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise _bad("comment", f"expected text of at most {MAX_COMMENT} characters")
    comment = "".join(c for c in comment if c in "\n\t" or ord(c) >= 32).strip()
    return page, helpful, comment


def _bad(field: str, expected: str) -> ApiError:
    return ApiError(f"{field}: {expected}", HTTPStatus.BAD_REQUEST, "bad_request",
                    detail={"field": field})


def mount(service, *, path: str | Path = "", identity_header: str | None = None  # noqa: ANN001
          ) -> FeedbackStore:
    """Add ``/api/feedback`` to ``service`` (a :class:`search.service.SearchService`); the store
    (``""``: ``<site>-feedback.sqlite3`` next to the site folder) is closed with the service."""
    from kb.feedback.store import default_path
    from search.reload import served_root

    store = FeedbackStore(default_path(service.site_dir) if path in ("", None) else Path(path))
    api = FeedbackApi(store, lambda: served_root(service.site_dir), identity_header=identity_header)
    service.mount(api.routes())
    return store
