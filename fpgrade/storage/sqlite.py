"""SQLite set up for several writers at once: WAL journal, a busy timeout, foreign keys, and
transactions that take the write lock when they begin.

pysqlite delays ``BEGIN`` until the first write and ignores savepoints; SQLAlchemy's documented
recipe ("Serializable isolation / Savepoints / Transactional DDL") turns that off and emits
``BEGIN`` itself. We emit ``BEGIN IMMEDIATE``: a transaction waits (up to the busy timeout) for the
write lock at its start, instead of failing with ``database is locked`` when it first writes after
another process committed (a stale WAL snapshot cannot be upgraded to a writer). Writers are
therefore serialised, readers outside a transaction are not (WAL).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL

BUSY_TIMEOUT_S = 60.0


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or ``None`` for an in-memory database."""
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        return None
    if database.startswith("file:"):
        database = database.removeprefix("file:").split("?", 1)[0]
    return Path(database)


def connect_args() -> dict[str, object]:
    """Arguments for ``sqlite3.connect``: the busy timeout (seconds)."""
    return {"timeout": BUSY_TIMEOUT_S}


def _on_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() not in ("wal", "memory"):
            cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _on_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def configure(engine: Engine) -> Engine:
    """Install the PRAGMAs and ``BEGIN IMMEDIATE`` on a SQLite engine (returned for chaining)."""
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine
