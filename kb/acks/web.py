"""The acknowledgement API of ``kb serve``: ``/api/ack`` and the admin report.

Mounted by :func:`mount` when ``kb serve`` is given a proxy secret (``--ack-proxy-secret-file``
or ``KB_ACK_PROXY_SECRET``); without one the routes do not exist (404), and the page script
hides the button — as on a static deployment.

**Identity** comes only from the reverse proxy: ``X-Remote-User`` (and ``X-Remote-Groups``),
set by nginx from its ``auth_request`` to the SSO gateway (``deploy/nginx/kb-acks.conf``). A
request counts as coming through the proxy only when it carries the shared secret header
``X-KB-Proxy-Secret`` that nginx adds (and, with ``--ack-trusted-proxy``, comes from one of
those addresses); anything else — a forged user header sent straight to ``kb serve`` — is
refused with 403 before the user header is read.

**CSRF**: a POST must be same-origin (``Origin``, else ``Referer``, equal to ``--ack-origin``, else
to the proxy's ``X-KB-Origin``, else to ``Host``; ``Sec-Fetch-Site`` when sent must be
``same-origin``), be JSON, and carry a token from ``GET /api/ack`` in ``X-KB-Token``. A token is
signed for one user, expires after two hours and is spent by its POST (its nonce is stored):
a replayed token is refused with 409.

Routes:

``GET /api/ack?doc_id=`` → ``{doc_id, version, title, due, required, user, confirmed: {version,
date} | null, token}``; without ``doc_id`` the same for every required document.
``POST /api/ack`` ``{"doc_id", "version"}`` → 201 ``{created: true, confirmed: {…}}``, or 200
``{created: false, …}`` when a confirmation that counts exists (idempotent: nothing added).
``GET /api/ack/report[?doc_id=&format=json|csv]`` → the report page, for ``--ack-admin-group``.
"""

from __future__ import annotations

import collections
import datetime as _dt
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from kb.acks.manifest import ManifestHolder, Requirement
from kb.acks.records import AckStore, TokenReplayed
from kb.acks.report import Person, read_roster
from search.web import ApiError, Request, Response, Route

log = logging.getLogger("mkdocs.plugins.kb.search.service")

PROXY_SECRET_ENV = "KB_ACK_PROXY_SECRET"
TOKEN_HEADER = "X-KB-Token"
TOKEN_SECONDS = 2 * 3600
MAX_BODY = 4096
_USER_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")
_DOC_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_VERSION_RE = re.compile(r"^\d{1,4}\.\d{1,4}$")


@dataclass(frozen=True)
class AckConfig:
    """How ``kb serve`` trusts the proxy and where it keeps confirmations."""

    proxy_secret: str
    db: str  # URL or SQLite file
    user_header: str = "X-Remote-User"
    groups_header: str = "X-Remote-Groups"
    secret_header: str = "X-KB-Proxy-Secret"
    trusted_proxies: tuple[str, ...] = ()  # addresses/networks; empty: any (secret required)
    origins: tuple[str, ...] = ()  # allowed Origin values; empty: the proxy's forwarded host
    admin_group: str = "制度管理员"
    roster: str | None = None
    posts_per_minute: int = 30  # per user and worker process
    pool_size: int = 5

    def __post_init__(self) -> None:
        if len(self.proxy_secret) < 16:
            raise ValueError("the acknowledgement proxy secret must be at least 16 characters")
        for net in self.trusted_proxies:
            ipaddress.ip_network(net, strict=False)  # ValueError names it


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def today_in(timezone: str) -> _dt.date:
    """Today in the site's time zone (``KB_TODAY`` when set, as everywhere: kb.clock)."""
    from kb.clock import ENV_VAR, today

    if os.environ.get(ENV_VAR, "").strip():
        return today()
    return _now().astimezone(ZoneInfo(timezone)).date()


@dataclass
class _Identity:
    user: str
    groups: set[str] | None


