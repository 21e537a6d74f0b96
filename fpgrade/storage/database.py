"""One engine per database URL, sessions, and schema upgrades through alembic."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, create_engine

from fpgrade.errors import FpgradeError
from fpgrade.settings import get_settings


class DatabaseError(FpgradeError):
    """The configured database cannot be reached or its URL is not valid."""


def safe_url(url: str) -> str:
    """The URL with its password hidden (for messages)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    """An alembic configuration for ``url`` that needs no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> str:
    """Bring the database at ``url`` (default: the configured one) to ``revision``."""
    url = url or get_settings().resolved_database_url
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        command.upgrade(alembic_config(url), revision)
    except ArgumentError as exc:
        raise DatabaseError(f"database URL {safe_url(url)} is not valid "
                            "(FPGRADE_DATABASE_URL, e.g. postgresql+psycopg://user:pw@host/db)") from exc
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"database {safe_url(url)} cannot be reached: {reason}") from exc
    return url


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@cache
def get_engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (default: the configured database), its schema upgraded to head."""
    url = upgrade(url)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def session(url: str | None = None) -> Session:
    """A new session on the configured database: ``with session() as s: ...``."""
    return Session(get_engine(url))
