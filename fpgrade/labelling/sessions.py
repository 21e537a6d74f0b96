"""Login sessions of the served pages, kept on the server (issue 16).

The browser holds only a random token (:func:`secrets.token_urlsafe`, 256 bits) in an HttpOnly,
SameSite cookie; the database holds its SHA-256, the user and when it was last used. A token is
issued at login (never chosen by the client: a presented token that is not stored is refused),
a new one at every login, and the row is deleted at logout, after
``FPGRADE_SESSION_IDLE_MINUTES`` without a request, and for every session of a user when the
user is disabled, changes role or password (:func:`end_all`, called by
:mod:`fpgrade.labelling.users` in the same transaction as the change). A session therefore
never comes back: re-enabling a user does not revive the sessions of before.

Stored rather than signed cookies (Starlette's ``SessionMiddleware``): a signed cookie cannot be
ended on the server, and several server processes (or the command line) must see a disable at
once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlmodel import Session, delete, select

from fpgrade.labelling._tx import transaction
from fpgrade.labelling.users import Account
from fpgrade.storage.tables import User, WebSession

#: last_seen_at is written at most this often per session (a page polls every few seconds)
TOUCH_EVERY = timedelta(seconds=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def open_session(session: Session, account: Account, *, client: str | None = None) -> str:
    """A new session of ``account``; returns the token for the cookie (shown only once)."""
    token = secrets.token_urlsafe(32)
    transaction(session, lambda: _add(session, token, account, client))
    return token


def _add(session: Session, token: str, account: Account, client: str | None) -> None:
    """The session row of ``token`` (only its digest is stored), in the caller's transaction."""
    session.add(WebSession(token_sha256=_digest(token), user_id=account.id,
                           client=(client or "")[:64] or None))


def log_in(session: Session, account: Account, checked_hash: str, password: str, *,
           client: str | None = None, replacing: str | None = None) -> str:
    """A new session of an account whose password was just checked
    (:func:`~fpgrade.labelling.users.check_password`), in ONE write transaction with the login's
    record: the account must still be as it was checked (:func:`~.users.record_login`), so a
    password reset, a disable or a role change that lands between the check and this write
    leaves no live session (a reset's :func:`end_all` and this write are serialized by the
    database). The session the browser came with (``replacing``) ends. Returns the token.

    :raises AuthenticationError: the account changed since the check.
    """
    from fpgrade.labelling.users import record_login

    token = secrets.token_urlsafe(32)

    def work() -> None:
        record_login(session, account, checked_hash, password)
        if replacing:
            session.exec(delete(WebSession).where(WebSession.token_sha256 == _digest(replacing)))
        _add(session, token, account, client)

    transaction(session, work)
    return token


def _looked_up(session: Session, token: str | None, idle: timedelta
               ) -> tuple[WebSession | None, User | None, bool]:
    """(the session row of ``token``, its user while the session is live, whether a write is
    due: deleting a row that is idle too long, orphaned or of a disabled user, or the touch
    every :data:`TOUCH_EVERY`). Reads only; :func:`resolve` and :func:`peek` decide from it."""
    if not token or len(token) > 256:
        return None, None, False
    row = session.exec(select(WebSession).where(WebSession.token_sha256 == _digest(token))).first()
    if row is None:
        return None, None, False
    user = session.get(User, row.user_id)
    since = _now() - _aware(row.last_seen_at)
    if user is None or user.disabled or since > idle:
        return row, None, True
    return row, user, since > TOUCH_EVERY


def resolve(session: Session, token: str | None, *, idle: timedelta) -> Account | None:
    """The active account of a session token, or ``None`` (unknown, ended, idle too long, user
    disabled or gone). An expired or orphaned session is deleted; a live one is touched."""
    row, user, write_due = _looked_up(session, token, idle)
    if row is not None and user is None:
        transaction(session, lambda: session.exec(delete(WebSession).where(WebSession.id == row.id)))
        return None
    if write_due:
        def touch() -> None:
            row.last_seen_at = _now()
            session.add(row)
        transaction(session, touch)
    return None if user is None else Account.of(user)


def peek(session: Session, token: str | None, *, idle: timedelta) -> tuple[Account | None, bool]:
    """:func:`resolve` without writing, for a read-only session (on SQLite, one that does not
    take the write lock: every request of every page checks its cookie, and waiting for the
    lock behind the raters' submits cost each request up to tens of milliseconds): the account
    (``None`` as :func:`resolve` says), and whether :func:`resolve` has a write to do now (an
    expired or orphaned session to delete, or a touch due every :data:`TOUCH_EVERY`)."""
    _, user, write_due = _looked_up(session, token, idle)
    return (None if user is None else Account.of(user)), write_due


def end(session: Session, token: str | None) -> bool:
    """End one session (logout); whether it existed."""
    if not token:
        return False
    digest = _digest(token)
    return bool(transaction(session, lambda: session.exec(
        delete(WebSession).where(WebSession.token_sha256 == digest)).rowcount))


def end_all(session: Session, user_id: int) -> None:
    """Delete every session of a user, inside the caller's transaction (no commit here)."""
    session.exec(delete(WebSession).where(WebSession.user_id == user_id))


def count(session: Session, user_id: int | None = None) -> int:
    query = select(WebSession)
    if user_id is not None:
        query = query.where(WebSession.user_id == user_id)
    return len(session.exec(query).all())
