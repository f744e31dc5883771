"""The search service: a plain WSGI application serving a built site and its search API.

``create_app(site_dir)`` returns the application; ``kb serve`` runs it with waitress
(:mod:`search.server`), and any WSGI server (gunicorn, uWSGI, waitress behind nginx) can run it
too::

    from search.service import create_app
    application = create_app("/srv/kb/site")

Routes (:attr:`SearchService.routes`; a handler takes a :class:`~search.web.Request` and returns
a :class:`~search.web.Response`):

``GET /api/search?q=&type=&tag=&status=&archived=&page=&size=&live=``
    JSON ``{query, total, took_ms, page, size, hits, facets, suggestion, partial, build_id}``
    (``partial``: ``{words, missing, found}`` when no page matched them all, else null).
``GET /api/health``
    JSON ``{status, build_id, documents, site, worker, warm}``.
routes added by ``mounts``
    e.g. ``/api/feedback`` (:mod:`kb.feedback`: 本页有帮助吗？) and ``/api/ack`` (:mod:`kb.acks.web`:
    阅知确认) of ``kb serve``; this module knows none.
``GET`` anything else
    the site's static files (see :mod:`search.static` for what is refused), directory index
    pages, the site's ``404.html`` for what does not exist.

Parameters are declared and parsed in :mod:`search.params`. Errors are JSON
``{"error": code, "message": text}`` with a 4xx status; an unexpected fault is logged with its
traceback and answered with a bare 500 JSON, never the traceback.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

from search import static
from search.csp import SitePolicy
from search.params import HEALTH_PARAMS, SEARCH_PARAMS, parse_params
from search.reload import IndexHolder, served_root
from search.searchlog import NO_ROTATION, Rotation, SearchLog, default_log_path, normalize_query
from search.web import ApiError, Request, Response, Route, StartResponse

log = logging.getLogger("mkdocs.plugins.kb.search.service")

#: methods of the static site
STATIC_METHODS = ("GET", "HEAD")


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
                 searcher: Callable[..., dict], is_warm: Callable[[], bool] = lambda: True,
                 reload_interval: float = 1.0, cache_size: int = 1024,
                 log_rotation: Rotation = NO_ROTATION) -> None:
        self.site_dir = Path(site_dir)
        self.holder = IndexHolder(self.site_dir, opener, interval=reload_interval)
        self.search = searcher
        self.is_warm = is_warm
        self.search_log = SearchLog(log_path, log_rotation)
        self.policy = SitePolicy()
        self.cache = ResultCache(cache_size)
        self.worker = 0  # which worker process of ``kb serve`` this is (for /api/health)
        self.mounted: list[Any] = []  # parts of mounted features, closed with the service
        self.routes: dict[str, Route] = {route.path: route for route in (
            Route("/api/search", ("GET",), self.api_search),
            Route("/api/health", ("GET",), self.api_health),
        )}

    # ---------------------------------------------------------------- plumbing

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        request = Request.of(environ)
        return self.respond(request).send(environ, start_response)

    def respond(self, request: Request) -> Response:
        """The answer to one request; client errors as JSON, faults as a bare 500."""
        try:
            return self._route(request)
        except ApiError as exc:
            return exc.response()
        except Exception:  # noqa: BLE001 - the client never sees a traceback
            log.exception("error answering %s %s", request.method, request.environ.get("PATH_INFO"))
            return Response.error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error",
                                  "the server could not answer this request")

    def _route(self, request: Request) -> Response:
        path = request.path
        if path is not None and (path == "/api" or path.startswith("/api/")):
            route = self.routes.get(path)
            if route is None:
                raise ApiError("no such API endpoint", HTTPStatus.NOT_FOUND, "not_found")
            _allow(request, route.methods, route.allow())
            return route.handler(request)
        _allow(request, STATIC_METHODS, ", ".join(STATIC_METHODS))
        return self.static(request)

    # ---------------------------------------------------------------- API

    def api_health(self, request: Request) -> Response:
        """Build id and size of the served index, this worker, whether it is warm."""
        parse_params(request.query_string, HEALTH_PARAMS)
        self.holder.watch()
        gen = self.holder.current
        ready = gen.engine is not None
        data = {"status": "ok" if ready else "no_index", "build_id": gen.build_id,
                "documents": gen.documents, "site": os.path.basename(gen.root),
                "worker": self.worker, "warm": ready and self.is_warm(),
                # the APIs this server answers (pages ask only those: no 404 in the console)
                "apis": sorted(path[len("/api/"):] for path in self.routes)}
        if not ready:
            data["message"] = self.holder.error
        return Response.json(data, HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE)

    def api_search(self, request: Request) -> Response:
        """One page of results for ``q`` with the filters; logged in the search log."""
        params = parse_params(request.query_string, SEARCH_PARAMS)
        started = time.perf_counter()
        try:
            result, build_id = self._search_current(params)
        except ApiError:
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
        return Response.json({
            "query": params["q"], "total": result["total"], "took_ms": took_ms,
            "page": params["page"], "size": params["size"], "hits": result["hits"],
            "facets": result["facets"], "suggestion": result.get("suggestion"),
            "partial": result.get("partial"), "build_id": build_id})

    def _search_current(self, params: dict[str, Any]) -> tuple[dict, str | None]:
        with self.holder.acquire() as gen:
            if gen.engine is None:
                raise ApiError(f"search is not available: {self.holder.error}",
                               HTTPStatus.SERVICE_UNAVAILABLE, "no_index")
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

    def static(self, request: Request) -> Response:
        """A file of the served site, a redirect to add a slash, or the site's 404 page."""
        root = served_root(self.site_dir)
        path = request.path
        resolved = static.resolve(root, path) if path is not None else None
        if resolved is None:
            page = os.path.join(root, "404.html")
            if os.path.isfile(page):
                return self._file(page, "/404.html", HTTPStatus.NOT_FOUND, request, root)
            raise ApiError("not found", HTTPStatus.NOT_FOUND, "not_found")
        if resolved.redirect is not None:
            location = quote(resolved.redirect, safe="/")
            if request.query_string:
                location += "?" + request.query_string
            return Response.redirect(location)
        return self._file(resolved.file, path or "/", HTTPStatus.OK, request, root)

    def _file(self, file: str, url_path: str, status: HTTPStatus, request: Request,
              root: str) -> Response:
        info = static.FileInfo.of(file)
        ctype = static.content_type(file)
        policy = self.policy.for_root(root)  # the build's policy, the same for every file
        headers = [("Last-Modified", info.last_modified()), ("ETag", info.etag),
                   ("Cache-Control", static.cache_control(url_path))]
        if status == HTTPStatus.OK and info.not_modified(request.environ):
            return Response(HTTPStatus.NOT_MODIFIED, ctype, b"", headers, policy)
        body = b"" if request.method == "HEAD" else open(file, "rb")  # noqa: SIM115 - streamed
        return Response(status, ctype, body, headers, policy, length=info.size)

    def mount(self, routes: Iterable[Route]) -> None:
        """Add endpoints of other features (feedback, …) to the route table."""
        self.routes.update({route.path: route for route in routes})

    def close(self) -> None:
        """Close the index, the search log and what was mounted (:attr:`mounted`)."""
        self.holder.close()
        self.search_log.close()
        for part in self.mounted:
            part.close()


