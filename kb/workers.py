"""Worker processes we start and own: spawned, held by a ``with`` block, dead with their parent.

The rule (GUIDE: "processes we start, we own"): no worker outlives the process that started
it, and none holds anything of that process (the publish lock, a half-written folder) after it
died. Every pool of worker processes in ``kb/`` and ``search/`` comes from :func:`pool`:

* **Spawned, never forked.** multiprocessing's ``spawn`` start method runs a fresh interpreter
  (fork + exec). The worker gets none of the parent's threads, locks or hook state (forking the
  threads of ``mkdocs serve`` is unsafe), and none of its open files: Python opens files
  close-on-exec, so the publish lock's descriptor, for one, never reaches a worker.
* **Owned by a ``with`` block.** Leaving the block, normally or by an exception, terminates and
  joins every worker; nothing keeps running after the step that needed it.
* **Killed by the kernel when the parent dies.** A ``with`` block does not run when the parent
  is SIGKILLed, so each worker first asks Linux for a parent-death signal
  (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), then checks that its parent is still the process that
  spawned it (the parent may have died in between). Where ``prctl`` is missing, a thread in
  the worker polls its parent's id instead. Why a signal rather than a pipe from the parent
  that the worker watches: it needs no thread, it works while the worker is deep in C code
  (jieba, lxml, WeasyPrint), and no other process can keep it from firing, whereas
  multiprocessing's own queues are held open by the workers themselves, so their end never
  comes. The signal follows the parent *thread* that started the worker: pools are started,
  used and joined by one thread inside their ``with`` block, which outlives them.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.pool
import multiprocessing.process
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: ``prctl`` option: the signal this process gets when its parent (thread) ends
PR_SET_PDEATHSIG = 1
#: how often the fallback watcher looks at the parent's id, in seconds
WATCH_INTERVAL = 0.5


def die_with_parent(parent_pid: int) -> None:
    """In a worker: have the kernel SIGKILL this process when ``parent_pid`` ends, and exit
    at once if it already has."""
    if not parent_death_signal():
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True,
                         name="kb-watch-parent").start()
    if os.getppid() != parent_pid:  # the parent died before the signal was asked for
        os._exit(1)


def parent_death_signal() -> bool:
    """Ask Linux for SIGKILL on the parent's death; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_INTERVAL)
    os._exit(1)


def _start_worker(parent_pid: int, niceness: int,
                  initializer: Callable[..., Any] | None, initargs: tuple[Any, ...]) -> Any:
    """First thing a worker runs: tie its life to the parent, lower its priority, then the
    pool's initializer (or the process's target)."""
    die_with_parent(parent_pid)
    if niceness:
        try:
            os.nice(niceness)
        except OSError:
            pass
    if initializer is not None:
        return initializer(*initargs)
    return None


def cpu_count() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@contextmanager
def pool(processes: int, initializer: Callable[..., None] | None = None,
         initargs: tuple[Any, ...] = (), *, niceness: int = 0
         ) -> Iterator[multiprocessing.pool.Pool]:
    """A pool of ``processes`` spawned workers for the length of the ``with`` block.

    ``initializer`` (a module-level function, as spawned workers import it by name) runs in
    each worker after it has tied its life to this process. Leaving the block terminates and
    joins the workers (after ``close()`` and ``join()`` when the caller wants them drained).
    """
    workers = spawn_context().Pool(processes, initializer=_start_worker,
                       initargs=(os.getpid(), niceness, initializer, initargs))
    try:
        yield workers
    finally:
        workers.terminate()
        workers.join()


def spawn_context() -> Any:
    """The multiprocessing context of our workers (queues and values for them come from it)."""
    return multiprocessing.get_context("spawn")


@contextmanager
def process(target: Callable[..., Any], args: tuple[Any, ...] = (), *, name: str | None = None,
            niceness: int = 0) -> Iterator[multiprocessing.process.BaseProcess]:
    """One spawned worker running ``target(*args)`` (a module-level function) for the length
    of the ``with`` block; leaving the block stops it if it is still running."""
    worker = spawn_context().Process(target=_start_worker, name=name, daemon=True,
                                     args=(os.getpid(), niceness, target, args))
    worker.start()
    try:
        yield worker
    finally:
        if worker.is_alive():
            worker.terminate()
            worker.join(5)
        if worker.is_alive():  # stuck, or stopped (SIGSTOP): SIGKILL works on both
            worker.kill()
        worker.join()
