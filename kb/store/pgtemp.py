"""A throw-away PostgreSQL cluster from Debian's package, for tests and benchmarks.

``with TempPostgres() as pg: pg.url`` runs ``initdb`` into a fresh temporary folder and the
server in the foreground on a free loopback port, as our child that the kernel kills when the
process that started it dies (a killed test run leaves no cluster behind); the block's end stops
it and removes the folder.
PostgreSQL refuses to run as root: when we are root, the cluster runs as the unprivileged
``postgres`` user of the Debian package (else ``nobody``) through ``runuser``; its folder is
made outside root's private temp folders so that user can reach it.

:func:`find_binaries` says where ``initdb``/``pg_ctl`` are (``/usr/lib/postgresql/<v>/bin``,
the newest, else ``PATH``) or why they cannot be used; the tests skip with that message.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

from kb.workers import parent_death_signal

INSTALL_HINT = "install Debian's postgresql package (scripts/system-deps.sh)"


def find_binaries() -> tuple[Path | None, str]:
    """The folder holding ``initdb`` and ``postgres``, or None and why not."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                        key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0)
    for folder in reversed(candidates):
        if os.access(os.path.join(folder, "initdb"), os.X_OK) and \
                os.access(os.path.join(folder, "postgres"), os.X_OK):
            return Path(folder), ""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("postgres"):
        return Path(os.path.realpath(initdb)).parent, ""
    return None, f"PostgreSQL server binaries (initdb, postgres) not found: {INSTALL_HINT}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> str | None:
    """The user to run the cluster as: None for ourselves, else an unprivileged user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user (postgres, nobody) to run "
                       "PostgreSQL as")


class TempPostgres:
    """A PostgreSQL cluster in a temporary folder, started and stopped by ``with``."""

    def __init__(self, database: str = "kb", user: str = "kb") -> None:
        self.database, self.user = database, user
        self.bin, why = find_binaries()
        if self.bin is None:
            raise RuntimeError(why)
        self.port = 0
        self.folder: Path | None = None
        self.server: subprocess.Popen | None = None
        self.log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """``postgresql://kb@127.0.0.1:<port>/kb`` (trust authentication on loopback)."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def _cmd(self, *args: str) -> list[str]:
        who = _run_as()
        return (["runuser", "-u", who, "--"] if who else []) + list(args)

    def _check(self, *args: str, timeout: float = 120) -> None:
        proc = subprocess.run(self._cmd(*args), capture_output=True, text=True, timeout=timeout,
                              cwd="/")
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({proc.returncode}):\n"
                               f"{proc.stdout}\n{proc.stderr}")

    def start(self) -> TempPostgres:
        assert self.bin is not None
        base = "/tmp" if os.path.isdir("/tmp") else None
        self.folder = Path(tempfile.mkdtemp(prefix="kb-pgtemp-", dir=base))
        data, sockets = self.folder / "data", self.folder / "run"
        sockets.mkdir()
        who = _run_as()
        if who:
            entry = pwd.getpwnam(who)
            for path in (self.folder, sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._check(str(self.bin / "initdb"), "-D", str(data), "-U", self.user, "-A", "trust",
                    "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        self.port = _free_port()
        options = ["-c", "listen_addresses=127.0.0.1", "-c", f"port={self.port}",
                   "-c", f"unix_socket_directories={sockets}", "-c", "max_connections=200",
                   "-c", "fsync=on", "-c", "shared_buffers=64MB"]
        # the server runs in the foreground as our child, killed by the kernel if we die (a
        # killed test run leaves no cluster behind); pg_ctl would detach it
        self.log = open(self.folder / "log", "wb")  # noqa: SIM115 - closed in stop()
        account = pwd.getpwnam(who) if who else None
        self.server = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(data), *options], stdout=self.log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd="/",
            user=account.pw_uid if account else None, group=account.pw_gid if account else None,
            extra_groups=[] if account else None, preexec_fn=parent_death_signal)
        self._create_database()
        return self

    def _create_database(self) -> None:
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            if self.server is not None and self.server.poll() is not None:
                log = (self.folder / "log").read_text(errors="replace") if self.folder else ""
                raise RuntimeError(f"postgres exited ({self.server.returncode}):\n{log}")
            try:
                with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user,
                                     dbname="postgres", autocommit=True,
                                     connect_timeout=5) as conn:
                    conn.execute(f'CREATE DATABASE "{self.database}"')  # our own constant name
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        if self.server is not None:
            self.server.send_signal(signal.SIGQUIT)  # immediate shutdown: a test cluster
            try:
                self.server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
            self.server = None
        if self.log is not None:
            self.log.close()
            self.log = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> TempPostgres:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
