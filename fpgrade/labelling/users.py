"""Accounts of the labelling tool and the one role check.

Passwords are hashed with argon2id (argon2-cffi's :class:`~argon2.PasswordHasher`, its default
parameters); a plain password is never stored, logged or put in an error message. A hash made
with older parameters is replaced at the next successful login.

:func:`require` is the only place that decides whether a user may do something: the pages, the
CLI and the workflow functions all call it (on the server, never by hiding a button). It reads
the user again from the database, so a disabled account is refused at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from fpgrade.labelling import audit
from fpgrade.labelling.model import (
    PERMISSIONS, Action, AuthenticationError, LabellingError, PermissionDeniedError, Role,
    UnknownUserError, UserExistsError,
)
from fpgrade.labelling._tx import transaction
from fpgrade.storage.tables import User

MIN_PASSWORD = 8
NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
#: the actor named in the audit log for changes made from the command line
CLI_ACTOR = "cli"


@dataclass(frozen=True)
class Account:
    """A user as the pages keep it in their per-session state (no password hash, no database
    session): what :func:`authenticate` returns and every workflow function takes."""

    id: int
    name: str
    role: str
    disabled: bool = False

    @classmethod
    def of(cls, user: User) -> Account:
        return cls(user.id, user.name, user.role, user.disabled)


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (at least :data:`MIN_PASSWORD` characters)."""
    if len(password) < MIN_PASSWORD:
        raise LabellingError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher().hash(password)


