"""``kb serve [SITE_DIR] [--host 127.0.0.1] [--port 8000] [--threads N]``: serve a built site.

Runs the search service (:func:`search.service.create_app`: static files of the site, the
search API, security headers, live index reload) under waitress, a production WSGI server.
``SITE_DIR`` may be a built site or a publish folder whose ``current`` symlink points at the
live release; the link is followed on every request, so a publish or rollback switches what is
served without a restart.
"""

from __future__ import annotations

import argparse
import logging
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
    parser.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    parser.add_argument("--log", dest="search_log", default="",
                        help="search log file (default: <SITE_DIR>-searches.jsonl next to the "
                             "site folder); 'off' disables it")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from waitress.server import create_server

    from search.service import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" under load
    site = Path(args.site_dir)
    if not site.is_dir():
        print(f"kb serve: site folder not found: {site} (build it first: make build)",
              file=sys.stderr)
        return 2
    log_path = None if args.search_log == "off" else args.search_log
    app = create_app(site, log_path=log_path)
    try:
        server = create_server(app, host=args.host, port=args.port,
                               threads=max(1, args.threads), ident="kb",
                               clear_untrusted_proxy_headers=True, channel_timeout=30,
                               connection_limit=200)
    except OSError as exc:
        app.close()
        print(f"kb serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    gen = app.holder.current
    host = getattr(server, "effective_host", args.host)
    port = getattr(server, "effective_port", args.port)
    print(f"kb serve: http://{host}:{port}/  site {gen.root}  index "
          f"{gen.build_id or '(none)'} ({gen.documents} sections)", flush=True)
    if app.search_log.path:
        print(f"kb serve: search log {app.search_log.path}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        app.close()
    return 0
