"""``kb serve`` in operation (issue 16, item 7): idle connections, warm workers, the background
index reloader, and the search log's rotation — each against a real ``kb serve`` (or real
processes writing the log), waiting on observable conditions, never on reload constants."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ROOT, build_env
from served import Served, api, health, request, wait_until

#: idle connections one client opens (the issue's figure)
IDLE = 1100


@pytest.fixture(scope="module")
def site(demo_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo site (this module replaces its index)."""
    out = tmp_path_factory.mktemp("ops") / "site"
    shutil.copytree(demo_site, out, symlinks=True)
    return out


@pytest.fixture
def many_files() -> Iterator[None]:
    """Room for this process to hold :data:`IDLE` sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = IDLE + 500
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            pytest.skip(f"open-file limit {hard} is below {want}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _idle_connections(base: str, count: int) -> list[socket.socket]:
    parts = urlsplit(base)
    socks = []
    for _ in range(count):
        sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        socks.append(sock)
    return socks


def _closed_by_server(socks: list[socket.socket]) -> int:
    """How many of ``socks`` the server has closed (EOF or reset waiting to be read)."""
    closed = 0
    for sock in socks:
        sock.setblocking(False)
        try:
            if sock.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return closed


# --------------------------------------------------------------------------- connections


@pytest.mark.usefixtures("many_files")
@pytest.mark.parametrize("args", [(), ("--workers", "1", "--connection-limit", "200")],
                         ids=["defaults", "one-worker-200"])
def test_idle_connections_do_not_starve_health(site: Path, args: tuple[str, ...]) -> None:
    """1,100 idle connections from one client: /api/health still answers. With the defaults
    (2 workers x 1,000) there is room for them; past --connection-limit the longest-idle ones
    are closed to make room (before: 2 workers x 500 connections, and health timed out)."""
    server = Served(site, "off", *args)
    socks: list[socket.socket] = []
    try:
        socks = _idle_connections(server.base, IDLE)
        status, _, body = request(server.base, "/api/health", timeout=20)
        assert status == 200 and json.loads(body)["status"] == "ok"
        if args:  # 200 slots for 1,101 connections: at least 900 idle ones were closed
            closed = wait_until(lambda: _closed_by_server(socks) >= IDLE - 200, 30,
                                "idle connections closed by the server")
            assert closed
            assert "connection limit 200 reached: closing idle connections" in server.output()
    finally:
        for sock in socks:
            sock.close()
        server.stop()


# --------------------------------------------------------------------------- warm-up, reload


def test_workers_are_warm_before_the_first_request(site: Path) -> None:
    """Each worker has the index open and jieba and pypinyin loaded before it accepts a
    connection: the ready lines come before the URL line, and the very first requests (any
    worker) find it warm."""
    server = Served(site, "off", "--workers", "2")
    try:
        ready = [line for line in server.seen if " ready in " in line]
        assert [re.search(r"\[worker (\d)\]", line).group(1) for line in ready] in (
            ["0", "1"], ["1", "0"])
        url_line = next(i for i, line in enumerate(server.seen) if "kb serve: http://" in line)
        assert all(server.seen.index(line) < url_line for line in ready)
        answers: list[dict] = []

        def both_workers_seen() -> bool:
            with ThreadPoolExecutor(16) as pool:
                answers.extend(pool.map(lambda _: health(server.base), range(16)))
            return {a["worker"] for a in answers} == {0, 1}

        wait_until(both_workers_seen, 60, "answers from both workers")
        assert all(a["warm"] is True for a in answers), answers
        status, data = api(server.base, q="备分")  # a homophone typo: the pinyin path
        assert status == 200 and data["total"] > 0
    finally:
        server.stop()


def test_workers_end_when_the_parent_is_killed(site: Path) -> None:
    """kill -9 of kb serve's parent: its worker process ends too (it does not keep the port)."""
    server = Served(site, "off", "--workers", "2")
    try:
        ready = server.wait_for_line(r"\[worker 1\] ready in .* pid (\d+)", 5)
        assert ready, server.output()
        child = int(ready.group(1))
        os.kill(child, 0)  # running
        server.proc.kill()
        server.proc.wait()

        def gone() -> bool:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                return True
            return Path(f"/proc/{child}/status").read_text().count("zombie") > 0
        wait_until(gone, 30, f"worker {child} to end after its parent")
    finally:
        server.stop()


