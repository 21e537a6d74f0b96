"""One engine per database URL, sessions, and schema upgrades through alembic.

Several processes may use one database at once (imports, the demo, Label Studio sync):

- SQLite runs in WAL mode with a busy timeout and ``BEGIN IMMEDIATE`` (:mod:`.sqlite`);
  transactions that lose a race are retried (:mod:`.retry`);
- schema upgrades are serialised: a file lock next to the SQLite file, a transaction-level
  advisory lock on PostgreSQL, so two first runs never both create the tables.

Only SQLite and PostgreSQL are supported (the migrations are tested on both). An explicitly
configured SQLite file must be in an existing folder: a mistyped path is an error, not a new empty
database; only the default database in the data folder creates its folder.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from filelock import FileLock, Timeout
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlmodel import Session, create_engine

from fpgrade.errors import FpgradeError
from fpgrade.settings import get_settings
from fpgrade.storage import sqlite

MIGRATIONS = Path(__file__).with_name("migrations")
SUPPORTED = "SQLite (sqlite:////path/to/fpgrade.db) or PostgreSQL (postgresql+psycopg://user:pw@host/db)"
MIGRATION_LOCK_TIMEOUT_S = 600
# Key of the PostgreSQL advisory lock held while migrating (any constant; ASCII "fpgr").
PG_MIGRATION_LOCK_KEY = 0x66706772


class DatabaseError(FpgradeError):
    """The configured database cannot be reached, or its URL is not valid or not supported."""


def safe_url(url: str | URL) -> str:
    """The URL with its password hidden (for messages); a URL without a password as given."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return repr(url)
    if isinstance(url, str) and parsed.password is None:
        return url
    return parsed.render_as_string(hide_password=True)


def parse_url(url: str) -> URL:
    """``url`` parsed and checked to be SQLite or PostgreSQL.

    :raises DatabaseError: not a URL, or another database (one line saying what is supported).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"database URL {safe_url(url)} is not valid "
                            "(FPGRADE_DATABASE_URL, e.g. postgresql+psycopg://user:pw@host/db)") from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(f"database URL {safe_url(url)}: {backend!r} is not supported; "
                            f"fpgrade stores its data in {SUPPORTED}")
    return parsed


def new_engine(url: str, *, create_folder: bool = False) -> Engine:
    """A new engine on ``url``, set up for several writers (not upgraded: see :func:`get_engine`).

    :param create_folder: create a SQLite file's missing folder (only for the default database).
    :raises DatabaseError: unsupported database or driver, or a SQLite file in a missing folder.
    """
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            _check_sqlite_folder(parsed, create_folder, url)
            return sqlite.configure(create_engine(parsed, connect_args=sqlite.connect_args()))
        return create_engine(parsed)
    except (ImportError, NoSuchModuleError) as exc:
        raise DatabaseError(f"database URL {safe_url(url)}: driver {parsed.drivername!r} is not "
                            f"available ({exc}); fpgrade stores its data in {SUPPORTED}") from exc


def _check_sqlite_folder(parsed: URL, create: bool, url: str) -> None:
    path = sqlite.sqlite_file(parsed)
    if path is None:
        return
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        raise DatabaseError(f"database {safe_url(url)}: folder {path.parent} does not exist; "
                            "correct FPGRADE_DATABASE_URL or create the folder first")


def alembic_config(url: str) -> Config:
    """An alembic configuration for ``url`` that needs no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _migration_file_lock(engine: Engine) -> AbstractContextManager:
    path = sqlite.sqlite_file(engine.url) if engine.dialect.name == "sqlite" else None
    if path is None:
        return nullcontext()
    return FileLock(path.with_name(path.name + ".migrate.lock"), timeout=MIGRATION_LOCK_TIMEOUT_S)


def migrate(engine: Engine, revision: str = "head", url: str | None = None) -> None:
    """Bring the database of ``engine`` to ``revision``, one process at a time.

    The migrations run in one transaction on a connection of ``engine`` (so SQLite gets its
    PRAGMAs), under a file lock next to a SQLite file or an advisory lock on PostgreSQL.
    ``url`` (as configured) names the database in messages.
    """
    shown = safe_url(url or engine.url)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with _migration_file_lock(engine), engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": PG_MIGRATION_LOCK_KEY})
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except Timeout as exc:
        raise DatabaseError(f"database {shown}: another process has been upgrading "
                            f"its schema for {MIGRATION_LOCK_TIMEOUT_S} s (lock {exc.lock_file})") from exc
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"database {shown} cannot be reached: {reason}") from exc


def _is_default(url: str | None) -> bool:
    return url is None and get_settings().database_url is None


def upgrade(url: str | None = None, revision: str = "head") -> str:
    """Bring the database at ``url`` (default: the configured one) to ``revision``; returns the URL."""
    create_folder = _is_default(url)
    url = url or get_settings().resolved_database_url
    engine = new_engine(url, create_folder=create_folder)
    try:
        migrate(engine, revision, url)
    finally:
        engine.dispose()
    return url


@cache
def get_engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (default: the configured database), its schema upgraded to head."""
    create_folder = _is_default(url)
    engine = new_engine(url or get_settings().resolved_database_url, create_folder=create_folder)
    migrate(engine)
    return engine


def session(url: str | None = None) -> Session:
    """A new session on the configured database: ``with session() as s: ...``."""
    return Session(get_engine(url))
