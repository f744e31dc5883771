"""Processes we start, we own (issue 16.1, 18.1): every worker dies with its parent, and the
publish lock dies with its holder, even when a child still has its descriptor."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import build_env
from processes import children_of, kill_session, running_with, survivors, wait_for_children

multicore = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="pools need two cores")


def _driver(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Run ``code`` in a new Python process in its own session."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=build_env(env), start_new_session=True)


def _kill_and_collect(proc: subprocess.Popen[str]) -> dict[int, str]:
    """SIGKILL ``proc`` and return what is left of its session after a grace period."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    try:
        return survivors(proc.pid)
    finally:
        kill_session(proc.pid)
        proc.communicate()


@multicore
def test_pool_workers_die_when_their_parent_is_killed() -> None:
    """Workers of kb.workers.pool busy in a task are gone soon after their parent's SIGKILL
    (no with block runs then: the kernel's parent-death signal ends them)."""
    proc = _driver("""
        import time
        from kb.workers import pool
        with pool(2) as workers:
            workers.map(time.sleep, [600, 600], chunksize=1)
    """)
    wait_for_children(proc, 3)  # two workers and multiprocessing's resource tracker
    assert _kill_and_collect(proc) == {}


def test_pool_workers_are_spawned_and_leave_with_the_block() -> None:
    """A pool's workers are fresh interpreters (spawned, not forked: the parent's module state
    is not there) and none is left once its with block has ended."""
    proc = _driver("""
        import json, sys, time
        import kb.workers
        kb.workers.MARK = "parent"
        probe = "getattr(__import__('kb.workers').workers, 'MARK', None)"
        with kb.workers.pool(2) as workers:
            marks = workers.map(eval, [probe] * 4, chunksize=1)
        print(json.dumps(marks), flush=True)
        time.sleep(600)
    """)
    try:
        assert json.loads(proc.stdout.readline()) == [None] * 4
        left = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children_of(proc.pid)]
        # multiprocessing's resource tracker stays with its process; no pool worker does
        assert not [c for c in left if b"resource_tracker" not in c], left
    finally:
        proc.kill()
    assert _kill_and_collect(proc) == {}


def test_lock_dies_with_its_holder_even_when_a_child_keeps_the_descriptor(tmp_path: Path) -> None:
    """A publish SIGKILLed while a forked child still has the lock's descriptor (as forked
    workers had) leaves the lock free; the next holder names the interrupted one."""
    target = tmp_path / "t"
    holder = _driver("""
        import os, sys, time
        from pathlib import Path
        from kb.publish.lock import locked
        with locked(Path(sys.argv[1])):
            if os.fork() == 0:  # a child with a copy of every descriptor, as forks get
                time.sleep(600)
                os._exit(0)
            print("locked", flush=True)
            time.sleep(600)
    """, str(target))
    assert holder.stdout.readline().strip() == "locked"
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    try:
        nxt = _driver("""
            import sys
            from pathlib import Path
            from kb.publish.lock import locked
            with locked(Path(sys.argv[1]), say=print):
                print("got it")
        """, str(target))
        out, err = nxt.communicate(timeout=120)  # a hang guard: it must not wait at all
        assert nxt.returncode == 0, err
        assert out.splitlines()[-1] == "got it", out
        assert f"did not finish (PID {holder.pid}" in out and "gone" in out, out
        assert "waiting" not in out, out
    finally:
        kill_session(holder.pid)
        holder.communicate()


@multicore
def test_index_pool_dies_with_a_killed_indexer(demo_site: Path, tmp_path: Path) -> None:
    """``kb index`` SIGKILLed while its pool analyses pages leaves no worker behind."""
    site = tmp_path / "site"
    shutil.copytree(demo_site, site, ignore=shutil.ignore_patterns(".search-index*"))
    proc = _driver("""
        import sys
        from kb.cli import main
        sys.exit(main(["index", sys.argv[1]]))
    """, str(site), env={"KB_SEARCH_CACHE": str(tmp_path / "cache")})
    wait_for_children(proc, 2)
    assert _kill_and_collect(proc) == {}


@multicore
def test_pdf_pool_dies_with_a_killed_renderer(tmp_path: Path) -> None:
    """PDF rendering SIGKILLed mid-way leaves no WeasyPrint worker behind."""
    proc = _driver("""
        import sys
        from kb.print.render import Job, _run
        page = "<h1>标题</h1>" + "<p>正文段落。</p>" * 4000
        jobs = [Job(f"k{i}", f"doc{i}.md", page, sys.argv[1], f"{sys.argv[1]}/k{i}.pdf")
                for i in range(6)]
        _run(jobs, 2)
    """, str(tmp_path))
    wait_for_children(proc, 2)
    assert _kill_and_collect(proc) == {}


@multicore
def test_serve_workers_die_with_a_killed_server(demo_site: Path) -> None:
    """``kb serve --workers 2`` SIGKILLed leaves no forked worker serving the port."""
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "serve", str(demo_site), "--port", "0",
                             "--workers", "2", "--log", "off"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=build_env(), start_new_session=True)
    assert proc.stdout.readline().startswith("kb serve: http://")  # listening, worker forked
    wait_for_children(proc, 1)
    assert _kill_and_collect(proc) == {}


def test_test_postgres_dies_with_a_killed_test_run(tmp_path: Path) -> None:
    """The temporary PostgreSQL the suite starts (kb/store/pgtemp.py) is killed by the kernel
    when the process that started it is SIGKILLed: a killed test run leaves no cluster."""
    from kb.store.pgtemp import find_binaries

    if find_binaries()[0] is None:
        pytest.skip(find_binaries()[1])
    ready = tmp_path / "ready"
    code = ("import sys, time, pathlib; from kb.store.pgtemp import TempPostgres; "
            "pg = TempPostgres().start(); pathlib.Path(sys.argv[1]).write_text(str(pg.folder)); "
            "time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(ready)], env=build_env(),
                            start_new_session=True)
    try:
        for _ in range(1200):  # a hang guard (initdb and start-up), not a timing
            if ready.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert ready.exists(), "the cluster did not start"
        data = ready.read_text() + "/data"
        assert running_with(data), "no server found for " + data
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        for _ in range(200):  # the kernel's signal takes a moment (a hang guard of 20 s)
            if not running_with(data):
                break
            time.sleep(0.1)
        assert not running_with(data), "postgres outlived the process that started it"
    finally:
        kill_session(proc.pid)
        if ready.exists():
            for pid in running_with(ready.read_text() + "/data"):
                os.kill(pid, signal.SIGKILL)
            shutil.rmtree(ready.read_text(), ignore_errors=True)

