"""Which schema revision a database is at, and whether fpgrade may bring it to the one asked for.

Checked before alembic runs, in the migration's transaction, so that a refusal changes nothing:

- a database at a revision this fpgrade does not know (made by a newer fpgrade) is refused by
  name; alembic would say "Can't locate revision" with a traceback;
- an unknown target revision is refused with the list of known ones;
- a target older than the database is refused: alembic's ``upgrade`` to an older revision does
  nothing at all (it only moves forward), so ``fpgrade db upgrade 0001`` used to print
  "database at 0001" and leave it at the newest. fpgrade does not downgrade: the migrations'
  ``downgrade`` drops tables and columns, and with them labels and models.
"""

from __future__ import annotations

from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection

from fpgrade.errors import DatabaseError

HEAD = ("head", "heads")


def known_revisions(config: Config) -> list[str]:
    """The revisions of fpgrade's migrations, oldest first."""
    return [r.revision for r in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))]


def current(connection: Connection) -> str | None:
    """The database's revision (``None`` for an empty database)."""
    return MigrationContext.configure(connection).get_current_revision()


def check_target(connection: Connection, config: Config, revision: str, shown: str) -> None:
    """Refuse, before anything changes, a database of unknown revision, an unknown ``revision``,
    or a ``revision`` older than the database's (a downgrade).

    :raises DatabaseError: one line naming the database and the revisions.
    """
    script = ScriptDirectory.from_config(config)
    known = known_revisions(config)
    at = MigrationContext.configure(connection).get_current_heads()
    for rev in at:
        if rev not in known:
            from fpgrade import __version__

            raise DatabaseError(
                f"database {shown} is at schema revision {rev!r}, which fpgrade {__version__} does "
                f"not know (its newest is {known[-1]!r}): it was made by a newer fpgrade; upgrade "
                "fpgrade, or point FPGRADE_DATABASE_URL at another database")
    if revision in HEAD:
        return
    try:
        target = script.get_revision(revision)
    except (RevisionError, CommandError):
        target = None
    if target is None:
        raise DatabaseError(f"unknown schema revision {revision!r}: give head (the newest) "
                            f"or one of {', '.join(known)}")
    for rev in at:
        older = {r.revision for r in script.iterate_revisions(rev, "base")} - {rev}
        if target.revision in older:
            raise DatabaseError(
                f"database {shown} is at schema revision {rev}, newer than {target.revision}; "
                "fpgrade does not downgrade a database (that drops stored data): restore a "
                "backup made before the upgrade, or use a new database")