def _allow(request: Request, methods: tuple[str, ...], allow: str) -> None:
    """Refuse a method the endpoint does not answer (405 with ``Allow``)."""
    if request.method in methods or (request.method == "HEAD" and "GET" in methods):
        return
    raise ApiError(f"method {request.method[:20]} not allowed; use {allow}",
                   HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", [("Allow", allow)])


def create_app(site_dir: str | os.PathLike[str], *, log_path: str | os.PathLike[str] | None = "",
               reload_interval: float = 1.0, opener: Callable[[Path], Any] | None = None,
               searcher: Callable[..., dict] | None = None, cache_size: int = 1024,
               log_rotation: Rotation = NO_ROTATION,
               mounts: Iterable[Callable[[SearchService], Any]] = ()) -> SearchService:
    """The WSGI application serving ``site_dir`` and its search index (opened and warmed up
    before this returns).

    ``log_path``: the search log file; ``""`` (default) puts it next to the site folder
    (``<site>-searches.jsonl``), ``None`` turns logging off; ``log_rotation`` when it moves to a
    new file (:class:`search.searchlog.Rotation`). ``reload_interval``: seconds between two
    checks for a replaced index (in a background thread). ``cache_size``: answers kept per
    index build for repeated queries (0: none). ``opener``/``searcher`` default to the search
    engine (:mod:`search.service_backend`). ``mounts``: functions called with the application
    that add routes to :attr:`SearchService.routes` and return a part to close with it (``kb
    serve`` mounts the acknowledgement API this way, :func:`kb.acks.web.mount`).
    """
    site = Path(site_dir).resolve()
    if not site.is_dir():
        raise FileNotFoundError(f"site folder not found: {site}")
    from search import service_backend as engine

    path = default_log_path(site) if log_path == "" else (Path(log_path) if log_path else None)
    app = SearchService(site, log_path=path, opener=opener or engine.open_engine,
                        searcher=searcher or engine.run_search, is_warm=engine.process_is_warm,
                        reload_interval=reload_interval, cache_size=cache_size,
                        log_rotation=log_rotation)
    app.mounted = [mount(app) for mount in mounts]
    return app
