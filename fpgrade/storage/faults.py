"""Why a database cannot be used, in one line that names the file at fault and says what to do.

SQLite reports every permission problem as ``attempt to write a readonly database`` (or ``unable
to open database file``), whichever file is at fault: the database itself, its folder (where it
creates its ``-wal`` and ``-shm`` files and fpgrade its migration lock), or a ``-wal``/``-shm``
file left read-only from a time the database was read-only (SQLite gives them the database's
mode, see "Atomic commit in SQLite" and the WAL documentation, sqlite.org/wal.html). We look at
the files to name the right one. A file that is not SQLite, a damaged one and a full disk get
their own line.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from fpgrade.errors import DatabaseError, NoSpaceError

_NOT_SQLITE = ("file is not a database", "file is encrypted or is not a database")
_READ_ONLY = ("readonly database", "unable to open database file", "attempt to write a readonly",
              "readonly")
_NO_SPACE = ("database or disk is full", "disk is full")
_DAMAGED = ("database disk image is malformed",)
NO_SPACE_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def reason_of(exc: BaseException) -> str:
    """The first line of the driver's message (SQLAlchemy adds SQL and a link after it)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__


def not_writable(path: Path) -> Path | None:
    """The first of the database's files and folder that this process cannot write, or ``None``.

    The database first (the cause when it is read-only), then a leftover ``-wal``/``-shm`` file
    (the cause once the database has been made writable again), then the folder.
    """
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if candidate.exists() and not os.access(candidate, os.W_OK):
            return candidate
    if path.parent.is_dir() and not os.access(path.parent, os.W_OK | os.X_OK):
        return path.parent
    return None


def permission_line(path: Path, shown: str) -> str:
    """What to do when the database ``path`` (shown as ``shown``) or a file beside it cannot be
    written."""
    culprit = not_writable(path)
    if culprit == path:
        return (f"database file {path} is read-only: make it writable (chmod u+w {path}) "
                "or point FPGRADE_DATABASE_URL at a copy you can write")
    if culprit is not None and culprit.parent == path.parent and culprit != path.parent:
        return (f"{culprit} is read-only (left from a time the database was read-only): make it "
                f"writable (chmod u+w {culprit}), or delete it while no fpgrade command runs")
    if culprit == path.parent:
        return (f"folder {path.parent} of database {path} is read-only: SQLite and fpgrade write "
                "their journal and lock files beside the database; make the folder writable "
                "(or set FPGRADE_DATA_DIR / FPGRADE_DATABASE_URL to a folder you can write)")
    return f"database {shown} cannot be written (permission denied): check who owns {path} and its folder"


def explain(exc: BaseException, path: Path | None, shown: str) -> DatabaseError | NoSpaceError | None:
    """The one-line error for a driver error ``exc`` on the database ``shown`` (a SQLite file at
    ``path``, or ``None`` for another database), or ``None`` when it is not a known fault."""
    reason = reason_of(exc)
    lowered = reason.lower()
    if (isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS) or any(t in lowered for t in _NO_SPACE):
        where = path.parent if path is not None else shown
        return NoSpaceError(f"no space left on the device holding {where} (database {shown}): "
                            "free some space and run the command again; nothing was changed")
    if path is None:
        return None
    if any(t in lowered for t in _NOT_SQLITE):
        return DatabaseError(f"{path} is not a SQLite database ({reason}): point FPGRADE_DATABASE_URL "
                             "(or FPGRADE_DATA_DIR) at fpgrade's database, or move this file away "
                             "to start a new one")
    if any(t in lowered for t in _DAMAGED):
        return DatabaseError(f"database {path} is damaged ({reason}): restore it from a backup")
    if isinstance(exc, PermissionError) or any(t in lowered for t in _READ_ONLY):
        return DatabaseError(permission_line(path, shown))
    return None
