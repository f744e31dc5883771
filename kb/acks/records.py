"""The acknowledgement tables and every query on them (SQLAlchemy Core).

``ack_records``: one row per confirmation — who (``user_id``), ``doc_id``, ``version`` (and its
``major``), ``confirmed_at`` (UTC) and ``ip_hash`` (a keyed hash of the client address, never
the address). Rows are only ever inserted: nothing in the API updates or deletes them, and
since schema version 2 the database refuses UPDATE and DELETE on them itself (triggers). A user
confirms a document's version once (unique key); whether an earlier confirmation still counts
for the current version (same major version) is decided by :class:`kb.acks.declare.Requirement`.

``ack_nonces``: the single-use part of each CSRF token that was spent, with its expiry; a
token whose nonce is here is a replay. Expired nonces are removed (their tokens are refused by
their expiry anyway).

``kb_secrets``: random keys made on first start (token signatures, address hashes), shared by
every worker and replica of the same database.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (DDL, BigInteger, Column, Connection, DateTime, Engine, Index, Integer,
                        MetaData, String, Table, UniqueConstraint, delete, func, insert, select)
from sqlalchemy.exc import IntegrityError

from kb.store.db import read, write
from kb.store.migrate import Migration, migrate

METADATA = MetaData()

RECORDS = Table(
    "ack_records", METADATA,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("user_id", String(200), nullable=False),
    Column("doc_id", String(64), nullable=False),
    Column("version", String(16), nullable=False),
    Column("major", Integer, nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
    Column("ip_hash", String(32), nullable=False),
    UniqueConstraint("user_id", "doc_id", "version", name="ack_records_once"),
    Index("ack_records_doc", "doc_id", "major"),
)

NONCES = Table(
    "ack_nonces", METADATA,
    Column("nonce", String(64), primary_key=True),
    Column("user_id", String(200), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ack_nonces_expiry", "expires_at"),
)

KEYS = Table(
    "kb_secrets", METADATA,
    Column("name", String(40), primary_key=True),
    Column("value", String(128), nullable=False),
)

def _append_only(conn: Connection) -> None:
    """Triggers that refuse UPDATE and DELETE on ``ack_records``, whoever connects."""
    if conn.dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            conn.execute(DDL(f"CREATE TRIGGER ack_records_no_{event.lower()} BEFORE {event} ON "
                             "ack_records BEGIN SELECT RAISE(ABORT, 'ack_records is append-only');"
                             " END"))
        return
    conn.execute(DDL("CREATE OR REPLACE FUNCTION kb_append_only() RETURNS trigger LANGUAGE "
                     "plpgsql AS $$ BEGIN RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || "
                     "' is append-only'; END $$"))
    conn.execute(DDL("CREATE TRIGGER ack_records_append_only BEFORE UPDATE OR DELETE ON "
                     "ack_records FOR EACH ROW EXECUTE FUNCTION kb_append_only()"))


MIGRATIONS = (
    Migration(1, "ack_records, ack_nonces, kb_secrets",
              lambda conn: METADATA.create_all(conn, tables=[RECORDS, NONCES, KEYS])),
    Migration(2, "ack_records append-only: UPDATE and DELETE refused by triggers", _append_only),
)


class TokenReplayed(Exception):
    """The token's nonce was already spent."""


@dataclass(frozen=True)
class Record:
    """One confirmation."""

    user_id: str
    doc_id: str
    version: str
    confirmed_at: _dt.datetime  # UTC, aware

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


def _utc(value: _dt.datetime) -> _dt.datetime:
    return value.replace(tzinfo=_dt.timezone.utc) if value.tzinfo is None else \
        value.astimezone(_dt.timezone.utc)


def _record(row) -> Record:  # noqa: ANN001 - a Row
    return Record(row.user_id, row.doc_id, row.version, _utc(row.confirmed_at))


