"""``kb serve [SITE_DIR] [--host 127.0.0.1] [--port 8000] [--workers N] [--threads N] …``.

Serves a built site with the search service (:func:`search.service.create_app`: static files,
the search API, security headers, live index reload) under waitress, a production WSGI server
(:mod:`search.server`: worker processes, limits, warm-up). ``SITE_DIR`` may be a built site or a
publish folder whose ``current`` symlink points at the live release; the link is followed, so a
publish or rollback switches what is served without a restart.
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from search.server import Limits

    defaults = Limits()
    parser = subparsers.add_parser(
        "serve", help="serve a built site with its search API (waitress)",
        description="Serve the built site SITE_DIR (or its `current` release) with the search "
                    "API /api/search and /api/health. Example: kb serve site --port 8000")
    parser.add_argument("site_dir", nargs="?", default="site", help="built site (default: site)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes sharing the port (default: 2 on a multi-core host)")
    parser.add_argument("--threads", type=int, default=defaults.threads,
                        help=f"threads per worker (default {defaults.threads})")
    parser.add_argument("--connection-limit", type=int, default=defaults.connection_limit,
                        help="open connections per worker; beyond, the longest-idle ones are "
                             f"closed (default {defaults.connection_limit})")
    parser.add_argument("--idle-timeout", type=int, default=defaults.channel_timeout,
                        help="seconds before an idle connection is closed "
                             f"(default {defaults.channel_timeout})")
    parser.add_argument("--log", dest="search_log", default="",
                        help="search log file (default: <SITE_DIR>-searches.jsonl next to the "
                             "site folder); 'off' disables it")
    parser.add_argument("--log-rotate", default="daily",
                        help="start a new search log file: 'daily', at a size ('10M'), or "
                             "'off' (default: daily)")
    parser.add_argument("--log-keep", type=int, default=14,
                        help="rotated search log files kept (default 14)")
    parser.add_argument("--feedback", default="",
                        help="feedback database of the '本页有帮助吗？' widget (default: "
                             "<SITE_DIR>-feedback.sqlite3 next to the site folder); 'off' "
                             "disables /api/feedback and the widget")
    parser.add_argument("--user-header", default=None,
                        help="a header your authenticating proxy sets to the reader's name "
                             "(e.g. X-Remote-User); without it feedback is anonymous")
    parser.add_argument("--cache", type=int, default=1024,
                        help="answers of repeated queries kept per index build (0: none)")
    from kb.acks.web import add_serve_arguments

    add_serve_arguments(parser)
    parser.set_defaults(func=run)


def _make_app(args: argparse.Namespace, rotation, acks=None):  # acks: kb.acks.web.AckConfig
    from search.service import create_app

    log_path = None if args.search_log == "off" else args.search_log
    return create_app(Path(args.site_dir), log_path=log_path, cache_size=max(0, args.cache),
                      log_rotation=rotation, mounts=_mounts(args, acks))


def run(args: argparse.Namespace) -> int:
    from search.searchlog import Rotation
    from search.server import Limits, listen, serve

    site = Path(args.site_dir)
    if not site.is_dir():
        print(f"kb serve: site folder not found: {site} (build it first: make build)",
              file=sys.stderr)
        return 2
    try:
        rotation = Rotation.parse(args.log_rotate, args.log_keep)
        limits = Limits(threads=args.threads, connection_limit=args.connection_limit,
                        channel_timeout=args.idle_timeout)
        acks = _ack_config(args, site, limits.threads)
        if args.feedback != "off":  # created (WAL, schema) once, before the workers open it
            from kb.feedback.store import FeedbackStore, default_path

            FeedbackStore(Path(args.feedback) if args.feedback else default_path(site)).close()
    except ValueError as exc:
        print(f"kb serve: {exc}", file=sys.stderr)
        return 2
    try:
        sock = listen(args.host, args.port, limits.backlog)
    except OSError as exc:
        print(f"kb serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    return serve(partial(_make_app, args, rotation, acks), sock, args.workers, limits,
                 announce=partial(print, flush=True))


def _mounts(args: argparse.Namespace, acks) -> list:
    """What ``kb serve`` adds to the search service: the feedback API (unless ``--feedback
    off``) and the acknowledgement API when enabled."""
    mounts = []
    if args.feedback != "off":
        from kb.feedback.api import mount as mount_feedback

        mounts.append(partial(mount_feedback, path=args.feedback,
                              identity_header=args.user_header))
    if acks is not None:
        from kb.acks.web import mount

        mounts.append(partial(mount, config=acks))
    return mounts


def _ack_config(args: argparse.Namespace, site: Path, threads: int):
    """The acknowledgement API's configuration (None: off); its store opened once here, so a
    bad database is reported before listening."""
    from kb.acks.records import AckStore
    from kb.acks.web import config_of_args
    from kb.store.db import StoreError, describe, open_engine

    acks = config_of_args(args, site, threads)
    if acks is None:
        return None
    if acks.roster:
        from kb.acks.report import RosterError, read_roster

        try:
            read_roster(acks.roster)
        except RosterError as exc:
            raise ValueError(f"--ack-roster {exc}") from None
    try:
        store = AckStore(open_engine(acks.db))
    except StoreError as exc:
        raise ValueError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - unreachable server, bad credentials, ...
        raise ValueError(f"acknowledgement store {describe(acks.db)}: "
                         f"{str(exc).splitlines()[0]}") from None
    print(f"kb serve: acknowledgements in {describe(acks.db)} (schema "
          f"{store.schema_version}, {store.count()} confirmations)", flush=True)
    store.close()
    return acks
