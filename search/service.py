"""The search service: a plain WSGI application serving a built site and its search API.

``create_app(site_dir)`` returns the application; ``kb serve`` runs it with waitress, and any
WSGI server (gunicorn, uWSGI, waitress behind nginx) can run it too::

    from search.service import create_app
    application = create_app("/srv/kb/site")

Routes (GET and HEAD only, anything else 405):

``/api/search?q=&type=&tag=&status=&archived=&page=&size=``
    JSON ``{query, total, took_ms, page, size, hits, facets, suggestion, build_id}``.
``/api/health``
    JSON ``{status, build_id, documents, site}``.
everything else
    the site's static files (see :mod:`search.static` for what is refused), directory index
    pages, the site's ``404.html`` for what does not exist.

Errors are JSON ``{"error": code, "message": text}`` with a 4xx status; an unexpected fault is
logged with its traceback and answered with a bare 500 JSON, never the traceback.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from search import static
from search.csp import API_POLICY, BASE_HEADERS, SitePolicy
from search.reload import IndexHolder, served_root
from search.searchlog import SearchLog, default_log_path, normalize_query

log = logging.getLogger("mkdocs.plugins.kb.search.service")

StartResponse = Callable[..., Any]
#: longest accepted query, in characters (the engine cuts there too)
MAX_QUERY_CHARS = 200
#: results per page: default and largest
DEFAULT_SIZE, MAX_SIZE = 10, 50
#: deepest page of results
MAX_PAGE = 100
#: longest accepted query string (all parameters), in bytes
MAX_QUERY_STRING = 4096
#: values of one filter parameter
MAX_FILTER_VALUES = 8
PARAMS = frozenset(("q", "type", "tag", "status", "archived", "page", "size", "live"))
_TRUE = frozenset(("1", "true", "yes", "on"))
_FALSE = frozenset(("0", "false", "no", "off", ""))
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab, newline: spaces


class BadRequest(Exception):
    """A client error: answered as JSON with ``status`` and ``message``."""

    def __init__(self, message: str, status: int = 400, code: str = "bad_request") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


# --------------------------------------------------------------------------- parameters


@lru_cache(maxsize=1)
def _known_values() -> tuple[frozenset[str], frozenset[str]]:
    """Content types and statuses of the content model (the filters' vocabularies)."""
    from kb.model import MODELS, Status

    return frozenset(MODELS), frozenset(s.value for s in Status)


def _int(name: str, raw: str, low: int, high: int) -> int:
    if not raw.isdigit() or len(raw) > 6:
        raise BadRequest(f"parameter {name!r} must be a whole number, got {raw[:20]!r}")
    value = int(raw)
    if not low <= value <= high:
        raise BadRequest(f"parameter {name!r} must be between {low} and {high}, got {value}")
    return value


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadRequest(f"parameter {name!r} must be 1/0 (true/false), got {raw[:20]!r}")


def parse_search_params(query_string: str) -> dict[str, Any]:
    """Validate the query string of ``/api/search``; raise :class:`BadRequest` when wrong."""
    if len(query_string) > MAX_QUERY_STRING:
        raise BadRequest("query string too long", status=414, code="too_long")
    try:
        pairs = parse_qsl(query_string, keep_blank_values=True, strict_parsing=False,
                          encoding="utf-8", errors="strict", max_num_fields=40)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"malformed query string: {exc}") from None
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        if name not in PARAMS:
            raise BadRequest(f"unknown parameter {name[:40]!r}; known: {', '.join(sorted(PARAMS))}")
        values.setdefault(name, []).append(value)
    for name in ("q", "archived", "page", "size", "live"):
        if len(values.get(name, [])) > 1:
            raise BadRequest(f"parameter {name!r} given more than once")
    raw_q = values.get("q", [""])[0]
    if _CONTROL.search(raw_q):
        raise BadRequest("the query contains control characters")
    q = " ".join(raw_q.split())
    if not q:
        raise BadRequest("empty query: give the words to search for in 'q'", code="empty_query")
    if len(q) > MAX_QUERY_CHARS:
        raise BadRequest(f"query too long: {len(q)} characters, at most {MAX_QUERY_CHARS}",
                         code="too_long")
    types, statuses = _known_values()
    out: dict[str, Any] = {"q": q, "type": [], "tag": [], "status": []}
    for name, vocabulary in (("type", types), ("status", statuses), ("tag", None)):
        given = [v.strip() for v in values.get(name, []) if v.strip()]
        if len(given) > MAX_FILTER_VALUES:
            raise BadRequest(f"parameter {name!r}: at most {MAX_FILTER_VALUES} values")
        for value in given:
            if vocabulary is not None and value not in vocabulary:
                raise BadRequest(f"parameter {name!r}: unknown value {value[:40]!r}; "
                                 f"expected one of {', '.join(sorted(vocabulary))}")
            if vocabulary is None and (len(value) > 50 or _CONTROL.search(value)):
                raise BadRequest(f"parameter {name!r}: a tag has at most 50 characters")
            if value not in out[name]:
                out[name].append(value)
    out["archived"] = _flag("archived", values.get("archived", ["0"])[0])
    out["live"] = _flag("live", values.get("live", ["0"])[0])
    out["page"] = _int("page", values.get("page", ["1"])[0], 1, MAX_PAGE)
    out["size"] = _int("size", values.get("size", [str(DEFAULT_SIZE)])[0], 1, MAX_SIZE)
    return out