class AckStore:
    """The acknowledgement tables of one database (migrated when opened)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.schema_version = migrate(engine, "acks", MIGRATIONS)
        self._keys: dict[str, bytes] = {}

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ keys

    def key(self, name: str) -> bytes:
        """The random key ``name``, made on first use and the same for every process."""
        if name in self._keys:
            return self._keys[name]
        with read(self.engine) as conn:
            value = conn.execute(select(KEYS.c.value).where(KEYS.c.name == name)).scalar()
        if value is None:
            try:
                with write(self.engine) as conn:
                    conn.execute(insert(KEYS).values(name=name, value=secrets.token_hex(32)))
            except IntegrityError:
                pass  # another process made it first
            with read(self.engine) as conn:
                value = conn.execute(select(KEYS.c.value).where(KEYS.c.name == name)).scalar_one()
        self._keys[name] = bytes.fromhex(value)
        return self._keys[name]

    def hash_address(self, address: str) -> str:
        """A keyed hash of a client address (32 hex digits); the address is not kept."""
        return hmac.new(self.key("ip"), address.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    # ------------------------------------------------------------------ writes

    def confirm(self, user_id: str, doc_id: str, version: str, covered: Iterable[str] | None,
                nonce: str, nonce_expires: _dt.datetime, ip_hash: str,
                now: _dt.datetime) -> tuple[Record, bool]:
        """Record that ``user_id`` confirmed ``doc_id`` ``version``, spending ``nonce``.

        ``covered``: versions whose earlier confirmation still counts (same major version);
        None means any version with the same major. Returns the confirmation that counts and
        whether it was recorded now (False: an earlier one counts, nothing is added). Raises
        :class:`TokenReplayed` when the nonce was spent before (nothing is added then).
        """
        major = int(version.split(".")[0])
        for attempt in range(2):
            try:
                with write(self.engine) as conn:
                    try:
                        conn.execute(insert(NONCES).values(nonce=nonce, user_id=user_id,
                                                           expires_at=nonce_expires))
                    except IntegrityError:
                        raise TokenReplayed(nonce) from None
                    earlier = self._counting(conn, user_id, doc_id, major, covered)
                    if earlier is not None:
                        return earlier, False
                    conn.execute(insert(RECORDS).values(
                        user_id=user_id, doc_id=doc_id, version=version, major=major,
                        confirmed_at=now, ip_hash=ip_hash))
                    return Record(user_id, doc_id, version, now), True
            except TokenReplayed:
                raise
            except IntegrityError:  # the same confirmation raced in from another request
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def prune_nonces(self, now: _dt.datetime) -> int:
        """Remove spent nonces whose tokens have expired; how many."""
        with write(self.engine) as conn:
            return conn.execute(delete(NONCES).where(NONCES.c.expires_at < now)).rowcount

    # ------------------------------------------------------------------ reads

    @staticmethod
    def _counting(conn: Connection, user_id: str, doc_id: str, major: int,
                  covered: Iterable[str] | None) -> Record | None:
        query = (select(RECORDS.c.user_id, RECORDS.c.doc_id, RECORDS.c.version,
                        RECORDS.c.confirmed_at)
                 .where(RECORDS.c.user_id == user_id, RECORDS.c.doc_id == doc_id,
                        RECORDS.c.major == major)
                 .order_by(RECORDS.c.confirmed_at, RECORDS.c.id).limit(1))
        if covered is not None:
            query = query.where(RECORDS.c.version.in_(list(covered)))
        row = conn.execute(query).first()
        return _record(row) if row else None

    def status(self, user_id: str, doc_id: str, version: str,
               covered: Iterable[str] | None) -> Record | None:
        """The confirmation of ``user_id`` that counts for ``doc_id`` ``version``, if any."""
        with read(self.engine) as conn:
            return self._counting(conn, user_id, doc_id, int(version.split(".")[0]), covered)

    def confirmations(self, doc_id: str | None = None) -> list[Record]:
        """Every confirmation (of ``doc_id``), oldest first."""
        query = select(RECORDS.c.user_id, RECORDS.c.doc_id, RECORDS.c.version,
                       RECORDS.c.confirmed_at).order_by(RECORDS.c.confirmed_at, RECORDS.c.id)
        if doc_id is not None:
            query = query.where(RECORDS.c.doc_id == doc_id)
        with read(self.engine) as conn:
            return [_record(row) for row in conn.execute(query)]

    def count(self) -> int:
        """How many confirmations are stored."""
        with read(self.engine) as conn:
            return int(conn.execute(select(func.count()).select_from(RECORDS)).scalar_one())
