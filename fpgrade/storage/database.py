"""One engine per database URL, sessions, and schema upgrades through alembic.

Several processes may use one database at once (imports, the demo, Label Studio sync):

- SQLite runs in WAL mode with a busy timeout and ``BEGIN IMMEDIATE`` (:mod:`.sqlite`);
  transactions that lose a race are retried (:mod:`.retry`);
- schema upgrades are serialised: a file lock next to the SQLite file, a transaction-level
  advisory lock on PostgreSQL, so two first runs never both create the tables.

Only SQLite and PostgreSQL are supported (the migrations are tested on both). An explicitly
configured SQLite file must be in an existing folder: a mistyped path is an error, not a new empty
database; only the default database in the data folder creates its folder.

The data folder fpgrade creates is private (0700) and so is a SQLite file it creates (0600; SQLite
gives its ``-wal`` and ``-shm`` files the database's mode): they hold patients' photos' records
(issue 16). Existing files and folders keep the mode their owner chose. A database that cannot be
used (read-only, not SQLite, damaged, at an unknown revision, full disk) is one line that names
the file at fault (:mod:`.faults`, :mod:`.revisions`); nothing in it is changed.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from filelock import FileLock, Timeout
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlmodel import Session, create_engine

from fpgrade.errors import DatabaseError
from fpgrade.settings import get_settings
from fpgrade.storage import faults, revisions, sqlite

MIGRATIONS = Path(__file__).with_name("migrations")
SUPPORTED = "SQLite (sqlite:////path/to/fpgrade.db) or PostgreSQL (postgresql+psycopg://user:pw@host/db)"
MIGRATION_LOCK_TIMEOUT_S = 600
# Key of the PostgreSQL advisory lock held while migrating (any constant; ASCII "fpgr").
PG_MIGRATION_LOCK_KEY = 0x66706772
PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600

__all__ = ["DatabaseError", "get_engine", "migrate", "new_engine", "parse_url", "read_session",
           "revision", "safe_url", "session", "upgrade"]


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
        _create_data_folder(path.parent)
    elif not path.parent.is_dir():
        raise DatabaseError(f"database {safe_url(url)}: folder {path.parent} does not exist; "
                            "correct FPGRADE_DATABASE_URL or create the folder first")
    _create_private_file(path, safe_url(url))


def _create_data_folder(folder: Path) -> None:
    """The data folder, created private (0700) if missing (its parents as the umask says)."""
    if folder.is_dir():
        return
    blocking = next((p for p in (folder, *folder.parents) if p.exists() or p.is_symlink()), None)
    if blocking is not None and not blocking.is_dir():
        raise DatabaseError(f"cannot create the data folder {folder}: {blocking} is a file, not a "
                            "folder; set FPGRADE_DATA_DIR to a folder")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create the data folder {folder} ({exc.strerror}: "
                            f"{exc.filename}): set FPGRADE_DATA_DIR to a folder you can write") from exc


def _create_private_file(path: Path, shown: str) -> None:
    """A missing SQLite file created empty and private (0600) before SQLite creates it with the
    umask's mode; an empty file is a valid empty database."""
    if path.exists() or path.is_symlink():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:  # another process created it first
        pass
    except OSError as exc:
        raise (faults.explain(exc, path, shown)
               or DatabaseError(f"cannot create database {path} ({exc.strerror})")) from exc


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
            revisions.check_target(connection, config, revision, shown)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except Timeout as exc:
        raise DatabaseError(f"database {shown}: another process has been upgrading "
                            f"its schema for {MIGRATION_LOCK_TIMEOUT_S} s (lock {exc.lock_file})") from exc
    except (DBAPIError, OSError) as exc:  # OSError: the migration lock beside a SQLite file
        raise explain(exc, engine, shown) from exc


def explain(exc: BaseException, engine: Engine, shown: str | None = None) -> Exception:
    """The one-line error for a driver or file error on ``engine``'s database: the file at fault
    and what to do for the known faults (:mod:`.faults`), else "cannot be reached" and the
    driver's first line."""
    shown = shown or safe_url(engine.url)
    path = sqlite.sqlite_file(engine.url) if engine.dialect.name == "sqlite" else None
    return (faults.explain(exc, path, shown)
            or DatabaseError(f"database {shown} cannot be reached: {faults.reason_of(exc)}"))


def _is_default(url: str | None) -> bool:
    """Whether ``url`` is the default database in the data folder (whose folder may be created),
    given as ``None`` or spelt out."""
    settings = get_settings()
    return settings.database_url is None and url in (None, settings.resolved_database_url)


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


def revision(url: str | None = None) -> tuple[str | None, bool]:
    """The schema revision of the database at ``url`` (default: the configured one), and whether
    it is the newest this fpgrade knows."""
    url = url or get_settings().resolved_database_url
    engine = new_engine(url)
    try:
        with engine.connect().execution_options(**{sqlite.READ_ONLY: True}) as connection:
            at = revisions.current(connection)
    except DBAPIError as exc:
        raise explain(exc, engine, safe_url(url)) from exc
    finally:
        engine.dispose()
    known = revisions.known_revisions(alembic_config(url))
    return at, at == known[-1]


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


def read_session(url: str | None = None) -> Session:
    """A session for reading only: on SQLite its transactions read a snapshot without taking the
    write lock (see :mod:`fpgrade.storage.sqlite`); on PostgreSQL it is an ordinary session."""
    return Session(get_engine(url).execution_options(**{sqlite.READ_ONLY: True}))
