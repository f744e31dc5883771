"""``kb serve``'s HTTP server: waitress with limits, warm worker processes, JSON for every error.

:func:`serve` listens once, loads what every query needs (jieba, pypinyin) in the parent, then
forks the worker processes, which share that memory and the listening socket. Each worker opens
and warms up the index, starts its background index reloader and only then accepts
connections: no request waits for a load. The parent prints its ``kb serve: http://…`` line when
every worker is ready. A worker stops when the parent does, even if the parent was killed
(it watches a pipe the parent holds open).

:class:`Limits` (documented in ``search/SERVICE.md``) protect the service from one client:

- ``connection_limit`` open connections per worker; when they are all taken, the longest-idle
  connections that have no request in progress are closed to make room (as nginx reuses idle
  keep-alive connections), so idle or half-open connections cannot starve ``/api/health``;
- ``channel_timeout``: an idle connection is closed after this many seconds;
- request headers (with the request line and query string) up to ``max_header_bytes``, bodies
  up to ``max_body_bytes``. What waitress refuses itself (too large, malformed) is answered
  with the service's JSON error shape and security headers, never waitress's plain text.
"""

from __future__ import annotations

import gc
import logging
import os
import resource
import select
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http import HTTPStatus

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher

from search.web import Response

log = logging.getLogger("mkdocs.plugins.kb.search.service")

#: seconds the parent waits for the other workers before it serves alone
READY_SECONDS = 300
#: seconds a connection answered with an error keeps reading what the client still sends
LINGER_SECONDS = 2.0
#: JSON error codes of the HTTP errors waitress raises before the application runs
_ERROR_CODES = {400: "bad_request", 413: "too_large", 431: "too_long", 501: "not_implemented"}


@dataclass(frozen=True)
class Limits:
    """What one worker process accepts (see the module docstring and search/SERVICE.md)."""

    threads: int = 4  # requests answered at once
    connection_limit: int = 1000  # open connections; beyond, the longest-idle are closed
    channel_timeout: int = 30  # seconds before an idle connection is closed
    cleanup_interval: int = 5  # seconds between two sweeps for idle connections
    max_header_bytes: int = 32 * 1024  # request line, query string and headers
    max_body_bytes: int = 1 << 20  # request body
    backlog: int = 1024  # connections the kernel queues before a worker accepts them

    def adjustments(self, sock: socket.socket) -> Adjustments:
        """waitress's settings for one worker serving ``sock``."""
        return Adjustments(
            sockets=[sock], threads=max(1, self.threads), ident="kb",
            connection_limit=self.connection_limit, channel_timeout=self.channel_timeout,
            cleanup_interval=self.cleanup_interval, backlog=self.backlog,
            max_request_header_size=self.max_header_bytes,
            max_request_body_size=self.max_body_bytes,
            asyncore_use_poll=True,  # select() cannot watch descriptors past 1023
            clear_untrusted_proxy_headers=True)

    def describe(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in asdict(self).items())


class JsonErrorTask(ErrorTask):
    """waitress's answer to a request it refused itself, in the service's JSON error shape."""

    def execute(self) -> None:
        self.channel.linger = True
        error = self.request.error
        status = HTTPStatus(error.code)
        code = _ERROR_CODES.get(error.code, "internal_error" if error.code >= 500 else
                                "bad_request")
        response = Response.error(status, code, f"{error.reason}: {error.body}")
        self.status = f"{status.value} {status.phrase}"
        self.response_headers.extend(h for h in response.header_list()
                                     if h[0] != "Content-Length")
        self.set_close_on_finish()
        self.content_length = len(response.body)
        self.write(response.body)


class Channel(HTTPChannel):
    """A connection whose protocol errors are answered by :class:`JsonErrorTask`.

    After such an answer the client may still be sending (the rest of an oversized request):
    closing a socket with unread input resets the connection, which can destroy the answer
    before the client reads it. So the channel first closes its sending side and reads and
    discards for up to :data:`LINGER_SECONDS` (as nginx's ``lingering_close``).
    """

    error_task_class = JsonErrorTask
    linger = False  # set by JsonErrorTask: close gently
    linger_until = 0.0  # draining input until the client's EOF or this time

    def handle_close(self) -> None:
        if self.linger and not self.linger_until and self.connected:
            try:
                self.socket.shutdown(socket.SHUT_WR)
            except OSError:
                super().handle_close()
                return
            self.linger_until = time.monotonic() + LINGER_SECONDS
            self.will_close = self.close_when_flushed = False
            return
        super().handle_close()

    def readable(self) -> bool:
        return bool(self.linger_until) or super().readable()

    def writable(self) -> bool:
        if self.linger_until:
            return time.monotonic() > self.linger_until  # then handle_write closes
        return super().writable()

    def handle_read(self) -> None:
        if not self.linger_until:
            super().handle_read()
            return
        try:
            data = self.socket.recv(65536)  # not self.recv: it closes at EOF by itself
        except OSError:
            data = b""
        if not data or time.monotonic() > self.linger_until:
            super().handle_close()

    def handle_write(self) -> None:
        if self.linger_until:
            super().handle_close()
            return
        super().handle_write()


