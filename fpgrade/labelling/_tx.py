"""One write transaction of the labelling core: retried when it loses a race, rolled back on
any refusal (a refused write must not keep SQLite's write lock or half a change)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from fpgrade.storage.retry import in_transaction

T = TypeVar("T")


def transaction(session: Session, work: Callable[[], T]) -> T:
    """:func:`~fpgrade.storage.retry.in_transaction`, rolled back on every exception."""
    try:
        return in_transaction(session, work)
    except BaseException:
        session.rollback()
        raise
