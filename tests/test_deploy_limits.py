"""The nginx limits of the deployment recipe (deploy/nginx/kb-limits*.conf) in a real nginx in
front of a real ``kb serve``: per-address API rate limit answered as JSON 429, static files not
limited, idle connections closed by ``client_header_timeout``.

The shipped values (20 requests/s, 10 s) are rewritten to 1 request/minute and 1 s here so the
mechanism shows within a test; the burst (40) is kept.
"""

from __future__ import annotations

import http.client
import json
import resource
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import build_env
from served import request, stop_processes, wait_until
from test_deploy import DEPLOY, _free_port, _nginx, _wait_http, nginx_config

LIMITS = DEPLOY / "nginx" / "kb-limits.conf"
SERVER_LIMITS = DEPLOY / "nginx" / "kb-limits-server.conf"
BURST = 40
IDLE = 1100


def test_shipped_limits_are_the_documented_ones() -> None:
    """The values SERVICE.md documents are the ones shipped."""
    limits = LIMITS.read_text(encoding="utf-8")
    server = SERVER_LIMITS.read_text(encoding="utf-8")
    assert "zone=kb_api_rate:10m rate=20r/s;" in limits
    assert f"limit_req zone=kb_api_rate burst={BURST} nodelay;" in server
    assert "limit_conn kb_api_conn 16;" in server
    assert "client_header_timeout 10s;" in server
    assert "include snippets/kb-limits-server.conf;" in (
        DEPLOY / "nginx" / "kb-internal.conf").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def proxied(demo_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nginx (shipped config, faster limits) in front of kb serve of the demo site."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4 * IDLE:
        if hard != resource.RLIM_INFINITY and hard < 4 * IDLE:
            pytest.skip(f"open-file limit {hard} is too low for {IDLE} connections")
        resource.setrlimit(resource.RLIMIT_NOFILE, (4 * IDLE, hard))
    base = tmp_path_factory.mktemp("limits")
    target = base / "srv"
    target.mkdir()
    (target / "current").symlink_to(demo_site)
    api_port, web_port = _free_port(), _free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "kb.cli", "serve", str(target), "--port", str(api_port),
         "--log", "off", "--workers", "1"], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env=build_env())
    work = base / "nginx"
    work.mkdir()
    conf = nginx_config(work, target, web_port, api_port)
    conf.write_text(conf.read_text(encoding="utf-8")
                    .replace("worker_connections 64;", f"worker_connections {4 * IDLE};"))
    rate = work / "kb-limits.conf"
    rate.write_text(rate.read_text(encoding="utf-8").replace("rate=20r/s", "rate=1r/m"))
    timeouts = work / "snippets" / "kb-limits-server.conf"
    timeouts.write_text(timeouts.read_text(encoding="utf-8")
                        .replace("client_header_timeout 10s;", "client_header_timeout 1s;"))
    nginx = subprocess.Popen(_nginx(conf), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    try:
        _wait_http(f"http://127.0.0.1:{api_port}/api/health")
        _wait_http(f"http://127.0.0.1:{web_port}/about/")
        yield f"http://127.0.0.1:{web_port}/"
    finally:
        stop_processes(nginx, serve)
        shutil.rmtree(work / "proxy", ignore_errors=True)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_idle_connections_are_closed_by_nginx(proxied: str) -> None:
    """1,100 idle connections to nginx: /api/health answers through it, and nginx closes the
    idle ones after client_header_timeout."""
    port = int(proxied.rsplit(":", 1)[1].strip("/"))
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(IDLE)]
    try:
        status, _, body = request(proxied, "/api/health", timeout=20)
        assert status == 200 and json.loads(body)["status"] == "ok"

        def closed() -> bool:
            for sock in socks:
                sock.settimeout(0.01)
                try:
                    if sock.recv(1) != b"":
                        return False
                except TimeoutError:
                    return False
                except OSError:
                    pass
            return True

        wait_until(closed, 60, "nginx closing the idle connections")
    finally:
        for sock in socks:
            sock.close()


def _get_from(source: str, url: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` from the client address ``source`` (another loopback address)."""
    port = int(url.rsplit(":", 1)[1].strip("/"))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_api_rate_limit_is_json_429_per_address(proxied: str) -> None:
    """One address: the burst is answered, then 429 with the API's JSON error, while another
    address is still answered; pages are not limited."""
    statuses = []
    for _ in range(BURST + 20):
        status, headers, body = _get_from("127.0.0.3", proxied, "/api/search?q=vpn")
        statuses.append(status)
        if status == 429:
            assert headers["content-type"] == "application/json"
            assert json.loads(body)["error"] == "too_many_requests"
            assert headers["retry-after"] == "1"
    assert statuses == [200] * (BURST + 1) + [429] * 19
    assert _get_from("127.0.0.4", proxied, "/api/search?q=vpn")[0] == 200
    assert all(_get_from("127.0.0.3", proxied, "/about/")[0] == 200 for _ in range(5))
