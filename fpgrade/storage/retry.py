"""Retrying a transaction that lost a race with another writer.

Transient failures are the ones another attempt can cure: SQLite's ``database is locked`` /
``busy`` (the busy timeout ran out), and PostgreSQL's serialization failures and deadlocks
(SQLSTATE 40001, 40P01). Everything else is raised at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

T = TypeVar("T")

ATTEMPTS = 10
_TRANSIENT_SQLSTATES = {"40001", "40P01"}
_TRANSIENT_SQLITE = ("database is locked", "database is busy", "database table is locked")


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a lost race that a new attempt of the transaction can cure."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    message = str(orig).lower()
    return any(text in message for text in _TRANSIENT_SQLITE)


def in_transaction(session: Session, work: Callable[[], T], *, attempts: int = ATTEMPTS,
                   sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``work()`` and commit; on a transient failure roll back and run it again.

    ``work`` must be safe to repeat: everything it did is rolled back before the next attempt
    (keep its side effects in the database, or undo them on :class:`DBAPIError`). Waits grow
    from 0.05 s to about 3 s, with jitter so that the losers do not collide again.
    """
    for attempt in range(attempts):
        try:
            result = work()
            session.commit()
            return result
        except DBAPIError as exc:
            session.rollback()
            if not is_transient(exc) or attempt == attempts - 1:
                raise
            sleep(min(3.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")  # pragma: no cover
