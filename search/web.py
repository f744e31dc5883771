"""HTTP plumbing of the search service: requests, responses and routes as small values.

A handler takes a :class:`Request` and returns a :class:`Response`; only :meth:`Response.send`
talks WSGI. Client errors are raised as :class:`ApiError` anywhere below a handler and become a
JSON answer ``{"error": code, "message": text}``. Status lines come from :class:`http.HTTPStatus`.

Adding an endpoint is one entry in the service's route table::

    Route("/api/feedback", ("POST",), self.api_feedback)   # handler(request) -> Response
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, BinaryIO

from search.csp import API_POLICY, BASE_HEADERS
from search.static import decode_path_info

StartResponse = Callable[..., Any]
#: headers every JSON answer carries besides the security headers
JSON_TYPE = "application/json; charset=utf-8"
FILE_CHUNK = 65536


class ApiError(Exception):
    """A client error, answered as JSON ``{"error": code, "message": message}``."""

    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST,
                 code: str = "bad_request", headers: Sequence[tuple[str, str]] = (),
                 detail: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.code, self.headers = message, status, code, headers
        self.detail = detail or {}

    def response(self) -> Response:
        return Response.error(self.status, self.code, self.message, self.headers, self.detail)


@dataclass(frozen=True)
class Request:
    """What a handler needs of the WSGI environ: method, decoded path, raw query string."""

    method: str
    path: str | None  # None when the path is not UTF-8
    query_string: str  # as the server passed it (latin-1 of the raw bytes)
    environ: dict = field(repr=False)

    @classmethod
    def of(cls, environ: dict) -> Request:
        return cls(environ.get("REQUEST_METHOD", "GET").upper(),
                   decode_path_info(environ.get("PATH_INFO", "") or "/"),
                   environ.get("QUERY_STRING", ""), environ)

    def header(self, name: str) -> str | None:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"))


@dataclass
class Response:
    """Status, headers and a body: bytes, or an open file streamed by the server."""

    status: HTTPStatus
    content_type: str
    body: bytes | BinaryIO = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    policy: str = API_POLICY  # Content-Security-Policy
    length: int | None = None  # Content-Length when not len(body): a file, a HEAD answer

    @classmethod
    def json(cls, data: object, status: HTTPStatus = HTTPStatus.OK,
             headers: Iterable[tuple[str, str]] = ()) -> Response:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status, JSON_TYPE, body, [("Cache-Control", "no-store"), *headers])

    @classmethod
    def error(cls, status: HTTPStatus, code: str, message: str,
              headers: Iterable[tuple[str, str]] = (),
              detail: dict[str, object] | None = None) -> Response:
        """``{"error": code, "message": message, **detail}`` with ``status``."""
        return cls.json({"error": code, "message": message, **(detail or {})}, status, headers)

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(HTTPStatus.MOVED_PERMANENTLY, "text/plain; charset=utf-8", b"",
                   [("Location", location)])

    def header_list(self) -> list[tuple[str, str]]:
        """Every header of the answer: content, security, then the response's own."""
        out = [("Content-Type", self.content_type)]
        if self.status != HTTPStatus.NOT_MODIFIED:
            size = self.length if self.length is not None else len(self.body)  # type: ignore[arg-type]
            out.append(("Content-Length", str(size)))
        out += [("Content-Security-Policy", self.policy), *BASE_HEADERS, *self.headers]
        return out

    def send(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        """Start the WSGI response; the body iterable (empty for HEAD and 304)."""
        start_response(f"{self.status.value} {self.status.phrase}", self.header_list())
        body = self.body
        if environ.get("REQUEST_METHOD") == "HEAD" or self.status == HTTPStatus.NOT_MODIFIED:
            if not isinstance(body, bytes):
                body.close()
            return []
        if isinstance(body, bytes):
            return [body]
        wrapper = environ.get("wsgi.file_wrapper")
        return wrapper(body, FILE_CHUNK) if wrapper is not None else _iter_file(body)


def _iter_file(fh: BinaryIO) -> Iterable[bytes]:
    with fh:
        while chunk := fh.read(FILE_CHUNK):
            yield chunk


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    """One endpoint: its exact path, the methods it answers and its handler."""

    path: str
    methods: tuple[str, ...]
    handler: Handler

    def allow(self) -> str:
        """The ``Allow`` header: the route's methods, HEAD with GET."""
        methods = list(self.methods) + (["HEAD"] if "GET" in self.methods else [])
        return ", ".join(dict.fromkeys(methods))