def _reindex(site: Path) -> str:
    """Index ``site`` again (as CI does); the new build id."""
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "index", str(site)], env=build_env(),
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((site / ".search-index" / "build.json").read_text())["build_id"]


def test_replaced_index_is_opened_before_any_request(site: Path) -> None:
    """A new index is opened by each worker's background reloader while no request arrives;
    the first request after the swap is answered from it (before: the first request only
    started the reload and was answered from the old build)."""
    server = Served(site, "off", "--workers", "2")
    try:
        old = health(server.base)["build_id"]
        page = site / "about" / "index.html"
        page.write_text(page.read_text(encoding="utf-8").replace("关于本站", "关于本站 热备验证"),
                        encoding="utf-8")
        new = _reindex(site)
        assert new != old
        for worker in (0, 1):
            found = server.wait_for_line(
                rf"\[worker {worker}\] .*search index {re.escape(new)} now serving", 60)
            assert found, server.output()
        status, data = api(server.base, q="热备验证")
        assert status == 200 and data["build_id"] == new and data["total"] >= 1
    finally:
        server.stop()


# --------------------------------------------------------------------------- search log

WRITER = """
import sys
from pathlib import Path
from search.searchlog import Rotation, SearchLog
log = SearchLog(Path(sys.argv[1]), Rotation(daily=False, max_bytes=int(sys.argv[2]), keep=10000))
for i in range(int(sys.argv[4])):
    log.record(f"writer{sys.argv[3]} query{i} " + "填充" * 10, i, 1.0)
log.close()
"""


def test_search_log_rotation_is_safe_across_processes(tmp_path: Path) -> None:
    """Four processes append 500 records each to one log rotating every 8 KB: every record
    is there exactly once, whole, and no file grew past the size."""
    path = tmp_path / "searches.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), "8192", str(n), "500"],
                              cwd=ROOT, env=build_env()) for n in range(4)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0, 0]
    files = sorted(tmp_path.glob("searches.jsonl*"))
    logs = [f for f in files if not f.name.endswith(".lock")]
    assert len(logs) > 20
    assert all(f.stat().st_size <= 8192 for f in logs)
    lines = [line for f in logs for line in f.read_text(encoding="utf-8").splitlines()]
    queries = [json.loads(line)["q"] for line in lines]
    expected = {f"writer{n} query{i} " + "填充" * 10 for n in range(4) for i in range(500)}
    assert len(queries) == 2000 and set(queries) == expected


def test_search_log_rotates_daily_and_keeps_n_files(tmp_path: Path) -> None:
    """Daily rotation: the first record of a new day starts a new file; only --log-keep old
    files stay, and the report reads them oldest first."""
    from search.searchlog import Rotation, SearchLog, read_logs

    path = tmp_path / "searches.jsonl"
    log = SearchLog(path, Rotation.parse("daily", keep=2))
    yesterday = time.time() - 86400
    for day in range(4):
        log.record(f"day{day}", 0, 1.0)
        log.record(f"day{day} again", 0, 1.0)
        os.utime(path, (yesterday, yesterday))
    log.record("today", 0, 1.0)
    log.close()
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock"))
    assert names == ["searches.jsonl", "searches.jsonl.1", "searches.jsonl.2"]
    assert [e["q"] for e in read_logs(path)] == ["day2", "day2 again", "day3", "day3 again",
                                                 "today"]


def test_report_reads_rotated_logs(site: Path, tmp_path: Path) -> None:
    """kb serve rotating its log every 1 KB: kb report --searches counts a query asked before
    and after rotations."""
    log = tmp_path / "searches.jsonl"
    server = Served(site, log, "--log-rotate", "1K", "--log-keep", "50")
    try:
        for i in range(3):
            assert api(server.base, q="Quokka Teleport")[0] == 200
            for word in ("口令", "VPN", "备份", "网络", "邮件", "打印机"):
                assert api(server.base, q=f"{word} {i}")[0] == 200
    finally:
        server.stop()
    assert (tmp_path / "searches.jsonl.2").exists()
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "report", "--searches", "--log",
                           str(log)], capture_output=True, text=True, env=build_env(), cwd=ROOT,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stdout.splitlines() if line.endswith("quokka teleport"))
    assert row.split()[:2] == ["3", "3"]