# --------------------------------------------------------------------------- application


class ResultCache:
    """Answers of recent queries per index build (staff ask the same things); LRU, bounded."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple, dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> dict | None:
        if not self.size:
            return None
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple, value: dict) -> None:
        if not self.size:
            return
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class SearchService:
    """The WSGI application (callable); build it with :func:`create_app`."""

    def __init__(self, site_dir: Path, *, log_path: Path | None, opener: Callable[[Path], Any],
                 searcher: Callable[..., dict], reload_interval: float = 1.0,
                 cache_size: int = 1024) -> None:
        self.site_dir = Path(site_dir)
        self.holder = IndexHolder(self.site_dir, opener, interval=reload_interval)
        self.search = searcher
        self.search_log = SearchLog(log_path)
        self.policy = SitePolicy()
        self.cache = ResultCache(cache_size)

    # ---------------------------------------------------------------- plumbing

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        try:
            return self._dispatch(environ, start_response)
        except BadRequest as exc:
            return self._error(start_response, exc.status, exc.code, exc.message, environ)
        except Exception:  # noqa: BLE001 - the client never sees a traceback
            log.exception("error answering %s %s", environ.get("REQUEST_METHOD"),
                          environ.get("PATH_INFO"))
            return self._error(start_response, 500, "internal_error",
                               "the server could not answer this request", environ)

    def _headers(self, content_type: str, length: int, policy: str,
                 extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
        headers = [("Content-Type", content_type), ("Content-Length", str(length)),
                   ("Content-Security-Policy", policy), *BASE_HEADERS]
        headers.extend(extra)
        return headers

    def _json(self, start_response: StartResponse, status: int, data: object, environ: dict,
              extra: Iterable[tuple[str, str]] = ()) -> list[bytes]:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        start_response(_status_line(status), self._headers(
            "application/json; charset=utf-8", len(body), API_POLICY,
            [("Cache-Control", "no-store"), *extra]))
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    def _error(self, start_response: StartResponse, status: int, code: str, message: str,
               environ: dict, extra: Iterable[tuple[str, str]] = ()) -> list[bytes]:
        return self._json(start_response, status, {"error": code, "message": message},
                          environ, extra)

    def _dispatch(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        raw_path = environ.get("PATH_INFO", "") or "/"
        path = static.decode_path_info(raw_path)
        if method not in ("GET", "HEAD"):
            return self._error(start_response, 405, "method_not_allowed",
                               f"method {method[:20]} not allowed; use GET or HEAD", environ,
                               [("Allow", "GET, HEAD")])
        if path is not None and (path == "/api" or path.startswith("/api/")):
            if path == "/api/search":
                return self._api_search(environ, start_response)
            if path == "/api/health":
                return self._api_health(environ, start_response)
            return self._error(start_response, 404, "not_found", "no such API endpoint", environ)
        return self._static(path, environ, start_response)

    # ---------------------------------------------------------------- API

    def _api_health(self, environ: dict, start_response: StartResponse) -> list[bytes]:
        self.holder.check()
        gen = self.holder.current
        ready = gen.engine is not None
        data = {"status": "ok" if ready else "no_index", "build_id": gen.build_id,
                "documents": gen.documents, "site": os.path.basename(gen.root)}
        if not ready:
            data["message"] = self.holder.error
        return self._json(start_response, 200 if ready else 503, data, environ)

    def _api_search(self, environ: dict, start_response: StartResponse) -> list[bytes]:
        params = parse_search_params(environ.get("QUERY_STRING", ""))
        started = time.perf_counter()
        try:
            result, build_id = self._search_current(params)
        except BadRequest:
            raise
        except Exception:  # noqa: BLE001 - the index was replaced under this request: once more
            if not self.holder.is_stale(self.holder.current):
                raise
            log.info("search index changed during a query; answering from the new one")
            self.holder.reload_now()
            result, build_id = self._search_current(params)
        took_ms = round((time.perf_counter() - started) * 1000, 2)
        filters = {k: params[k] for k in ("type", "tag", "status") if params[k]}
        if params["archived"]:
            filters["archived"] = True
        self.search_log.record(params["q"], result["total"], took_ms,
                               "live" if params["live"] else "api", filters)
        data = {"query": params["q"], "total": result["total"], "took_ms": took_ms,
                "page": params["page"], "size": params["size"], "hits": result["hits"],
                "facets": result["facets"], "suggestion": result.get("suggestion"),
                "build_id": build_id}
        return self._json(start_response, 200, data, environ)

    def _search_current(self, params: dict[str, Any]) -> tuple[dict, str | None]:
        with self.holder.acquire() as gen:
            if gen.engine is None:
                raise BadRequest(f"search is not available: {self.holder.error}", status=503,
                                 code="no_index")
            key = (gen.build_id, normalize_query(params["q"]), tuple(sorted(params["type"])),
                   tuple(sorted(params["tag"])), tuple(sorted(params["status"])),
                   params["archived"], params["page"], params["size"])
            result = self.cache.get(key)
            if result is None:
                result = self.search(gen.engine, params["q"], types=params["type"],
                                     tags=params["tag"], statuses=params["status"],
                                     archived=params["archived"], page=params["page"],
                                     size=params["size"])
                self.cache.put(key, result)
            return result, gen.build_id

    # ---------------------------------------------------------------- static files

    def _static(self, path: str | None, environ: dict,
                start_response: StartResponse) -> Iterable[bytes]:
        root = served_root(self.site_dir)
        resolved = static.resolve(root, path) if path is not None else None
        if resolved is None:
            return self._not_found(root, environ, start_response)
        if resolved.redirect is not None:
            location = quote(resolved.redirect, safe="/")
            if environ.get("QUERY_STRING"):
                location += "?" + environ["QUERY_STRING"]
            body = b""
            start_response("301 Moved Permanently", self._headers(
                "text/plain; charset=utf-8", len(body), API_POLICY, [("Location", location)]))
            return [body]
        return self._send_file(resolved.file, path or "/", 200, environ, start_response, root)

    def _not_found(self, root: str, environ: dict,
                   start_response: StartResponse) -> Iterable[bytes]:
        page = os.path.join(root, "404.html")
        if os.path.isfile(page):
            return self._send_file(page, "/404.html", 404, environ, start_response, root)
        return self._error(start_response, 404, "not_found", "not found", environ)

    def _send_file(self, file: str, url_path: str, status: int, environ: dict,
                   start_response: StartResponse, root: str) -> Iterable[bytes]:
        info = static.FileInfo.of(file)
        ctype = static.content_type(file)
        policy = self.policy.for_root(root)  # the build's policy, the same for every file
        extra = [("Last-Modified", info.last_modified()), ("ETag", info.etag),
                 ("Cache-Control", static.cache_control(url_path))]
        if status == 200 and info.not_modified(environ):
            start_response("304 Not Modified", [(k, v) for k, v in self._headers(
                ctype, 0, policy, extra) if k != "Content-Length"])
            return []
        start_response(_status_line(status), self._headers(ctype, info.size, policy, extra))
        if environ.get("REQUEST_METHOD") == "HEAD":
            return []
        fh = open(file, "rb")  # noqa: SIM115 - closed by the server through the file wrapper
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is not None:
            return wrapper(fh, 65536)
        return _iter_file(fh)

    def close(self) -> None:
        """Close the index and the search log."""
        self.holder.close()
        self.search_log.close()


def _iter_file(fh) -> Iterable[bytes]:
    with fh:
        while chunk := fh.read(65536):
            yield chunk


_REASONS = {200: "OK", 301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request",
            404: "Not Found", 405: "Method Not Allowed", 414: "URI Too Long",
            500: "Internal Server Error", 503: "Service Unavailable"}


def _status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Error')}"


def create_app(site_dir: str | os.PathLike[str], *, log_path: str | os.PathLike[str] | None = "",
               reload_interval: float = 1.0, opener: Callable[[Path], Any] | None = None,
               searcher: Callable[..., dict] | None = None,
               cache_size: int = 1024) -> SearchService:
    """The WSGI application serving ``site_dir`` and its search index.

    ``log_path``: the search log file; ``""`` (default) puts it next to the site folder
    (``<site>-searches.jsonl``), ``None`` turns logging off. ``cache_size``: answers kept per
    index build for repeated queries (0: none). ``opener``/``searcher`` default to
    the search engine (:mod:`search.service_backend`).
    """
    site = Path(site_dir).resolve()
    if not site.is_dir():
        raise FileNotFoundError(f"site folder not found: {site}")
    if opener is None or searcher is None:
        from search import service_backend as engine

        opener = opener or engine.open_engine
        searcher = searcher or engine.run_search
    path = default_log_path(site) if log_path == "" else (Path(log_path) if log_path else None)
    return SearchService(site, log_path=path, opener=opener, searcher=searcher,
                         reload_interval=reload_interval, cache_size=cache_size)
