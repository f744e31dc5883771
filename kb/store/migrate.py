"""Schema versions: each component (``acks``, …) records the version of its tables in
``kb_schema`` and is upgraded by numbered steps on first start.

A :class:`Migration` is (version, what it does, a function of a connection). :func:`migrate`
runs the steps above the recorded version in one transaction, one process at a time (SQLite:
the write lock of ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-level advisory lock), so
workers and replicas starting together upgrade once. A database whose recorded version is
newer than the code's steps is refused: an older ``kb`` must not write into a newer schema.
"""

from __future__ import annotations

import datetime as _dt
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import (Column, Connection, DateTime, Engine, Integer, MetaData, String, Table,
                        func, insert, select, update)

from kb.store.db import StoreError, describe, is_sqlite, write

METADATA = MetaData()

SCHEMA_TABLE = Table(
    "kb_schema", METADATA,
    Column("component", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("migrated_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Migration:
    """One step of a component's schema: from ``version - 1`` to ``version``."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _lock(conn: Connection, component: str) -> None:
    if not is_sqlite(conn.engine):  # SQLite: BEGIN IMMEDIATE already holds the write lock
        key = zlib.crc32(f"kb_schema:{component}".encode())
        conn.execute(select(func.pg_advisory_xact_lock(key)))


def current_version(conn: Connection, component: str) -> int:
    """The recorded version of ``component`` (0: never migrated)."""
    METADATA.create_all(conn, tables=[SCHEMA_TABLE])
    row = conn.execute(select(SCHEMA_TABLE.c.version)
                       .where(SCHEMA_TABLE.c.component == component)).first()
    return int(row[0]) if row else 0


def migrate(engine: Engine, component: str, steps: Sequence[Migration]) -> int:
    """Bring ``component`` up to the last of ``steps`` (numbered 1, 2, …); its version."""
    numbers = [s.version for s in steps]
    if numbers != list(range(1, len(steps) + 1)):
        raise ValueError(f"{component}: migrations must be numbered 1..n, found {numbers}")
    target = len(steps)
    with write(engine) as conn:
        _lock(conn, component)
        have = current_version(conn, component)
        if have > target:
            raise StoreError(
                f"{describe(engine.url.render_as_string())}: the {component} tables are at "
                f"schema version {have}, newer than this kb knows ({target}); upgrade kb")
        for step in steps[have:]:
            step.apply(conn)
        if have < target:
            now = _dt.datetime.now(_dt.timezone.utc)
            values = {"version": target, "migrated_at": now}
            if have == 0:
                conn.execute(insert(SCHEMA_TABLE).values(component=component, **values))
            else:
                conn.execute(update(SCHEMA_TABLE)
                             .where(SCHEMA_TABLE.c.component == component).values(**values))
    return target