@dataclass
class RateLimit:
    """At most ``limit`` events per key within ``window`` seconds (this process)."""

    limit: int
    window: float = 60.0
    _events: dict[str, collections.deque] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, key: str) -> float:
        """0 when allowed (and counted), else the seconds until the next is allowed."""
        now = time.monotonic()
        with self._lock:
            events = self._events.setdefault(key, collections.deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return events[0] + self.window - now
            events.append(now)
            if len(self._events) > 10000:  # forget idle users
                for k in [k for k, v in self._events.items() if not v]:
                    del self._events[k]
            return 0.0


class AckApi:
    """The acknowledgement routes of one ``kb serve`` worker."""

    def __init__(self, config: AckConfig, root_of, store: AckStore) -> None:  # noqa: ANN001
        self.config = config
        self.store = store
        self.manifests = ManifestHolder(root_of)
        self.limit = RateLimit(max(1, config.posts_per_minute))
        self.roster: list[Person] | None = read_roster(config.roster) if config.roster else None
        self._networks = [ipaddress.ip_network(n, strict=False) for n in config.trusted_proxies]
        self._posts = 0

    def routes(self) -> list[Route]:
        return [Route("/api/ack", ("GET", "POST"), self.api_ack),
                Route("/api/ack/report", ("GET",), self.api_report)]

    def close(self) -> None:
        self.store.close()

    # ------------------------------------------------------------------ who is asking

    def _header(self, request: Request, name: str) -> str | None:
        value = request.header(name)
        if value is None:
            return None
        try:  # WSGI gives header bytes as latin-1; nginx passes the SSO's UTF-8 through
            return value.encode("latin-1").decode("utf-8").strip()
        except (UnicodeEncodeError, UnicodeDecodeError):
            raise ApiError(f"{name}: expected UTF-8 text", HTTPStatus.BAD_REQUEST,
                           "bad_identity") from None

    def identity(self, request: Request) -> _Identity:
        """The user the proxy vouches for; 403 when the request did not come through it, 401
        when it did without a user."""
        secret = request.header(self.config.secret_header) or ""
        if not hmac.compare_digest(secret.encode("latin-1", "replace"),
                                   self.config.proxy_secret.encode("utf-8")):
            raise ApiError("this request did not come through the site's proxy: "
                           "acknowledgements are accepted only from signed-in staff via the "
                           "intranet address", HTTPStatus.FORBIDDEN, "not_via_proxy")
        if self._networks:
            try:
                address = ipaddress.ip_address(request.environ.get("REMOTE_ADDR", ""))
            except ValueError:
                address = None
            if address is None or not any(address in net for net in self._networks):
                raise ApiError("this request did not come from a trusted proxy address",
                               HTTPStatus.FORBIDDEN, "not_via_proxy")
        user = self._header(request, self.config.user_header)
        if not user:
            raise ApiError("not signed in: the proxy sent no user", HTTPStatus.UNAUTHORIZED,
                           "no_identity")
        if not _USER_RE.match(user):
            raise ApiError(f"{self.config.user_header}: expected 1-200 printable characters",
                           HTTPStatus.BAD_REQUEST, "bad_identity")
        raw = self._header(request, self.config.groups_header)
        groups = None if raw is None else {g.strip() for g in re.split(r"[,;|]", raw) if g.strip()}
        return _Identity(user, groups)

    def _client_address(self, request: Request) -> str:
        real = request.header("X-Real-IP")  # set by the proxy (trusted: the secret matched)
        return (real or request.environ.get("REMOTE_ADDR") or "").strip()

    # ------------------------------------------------------------------ tokens

    def _sign(self, user: str, expires: int, nonce: str) -> str:
        message = f"{user}\x00{expires}\x00{nonce}".encode()
        return hmac.new(self.store.key("csrf"), message, hashlib.sha256).hexdigest()[:32]

    def new_token(self, user: str) -> str:
        expires = int(time.time()) + TOKEN_SECONDS
        nonce = secrets.token_urlsafe(18)
        return f"{expires}.{nonce}.{self._sign(user, expires, nonce)}"

    def check_token(self, user: str, token: str | None) -> tuple[str, _dt.datetime]:
        """(nonce, expiry) of a valid token of ``user``; 403 otherwise."""
        if not token:
            raise ApiError(f"missing {TOKEN_HEADER}: reload the page and confirm again",
                           HTTPStatus.FORBIDDEN, "csrf_missing")
        parts = token.split(".")
        if len(parts) != 3 or not parts[0].isdigit() or not 8 <= len(parts[1]) <= 64:
            raise ApiError(f"{TOKEN_HEADER}: not a token of this site", HTTPStatus.FORBIDDEN,
                           "csrf_invalid")
        expires, nonce, sig = int(parts[0]), parts[1], parts[2]
        if not hmac.compare_digest(sig, self._sign(user, expires, nonce)):
            raise ApiError(f"{TOKEN_HEADER}: not issued to this user", HTTPStatus.FORBIDDEN,
                           "csrf_invalid")
        if expires < time.time():
            raise ApiError(f"{TOKEN_HEADER}: expired; reload the page", HTTPStatus.FORBIDDEN,
                           "csrf_expired")
        return nonce, _dt.datetime.fromtimestamp(expires, _dt.timezone.utc)

    def check_origin(self, request: Request) -> None:
        """A POST must come from a page of this site."""
        site = request.header("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            raise ApiError(f"cross-site request refused (Sec-Fetch-Site: {site[:40]})",
                           HTTPStatus.FORBIDDEN, "cross_origin")
        origin = request.header("Origin")
        if origin is None:
            referer = request.header("Referer")
            if referer:
                parts = urlsplit(referer)
                origin = f"{parts.scheme}://{parts.netloc}"
        if not origin or origin == "null":
            raise ApiError("missing Origin: a confirmation must be sent from the site's page",
                           HTTPStatus.FORBIDDEN, "cross_origin")
        if self.config.origins:
            allowed = set(self.config.origins)
        elif request.header("X-KB-Origin"):  # set by the proxy (the secret matched)
            allowed = {request.header("X-KB-Origin").rstrip("/")}  # type: ignore[union-attr]
        else:
            scheme = request.environ.get("wsgi.url_scheme", "http")
            allowed = {f"{scheme}://{request.header('Host') or ''}"}
        if origin.rstrip("/") not in allowed:
            raise ApiError(f"cross-origin request refused (Origin {origin[:100]})",
                           HTTPStatus.FORBIDDEN, "cross_origin")

    # ------------------------------------------------------------------ handlers

    def _requirement(self, doc_id: Any) -> Requirement:
        if not isinstance(doc_id, str) or not _DOC_ID_RE.match(doc_id):
            raise ApiError("doc_id: expected a document number such as XXZX-ZD-001",
                           HTTPStatus.BAD_REQUEST, "bad_doc_id")
        req = self.manifests.current().documents.get(doc_id)
        if req is None:
            raise ApiError(f"doc_id {doc_id}: no document of this site asks for confirmation",
                           HTTPStatus.NOT_FOUND, "unknown_doc")
        return req

    def _status(self, req: Requirement, who: _Identity, tz: str) -> dict:
        record = self.store.status(who.user, req.doc_id, req.version, req.covered)
        return {"doc_id": req.doc_id, "title": req.title, "version": req.version,
                "due": req.due, "required": req.applies_to(who.groups),
                "confirmed": None if record is None else {
                    "version": record.version,
                    "date": record.confirmed_at.astimezone(ZoneInfo(tz)).date().isoformat()}}

    def api_ack(self, request: Request) -> Response:
        if request.method == "POST":
            return self.post(request)
        who = self.identity(request)
        params = parse_qs(request.query_string, keep_blank_values=True)
        unknown = sorted(set(params) - {"doc_id"})
        if unknown:
            raise ApiError(f"unknown parameter {unknown[0][:40]}; expected doc_id",
                           HTTPStatus.BAD_REQUEST, "bad_parameter")
        manifest = self.manifests.current()
        data: dict[str, Any] = {"user": who.user, "token": self.new_token(who.user)}
        if "doc_id" in params:
            if len(params["doc_id"]) != 1:
                raise ApiError("doc_id: expected once", HTTPStatus.BAD_REQUEST, "bad_doc_id")
            data.update(self._status(self._requirement(params["doc_id"][0]), who,
                                     manifest.timezone))
        else:
            data["documents"] = [self._status(r, who, manifest.timezone)
                                 for r in manifest.documents.values()]
        return Response.json(data)

    def _body(self, request: Request) -> dict:
        ctype = (request.environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ApiError("expected a JSON body (Content-Type: application/json)",
                           HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "bad_content_type")
        try:
            length = int(request.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            raise ApiError(f"expected a JSON body of at most {MAX_BODY} bytes",
                           HTTPStatus.BAD_REQUEST, "bad_body")
        raw = request.environ["wsgi.input"].read(length)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiError("body: expected JSON {\"doc_id\": …, \"version\": …}",
                           HTTPStatus.BAD_REQUEST, "bad_body") from None
        if not isinstance(body, dict) or set(body) - {"doc_id", "version"}:
            raise ApiError("body: expected exactly the keys doc_id and version",
                           HTTPStatus.BAD_REQUEST, "bad_body")
        return body

    def post(self, request: Request) -> Response:
        """Record a confirmation (see the module docstring for every refusal)."""
        who = self.identity(request)
        self.check_origin(request)
        wait = self.limit.allow(who.user)
        if wait:
            raise ApiError(f"too many confirmations from {who.user[:60]}; try again in "
                           f"{int(wait) + 1} s", HTTPStatus.TOO_MANY_REQUESTS, "rate_limited",
                           [("Retry-After", str(int(wait) + 1))])
        nonce, expires = self.check_token(who.user, request.header(TOKEN_HEADER))
        body = self._body(request)
        req = self._requirement(body.get("doc_id"))
        version = body.get("version")
        if not isinstance(version, str) or not _VERSION_RE.match(version):
            raise ApiError("version: expected MAJOR.MINOR such as 2.0", HTTPStatus.BAD_REQUEST,
                           "bad_version")
        if version != req.version:
            raise ApiError(f"version {version} of {req.doc_id} is not the current effective "
                           f"version ({req.version}): reload the page",
                           HTTPStatus.CONFLICT, "not_current_version",
                           detail={"current_version": req.version})
        try:
            record, created = self.store.confirm(
                who.user, req.doc_id, req.version, req.covered, nonce, expires,
                self.store.hash_address(self._client_address(request)), _now())
        except TokenReplayed:
            raise ApiError(f"{TOKEN_HEADER} was used before: reload the page",
                           HTTPStatus.CONFLICT, "csrf_replayed") from None
        self._posts += 1
        if self._posts % 500 == 0:
            self.store.prune_nonces(_now())
        tz = self.manifests.current().timezone
        return Response.json({
            "created": created, "doc_id": req.doc_id, "version": req.version, "user": who.user,
            "confirmed": {"version": record.version,
                          "date": record.confirmed_at.astimezone(ZoneInfo(tz)).date().isoformat()}},
            HTTPStatus.CREATED if created else HTTPStatus.OK)

    def api_report(self, request: Request) -> Response:
        """The report page (HTML, or ``format=json|csv``), for the admin group only."""
        from kb.acks import report as rep

        who = self.identity(request)
        if who.groups is None or self.config.admin_group not in who.groups:
            raise ApiError(f"the acknowledgement report is for the group "
                           f"{self.config.admin_group}", HTTPStatus.FORBIDDEN, "not_admin")
        params = parse_qs(request.query_string)
        unknown = sorted(set(params) - {"doc_id", "format"})
        if unknown:
            raise ApiError(f"unknown parameter {unknown[0][:40]}; expected doc_id, format",
                           HTTPStatus.BAD_REQUEST, "bad_parameter")
        fmt = (params.get("format") or ["html"])[0]
        if fmt not in ("html", "json", "csv"):
            raise ApiError("format: expected html, json or csv", HTTPStatus.BAD_REQUEST,
                           "bad_parameter")
        manifest = self.manifests.current()
        reqs = list(manifest.documents.values())
        if "doc_id" in params:
            reqs = [self._requirement(params["doc_id"][0])]
        day = today_in(manifest.timezone)
        reports = rep.build(reqs, self.store, self.roster, day, manifest.timezone)
        if fmt == "json":
            return Response.json(rep.as_json(reports, day, manifest.timezone))
        if fmt == "csv":
            return Response(HTTPStatus.OK, "text/csv; charset=utf-8",
                            rep.as_csv(reports, manifest.timezone).encode("utf-8"),
                            [("Cache-Control", "no-store"),
                             ("Content-Disposition", 'attachment; filename="acks.csv"')])
        return Response(HTTPStatus.OK, "text/html; charset=utf-8",
                        rep.html(reports, day, manifest.timezone, who.user).encode("utf-8"),
                        [("Cache-Control", "no-store")], policy=rep.HTML_POLICY)


def config_from(secret_file: str | None, db: str | None, site_dir: Path, **options: Any
                ) -> AckConfig | None:
    """The configuration of ``kb serve``'s flags: None (no acknowledgement API) without a
    proxy secret (``--ack-proxy-secret-file`` or ``KB_ACK_PROXY_SECRET``)."""
    from kb.store.db import resolve_target

    secret = os.environ.get(PROXY_SECRET_ENV, "").strip()
    if secret_file:
        try:
            secret = Path(secret_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"--ack-proxy-secret-file {secret_file}: {exc.strerror}") from None
    if not secret:
        return None
    site_dir = Path(site_dir).resolve()
    target = resolve_target(site_dir.parent / f"{site_dir.name}-acks.db", db)
    return AckConfig(proxy_secret=secret, db=target, **options)


def mount(service, config: AckConfig) -> AckApi:  # noqa: ANN001 - search.service.SearchService
    """Add the acknowledgement routes to ``service`` (opens and migrates the store)."""
    from kb.store.db import open_engine
    from search.reload import served_root

    store = AckStore(open_engine(config.db, pool_size=config.pool_size))
    api = AckApi(config, lambda: served_root(service.site_dir), store)
    for route in api.routes():
        service.routes[route.path] = route
    return api


def add_serve_arguments(parser) -> None:  # noqa: ANN001 - argparse.ArgumentParser
    """``kb serve``'s options of the acknowledgement API (see deploy/README.md)."""
    group = parser.add_argument_group(
        "阅知确认 (acknowledgements)", "enabled by a proxy secret; identity from the proxy only")
    group.add_argument("--ack-proxy-secret-file", metavar="FILE",
                       help=f"file holding the secret nginx sends in X-KB-Proxy-Secret (or "
                            f"{PROXY_SECRET_ENV}); without it /api/ack does not exist")
    group.add_argument("--ack-db", metavar="URL",
                       help="database: postgresql://… or a SQLite file (default: KB_DB_URL, "
                            "else <SITE_DIR>-acks.db next to the site folder)")
    group.add_argument("--ack-user-header", default="X-Remote-User",
                       help="header with the signed-in user (default X-Remote-User)")
    group.add_argument("--ack-groups-header", default="X-Remote-Groups",
                       help="header with the user's groups, comma-separated (X-Remote-Groups)")
    group.add_argument("--ack-trusted-proxy", action="append", default=[], metavar="ADDR",
                       help="accept /api/ack only from this proxy address or network "
                            "(repeatable; default: any address that knows the secret)")
    group.add_argument("--ack-origin", action="append", default=[], metavar="URL",
                       help="the site's origin as browsers see it, e.g. "
                            "https://kb.infocenter.example (repeatable; default: the proxy's "
                            "X-KB-Origin header, else Host)")
    group.add_argument("--ack-admin-group", default="制度管理员",
                       help="group allowed to see /api/ack/report (default 制度管理员)")
    group.add_argument("--ack-roster", metavar="CSV",
                       help="staff roster (id,name,department,groups) for the report page")


def config_of_args(args, site_dir: Path, threads: int) -> AckConfig | None:  # noqa: ANN001
    """The :class:`AckConfig` of parsed ``kb serve`` arguments (None: not enabled)."""
    return config_from(
        args.ack_proxy_secret_file, args.ack_db, site_dir, user_header=args.ack_user_header,
        groups_header=args.ack_groups_header, trusted_proxies=tuple(args.ack_trusted_proxy),
        origins=tuple(o.rstrip("/") for o in args.ack_origin), admin_group=args.ack_admin_group,
        roster=args.ack_roster, pool_size=max(2, threads + 1))
