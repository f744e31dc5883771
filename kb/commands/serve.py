"""``kb serve [SITE_DIR] [--host 127.0.0.1] [--port 8000] [--threads N] [--workers N]``.

Serves a built site with the search service (:func:`search.service.create_app`: static files,
the search API, security headers, live index reload) under waitress, a production WSGI server.
``SITE_DIR`` may be a built site or a publish folder whose ``current`` symlink points at the
live release; the link is followed on every request, so a publish or rollback switches what is
served without a restart.

``--workers N`` (Unix) forks N processes that share one listening socket, each with its own
threads and its own open index: Python runs one thread at a time per process, so a second
process is what uses a second core. Each worker reloads a replaced index by itself, and dies
with the first process (:func:`kb.workers.die_with_parent`), even when that one is SIGKILLed.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "serve", help="serve a built site with its search API (waitress)",
        description="Serve the built site SITE_DIR (or its `current` release) with the search "
                    "API /api/search and /api/health. Example: kb serve site --port 8000")
    parser.add_argument("site_dir", nargs="?", default="site", help="built site (default: site)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes sharing the port (default: 2 on a multi-core host)")
    parser.add_argument("--log", dest="search_log", default="",
                        help="search log file (default: <SITE_DIR>-searches.jsonl next to the "
                             "site folder); 'off' disables it")
    parser.add_argument("--cache", type=int, default=1024,
                        help="answers of repeated queries kept per index build (0: none)")
    parser.set_defaults(func=run)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=1024)


def _make_app(args: argparse.Namespace):
    from search.service import create_app

    log_path = None if args.search_log == "off" else args.search_log
    return create_app(Path(args.site_dir), log_path=log_path, cache_size=max(0, args.cache))


def _serve(app, sock: socket.socket, threads: int) -> None:
    from waitress.server import create_server

    server = create_server(app, sockets=[sock], threads=max(1, threads), ident="kb",
                           clear_untrusted_proxy_headers=True, channel_timeout=30,
                           connection_limit=500)
    try:
        server.run()
    finally:
        server.close()
        app.close()


def _terminate(signum, frame):  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    from kb.workers import die_with_parent

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" under load
    site = Path(args.site_dir)
    if not site.is_dir():
        print(f"kb serve: site folder not found: {site} (build it first: make build)",
              file=sys.stderr)
        return 2
    try:
        sock = _listen(args.host, args.port)
    except OSError as exc:
        print(f"kb serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    workers = max(1, args.workers) if hasattr(os, "fork") else 1
    children: list[int] = []
    parent = os.getpid()
    for _ in range(workers - 1):  # fork before any thread or index exists
        pid = os.fork()
        if pid == 0:
            try:
                die_with_parent(parent)  # a SIGKILLed kb serve leaves no worker serving
                _serve(_make_app(args), sock, args.threads)
            except KeyboardInterrupt:
                pass
            finally:
                os._exit(0)
        children.append(pid)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app = _make_app(args)
        gen = app.holder.current
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"kb serve: http://{shown}:{port}/  site {gen.root}  index "
              f"{gen.build_id or '(none)'} ({gen.documents} sections)  "
              f"workers {workers} x {args.threads} threads", flush=True)
        if app.search_log.path:
            print(f"kb serve: search log {app.search_log.path}", flush=True)
        _serve(app, sock, args.threads)
    except KeyboardInterrupt:
        pass
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except OSError:
                pass
    return 0
