"""The lock of a publish target (``DIR/.lock``): one publish or rollback at a time.

What it protects against, and how:

* **Two publishes at once** (two CI jobs, an operator's rollback during a publish): the lock is
  a POSIX record lock (``fcntl`` ``F_SETLK``) on ``DIR/.lock``; the second waits, saying for
  which process (``F_GETLK`` names the holder's PID).
* **A publish killed at any moment** (SIGKILL, OOM killer, a CI runner cancelled): a record
  lock belongs to the *process*, not to an open file, so the kernel releases it when that
  process ends, and a child never holds it, even a forked one that still has the descriptor
  (``flock`` locks, used before, belong to the open file: forked workers of a killed publish
  kept them, and every later publish waited forever). The descriptor is also close-on-exec,
  and our workers are spawned (:mod:`kb.workers`), so it never reaches them at all.
* **Knowing a publish was interrupted** (the stale-lock check): the holder writes its PID,
  host, action and start time into the lock file and empties it when it lets go. A record
  found by the next holder was left by a process that ended without finishing; it is
  reported with whether that PID is gone, and the publish removes what it left
  (:func:`kb.publish.release.clean_stale`).

Exclusion is between processes: two threads of one process are not kept apart by it.
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import json
import os
import socket
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

LOCK_FILE = ".lock"
#: seconds between two attempts while another process holds the lock
POLL = 0.2
#: seconds between two "still waiting" messages
REMIND = 30.0


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a target's lock."""

    pid: int
    host: str = ""
    action: str = ""
    since: str = ""

    def describe(self) -> str:
        parts = [f"PID {self.pid}"]
        if self.host and self.host != socket.gethostname():
            parts.append(f"on {self.host}")
        if self.action:
            parts.append(f"kb {self.action}")
        if self.since:
            parts.append(f"since {self.since}")
        return ", ".join(parts)


def _read_record(fd: int) -> Holder | None:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "null")
        return Holder(**data) if isinstance(data, dict) else None
    except (OSError, ValueError, TypeError):
        return None


def _write_record(fd: int, holder: Holder | None) -> None:
    os.ftruncate(fd, 0)
    if holder is not None:
        os.pwrite(fd, json.dumps(asdict(holder), ensure_ascii=False).encode("utf-8"), 0)
    os.fsync(fd)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return False
        raise


def current_holder(fd: int) -> int | None:
    """PID of the process holding a record lock on the file of ``fd`` (``F_GETLK``), or None
    (free, or not known on this system)."""
    # struct flock on Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid
    query = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
        l_type, _, _, _, pid = struct.unpack("hhqqi4x", answer)
    except (OSError, struct.error):
        return None
    return pid if l_type != fcntl.F_UNLCK and pid > 0 else None


def alive(pid: int) -> bool:
    """True while a process ``pid`` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def locked(target: Path, say: Callable[[str], None] | None = None,
           action: str = "publish") -> Iterator[Holder | None]:
    """Hold ``DIR/.lock`` exclusively, waiting for a publish or rollback in progress. Yields
    the record of an earlier holder that ended without letting go (killed), else None."""
    say = say or (lambda text: None)
    target.mkdir(parents=True, exist_ok=True)
    fd = os.open(target / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        if not _try_lock(fd):
            _wait(fd, target, say)
        interrupted = _read_record(fd)  # left only by a holder that did not finish
        if interrupted is not None:
            state = ("on another host" if interrupted.host != socket.gethostname()
                     else "still running, without the lock" if alive(interrupted.pid)
                     else "gone")
            say(f"the last {interrupted.action or 'publish'} did not finish "
                f"({interrupted.describe()}: {state}; killed?); cleaning up after it")
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        _write_record(fd, Holder(os.getpid(), socket.gethostname(), action, stamp))
        try:
            yield interrupted
        finally:
            _write_record(fd, None)  # a clean end: the next holder finds no record
    finally:
        os.close(fd)  # closing releases the lock (the kernel also does when the process dies)


def _wait(fd: int, target: Path, say: Callable[[str], None]) -> None:
    """Wait for the lock, saying who holds it (again every :data:`REMIND` seconds)."""
    started = time.monotonic()
    reminded = -REMIND
    while not _try_lock(fd):
        waited = time.monotonic() - started
        if waited - reminded >= REMIND:
            reminded = waited
            pid = current_holder(fd)
            record = _read_record(fd)
            who = (record.describe() if record and record.pid == pid
                   else f"PID {pid}" if pid else "another process")
            say(f"waiting for another publish or rollback to finish ({who}; "
                f"{target / LOCK_FILE}" + (f", {waited:.0f} s so far)" if waited >= 1 else ")"))
        time.sleep(POLL)
