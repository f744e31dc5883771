"""The service's database: SQLite by default, PostgreSQL when ``KB_DB_URL`` says so.

- :mod:`kb.store.db`: :func:`~kb.store.db.open_engine` turns a URL or a file path into a
  SQLAlchemy Core engine set up for the service (SQLite: WAL, full sync, a busy timeout,
  ``BEGIN IMMEDIATE`` for writes; PostgreSQL: psycopg 3, a pool per process);
- :mod:`kb.store.migrate`: a schema version per component in the table ``kb_schema``, upgraded
  on first start by numbered steps, one process at a time;
- :mod:`kb.store.pgtemp`: a throw-away PostgreSQL cluster from Debian's binaries, for tests and
  benchmarks.

Features keep their own tables and queries (``kb/acks/records.py``); nothing here knows them.
"""
