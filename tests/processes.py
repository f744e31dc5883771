"""Helpers for tests of the processes we start: find them by session, kill their parent.

Every process a test starts to be killed runs in its own session (``start_new_session``), so
the processes it started in turn (workers, spawned or forked) are found by their session id
even after the kernel has given them a new parent. Imported by test modules, not collected.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


def live_processes() -> Iterator[tuple[int, str, list[str]]]:
    """(PID, command line, stat fields after "pid (comm)") of every live process (no zombies)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace").strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        if fields[0] != "Z":
            yield int(entry.name), cmdline, fields


def session_members(sid: int) -> dict[int, str]:
    """PID → command line of the live processes of session ``sid`` (zombies left out)."""
    return {pid: cmdline for pid, cmdline, fields in live_processes() if int(fields[3]) == sid}


def running_with(argument: str) -> list[int]:
    """Live processes whose command line has ``argument``."""
    return [pid for pid, cmdline, _ in live_processes() if argument in cmdline.split()]


def children_of(pid: int) -> list[int]:
    """PIDs of the live processes whose parent is ``pid``."""
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            kids.append(int(entry.name))
    return kids


def wait_for_children(proc: subprocess.Popen, count: int, timeout: float = 300) -> list[int]:
    """Wait until ``proc`` has at least ``count`` child processes (or has ended); the timeout
    only guards against a hang."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        kids = children_of(proc.pid)
        if len(kids) >= count:
            return kids
        time.sleep(0.05)
    raise AssertionError(f"process {proc.pid} never had {count} children "
                         f"(exit code {proc.poll()})")


def survivors(sid: int, grace: float = 20.0) -> dict[int, str]:
    """The processes of session ``sid`` still alive after ``grace`` seconds (a process killed
    by the kernel for its parent's death takes a moment to go); empty when all are gone."""
    deadline = time.monotonic() + grace
    while True:
        left = session_members(sid)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def kill_session(sid: int) -> None:
    """Clean up after a failed test: SIGKILL what is left of session ``sid``, by PID."""
    for pid in session_members(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
