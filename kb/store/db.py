"""Engines for the service's database (SQLAlchemy Core 2.x; no hand-built SQL strings).

``open_engine(target)``: ``target`` is a URL (``postgresql://user@host/db``, ``sqlite:///x.db``)
or a file path (SQLite). :func:`resolve_target` picks ``KB_DB_URL`` when set, else the file
given by the caller (the service: ``<site>-acks.db`` next to the site folder, beside the search
log).

SQLite is set up for several processes writing one file: WAL journal (readers never wait for a
writer), ``synchronous=FULL`` (a committed row survives a crash of the machine, not only of the
process), a 30 s busy timeout, and write transactions started with ``BEGIN IMMEDIATE``
(:func:`write`) so two writers queue instead of failing on a lock upgrade.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: the environment variable naming a shared database (several ``kb serve`` replicas)
DB_URL_ENV = "KB_DB_URL"
BUSY_TIMEOUT_S = 30
_IMMEDIATE = "kb_immediate"


class StoreError(Exception):
    """The database cannot be used as configured (bad URL, newer schema, unreachable)."""


def resolve_target(default_file: str | os.PathLike[str] | None,
                   explicit: str | None = None) -> str:
    """The database to use: ``explicit``, else ``KB_DB_URL``, else ``default_file``."""
    for value in (explicit, os.environ.get(DB_URL_ENV, "").strip() or None):
        if value:
            return value
    if default_file is None:
        raise StoreError(f"no database: set {DB_URL_ENV}=postgresql://… or give a file")
    return str(default_file)


def engine_url(target: str) -> str:
    """A SQLAlchemy URL for ``target``: PostgreSQL URLs get the psycopg 3 driver, a path
    becomes ``sqlite:///<absolute path>``."""
    if "://" not in target:
        return "sqlite:///" + str(Path(target).resolve())
    try:
        url = make_url(target)
    except ArgumentError:
        raise StoreError(f"{DB_URL_ENV}: not a database URL: {describe(target)!r}") from None
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if url.drivername == "sqlite":
        return target
    raise StoreError(f"{DB_URL_ENV}: expected postgresql://… or sqlite:///…, found "
                     f"{url.drivername}://…")


def describe(target: str) -> str:
    """``target`` without its password, for logs and messages."""
    if "://" not in target:
        return target
    try:
        return make_url(target).render_as_string(hide_password=True)
    except ArgumentError:
        return target.split("://", 1)[0] + "://…"


def open_engine(target: str, pool_size: int = 5) -> Engine:
    """An engine for ``target`` (see :func:`engine_url`); for SQLite the folder must exist."""
    url = make_url(engine_url(target))
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        if path and path != ":memory:" and not Path(path).parent.is_dir():
            raise StoreError(f"database folder not found: {Path(path).parent}")
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size,
                               connect_args={"timeout": BUSY_TIMEOUT_S,
                                             "check_same_thread": False})
        _sqlite_setup(engine)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         pool_recycle=1800, connect_args={"connect_timeout": 10})


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API connection
        dbapi_conn.isolation_level = None  # we send BEGIN ourselves (below)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A write transaction: committed when the block ends, rolled back on an exception.
    SQLite takes its write lock at the start (``BEGIN IMMEDIATE``)."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{_IMMEDIATE: True})
        with conn.begin():
            yield conn


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read transaction (a consistent snapshot)."""
    with engine.connect() as conn, conn.begin():
        yield conn
