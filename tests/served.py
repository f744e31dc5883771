"""Helpers for the search-service tests: a real ``kb serve`` subprocess, raw HTTP requests, an
in-process waitress server, and waiting on an observable condition. Imported, not collected."""

from __future__ import annotations

import http.client
import json
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode, urlsplit

from conftest import ROOT, build_env

T = TypeVar("T")


class Served:
    """A running ``kb serve SITE --port 0 --log LOG [ARGS]``; ``base`` is its URL once every
    worker is ready. Its output (stdout and stderr) is kept line by line."""

    def __init__(self, site: Path, log: Path | str, *args: str) -> None:
        self.log = Path(log) if log != "off" else None
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kb.cli", "serve", str(site), "--port", "0",
             "--log", str(log), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=build_env(),
            cwd=ROOT)
        threading.Thread(target=self._drain, daemon=True).start()
        found = self.wait_for_line(r"kb serve: (http://127\.0\.0\.1:\d+/)", timeout=120)
        if found is None:
            self.stop()
            raise AssertionError("kb serve did not start:\n" + "".join(self.seen))
        self.base = found.group(1)

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for_line(self, pattern: str, timeout: float) -> re.Match[str] | None:
        """The first output line (seen before or arriving within ``timeout``) matching."""
        regex = re.compile(pattern)
        for line in self.seen:
            if m := regex.search(line):
                return m
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            self.seen.append(line)
            if m := regex.search(line):
                return m
        return None

    def output(self) -> str:
        """Every output line so far."""
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)

    def stop(self) -> None:
        stop_processes(self.proc)


def stop_processes(*procs: subprocess.Popen) -> None:
    """Terminate each process; kill it if it has not ended 10 s later."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def request(base: str, path: str, method: str = "GET", headers: dict[str, str] | None = None,
            timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Send ``path`` exactly as given (no client-side normalisation); status, headers, body."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def api(base: str, **params: object) -> tuple[int, dict]:
    """GET /api/search with ``params`` (lists repeat the parameter); status and JSON."""
    query = urlencode(params, doseq=True)
    status, headers, body = request(base, f"/api/search?{query}")
    assert headers["content-type"].startswith("application/json")
    return status, json.loads(body)


def health(base: str, timeout: float = 30) -> dict:
    """The JSON of /api/health (status 200 asserted)."""
    status, _, body = request(base, "/api/health", timeout=timeout)
    assert status == 200, body
    return json.loads(body)


@contextmanager
def serve_in_thread(app) -> Iterator[str]:
    """The WSGI app under waitress on a free loopback port, in this process."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}/"
    finally:  # closed from the server's own loop thread, which then ends
        from waitress import wasyncore

        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        app.close()


def wait_until(check: Callable[[], T], timeout: float, what: str) -> T:
    """Call ``check`` until it returns something true (returned); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