def role_of(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise LabellingError(f"role {role!r} is not one of "
                             f"{', '.join(r.value for r in Role)}") from None


def actor_name(by: User | Account | None) -> str:
    return by.name if by is not None else CLI_ACTOR


def can(user: User | Account, action: Action | str) -> bool:
    """Whether ``user`` (as given, not re-read) may do ``action``."""
    if user.disabled:
        return False
    return Action(action) in PERMISSIONS.get(Role(user.role), frozenset())


def require(session: Session, user: User | Account, action: Action | str) -> User:
    """``user`` as stored now, if it may do ``action``.

    :raises PermissionDeniedError: unknown or disabled account, or a role without ``action``.
    """
    current = session.get(User, user.id) if user.id is not None else None
    if current is None or current.disabled:
        raise PermissionDeniedError(f"user {user.name!r} is disabled or unknown")
    if not can(current, action):
        raise PermissionDeniedError(
            f"user {current.name!r} ({current.role}) may not {Action(action).value}")
    return current


def require_role(session: Session, user: User | Account, *roles: Role | str) -> User:
    """``user`` as stored now, if its role is one of ``roles`` (admin always is).

    :raises PermissionDeniedError: otherwise, or a disabled account.
    """
    current = require_active(session, user)
    allowed = {role_of(r) for r in roles} | {Role.ADMIN}
    if Role(current.role) not in allowed:
        raise PermissionDeniedError(f"user {current.name!r} ({current.role}) is not "
                                    f"{' or '.join(sorted(r.value for r in allowed))}")
    return current


def require_active(session: Session, user: User | Account) -> User:
    current = session.get(User, user.id) if user.id is not None else None
    if current is None or current.disabled:
        raise PermissionDeniedError(f"user {user.name!r} is disabled or unknown")
    return current


def get_user(session: Session, name: str) -> Account:
    return Account.of(_stored(session, name))


def _stored(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise UnknownUserError(f"no user {name!r}")
    return user


def list_users(session: Session) -> list[Account]:
    return [Account.of(u) for u in session.exec(select(User).order_by(User.name)).all()]


def add_user(session: Session, name: str, password: str, role: Role | str, *,
             by: Account | None = None) -> Account:
    """Create an account. ``by`` is the admin doing it (``None``: the command line).

    :raises UserExistsError: the name is taken; :class:`LabellingError`: bad name, role or
        password; :class:`PermissionDeniedError`: ``by`` is not an admin.
    """
    if not NAME.match(name):
        raise LabellingError(f"user name {name!r}: 1-64 letters, digits or _ . @ - "
                             "(a login, never a patient's name)")
    role = role_of(role)
    password_hash = hash_password(password)

    def work() -> Account:
        if by is not None:
            require(session, by, Action.ADMIN)
        user = User(name=name, password_hash=password_hash, role=role.value)
        session.add(user)
        session.flush()
        audit.record(session, actor_name(by), "user_add", user=name, role=role.value)
        return Account.of(user)

    try:
        return transaction(session, work)
    except IntegrityError:
        raise UserExistsError(f"user {name!r} exists already") from None


def set_disabled(session: Session, name: str, disabled: bool = True, *,
                 by: Account | None = None) -> Account:
    """Disable (or enable again) an account; its sessions are refused from the next request."""

    def work() -> Account:
        if by is not None:
            require(session, by, Action.ADMIN)
        user = _stored(session, name)
        user.disabled = disabled
        session.add(user)
        if disabled:
            _end_sessions(session, user.id)
        audit.record(session, actor_name(by), "user_disable" if disabled else "user_enable",
                     user=name)
        return Account.of(user)

    return transaction(session, work)


def set_role(session: Session, name: str, role: Role | str, *,
             by: Account | None = None) -> Account:
    """Give an account another role; its sessions end (the next login gets the new role).

    :raises LabellingError: the last active admin would lose the admin role."""
    new_role = role_of(role)

    def work() -> Account:
        if by is not None:
            require(session, by, Action.ADMIN)
        user = _stored(session, name)
        if user.role == Role.ADMIN.value and new_role != Role.ADMIN and not user.disabled:
            admins = session.exec(select(User).where(User.role == Role.ADMIN.value,
                                                     User.disabled == False)).all()  # noqa: E712
            if len(admins) <= 1:
                raise LabellingError(f"{name!r} is the last active admin: make another admin "
                                     "first")
        old = user.role
        user.role = new_role.value
        session.add(user)
        _end_sessions(session, user.id)
        audit.record(session, actor_name(by), "user_role", user=name, old=old,
                     role=new_role.value)
        return Account.of(user)

    return transaction(session, work)


def set_password(session: Session, name: str, password: str, *,
                 by: Account | None = None) -> Account:
    """Reset a password (an admin, or the command line); every session of the account ends."""
    password_hash = hash_password(password)

    def work() -> Account:
        if by is not None:
            require(session, by, Action.ADMIN)
        user = _stored(session, name)
        user.password_hash = password_hash
        session.add(user)
        _end_sessions(session, user.id)
        audit.record(session, actor_name(by), "user_password", user=name)
        return Account.of(user)

    return transaction(session, work)


def _end_sessions(session: Session, user_id: int) -> None:
    from fpgrade.labelling.sessions import end_all

    end_all(session, user_id)


def record_failed_login(session: Session, name: str, client: str | None,
                        reason: str = "wrong credentials") -> None:
    """A refused login in the audit log: the name as typed only when it is a valid login name
    (never a password typed into the name field), the client address, and why."""
    shown = name if NAME.match(name or "") else "(not a valid user name)"
    transaction(session, lambda: audit.record(session, "anonymous", "login_failed", user=shown,
                                              client=(client or "")[:64], reason=reason))


def check_password(session: Session, name: str, password: str) -> tuple[Account, str]:
    """The account ``name`` if ``password`` is its password and it is not disabled, and the
    stored hash it was checked against; reads only (the argon2 check, ~0.2 s, holds no lock).

    :raises AuthenticationError: one message for every failure (no hint which part was wrong).
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    refused = AuthenticationError("unknown user, wrong password or disabled account")
    user = session.exec(select(User).where(User.name == name)).first()
    hasher = _hasher()
    if user is None:
        hasher.hash(password)  # about the same time as a real check
        raise refused
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise refused from None
    if user.disabled:
        raise refused
    return Account.of(user), user.password_hash


def record_login(session: Session, account: Account, checked_hash: str, password: str) -> User:
    """Inside the caller's write transaction: the account as stored now, if it is still as its
    password was checked (:func:`check_password`: the same hash, role and not disabled; a
    password reset, a role change or a disable that came in between refuses the login); its
    hash renewed if argon2's parameters changed, and the login audited.

    :raises AuthenticationError: the account changed since the check.
    """
    user = session.get(User, account.id)
    if (user is None or user.disabled or user.password_hash != checked_hash
            or user.role != account.role):
        raise AuthenticationError("unknown user, wrong password or disabled account")
    hasher = _hasher()
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        session.add(user)
    audit.record(session, account.name, "login")
    return user


def authenticate(session: Session, name: str, password: str) -> Account:
    """The account ``name`` if ``password`` is its password and it is not disabled (checked by
    :func:`check_password`, then recorded by :func:`record_login` in one write transaction).

    :raises AuthenticationError: one message for every failure (no hint which part was wrong).
    """
    account, checked = check_password(session, name, password)
    transaction(session, lambda: record_login(session, account, checked, password))
    return account


def logout(session: Session, user: Account) -> None:
    """Record the end of a session (the page drops its per-session user)."""
    transaction(session, lambda: audit.record(session, user.name, "logout"))