class Server(TcpWSGIServer):
    """waitress's TCP server that makes room for new connections by closing idle ones."""

    channel_class = Channel
    _warned = 0.0

    def readable(self) -> bool:
        if self.accepting and len(self._map) >= self.adj.connection_limit:
            self.close_idle(max(1, self.adj.connection_limit // 20))
        return super().readable()

    def close_idle(self, count: int) -> int:
        """Close up to ``count`` connections with no request in progress, longest idle first."""
        idle = [c for c in self.active_channels.values()
                if not c.requests and not c.total_outbufs_len and not c.will_close]
        idle.sort(key=lambda c: c.last_activity)
        for channel in idle[:count]:
            channel.will_close = True
        now = time.monotonic()
        if idle and now - self._warned > 60:
            self._warned = now
            self.logger.warning("connection limit %d reached: closing idle connections "
                                "(logged once a minute)", self.adj.connection_limit)
        return min(count, len(idle))


def make_server(app: Callable, sock: socket.socket, limits: Limits) -> Server:
    """A waitress server for ``app`` on the listening socket ``sock``."""
    adj = limits.adjustments(sock)
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    return Server(app, map={}, _sock=sock, dispatcher=dispatcher, adj=adj, bind_socket=False,
                  sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()))


def listen(host: str, port: int, backlog: int) -> socket.socket:
    """The listening socket every worker shares."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=backlog)


def raise_file_limit(limits: Limits) -> Limits:
    """Room for ``connection_limit`` connections: the soft descriptor limit raised toward the
    hard one; the connection limit lowered (with a warning) if the hard limit is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = limits.connection_limit + 100  # index files, log, pipes
    if soft < want and (hard == resource.RLIM_INFINITY or soft < hard):
        soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft < want:
        lowered = max(10, soft - 100)
        log.warning("open-file limit %d: connection limit lowered from %d to %d", soft,
                    limits.connection_limit, lowered)
        limits = Limits(**{**asdict(limits), "connection_limit": lowered})
    return limits


# --------------------------------------------------------------------------- processes


def _log_format(worker: int) -> None:
    logging.basicConfig(level=logging.INFO, force=True,
                        format=f"%(asctime)s %(levelname)s [worker {worker}] %(message)s")


def _follow_parent(lifeline: int) -> None:
    """Stop this worker when the parent's end of ``lifeline`` closes (the parent ended)."""
    def wait() -> None:
        while os.read(lifeline, 1):
            pass
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=wait, daemon=True, name="kb-follow-parent").start()


def _run_worker(worker: int, make_app: Callable[[], object], sock: socket.socket,
                limits: Limits, ready: Callable[[object], None]) -> None:
    """Open and warm the app (index, reloader), report ready, then accept connections."""
    started = time.perf_counter()
    app = make_app()
    app.worker = worker  # type: ignore[attr-defined]
    app.holder.watch()  # type: ignore[attr-defined]
    gen = app.holder.current  # type: ignore[attr-defined]
    log.info("ready in %.2f s: index %s (%d sections), pid %d", time.perf_counter() - started,
             gen.build_id or "(none)", gen.documents, os.getpid())
    server = make_server(app, sock, limits)
    ready(app)
    try:
        server.run()
    finally:
        server.close()
        app.close()  # type: ignore[attr-defined]


def serve(make_app: Callable[[], object], sock: socket.socket, workers: int, limits: Limits,
          announce: Callable[[str], None] = print) -> int:
    """Run ``workers`` processes answering ``make_app()`` on the listening ``sock`` (see
    :func:`listen`) until SIGTERM or ^C."""
    from search.service_backend import warm_up_process

    _log_format(0)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" under load
    limits = raise_file_limit(limits)
    warm_up_process()  # before fork: the workers share jieba's and pypinyin's memory
    gc.freeze()  # and the collector does not copy those pages into every worker
    workers = max(1, workers) if hasattr(os, "fork") else 1
    ready_r, ready_w = os.pipe()
    lifeline_r, lifeline_w = os.pipe()
    children: list[int] = []
    for worker in range(1, workers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.close(lifeline_w)
                os.close(ready_r)
                _log_format(worker)
                _follow_parent(lifeline_r)
                _run_worker(worker, make_app, sock, limits,
                            lambda app: (os.write(ready_w, b"."), os.close(ready_w)))
            except KeyboardInterrupt:
                pass
            except BaseException:  # noqa: BLE001 - report, then leave without the parent's code
                log.exception("worker %d failed", worker)
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    os.close(ready_w)
    os.close(lifeline_r)

    def announce_ready(app) -> None:
        waited, deadline = 0, time.monotonic() + READY_SECONDS
        while waited < len(children):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([ready_r], [], [], left)[0]:
                log.warning("serving without the workers not ready after %d s", READY_SECONDS)
                break
            got = os.read(ready_r, len(children) - waited)
            if not got:  # a worker died before it was ready
                break
            waited += len(got)
        os.close(ready_r)
        gen = app.holder.current
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        announce(f"kb serve: http://{shown}:{bound_port}/  site {gen.root}  index "
                 f"{gen.build_id or '(none)'} ({gen.documents} sections)  workers "
                 f"{1 + waited} of {workers} ready x {limits.threads} threads")
        announce(f"kb serve: limits per worker: {limits.describe()}")
        if app.search_log.path:
            announce(f"kb serve: search log {app.search_log.path} "
                     f"({app.search_log.rotation.describe()})")

    signal.signal(signal.SIGTERM, _terminate)
    try:
        _run_worker(0, make_app, sock, limits, announce_ready)
    except KeyboardInterrupt:
        pass
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except OSError:
                pass
        os.close(lifeline_w)
    return 0


def _terminate(signum, frame):  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt

