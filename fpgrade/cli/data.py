"""``fpgrade import``, ``fpgrade db upgrade`` and ``fpgrade db relocate``: getting data in,
keeping the schema current, following a data folder that moved."""

from __future__ import annotations

from pathlib import Path

import typer

from fpgrade.cli.console import console, err_console, print_json
from fpgrade.errors import FpgradeError
from fpgrade.registry import get_registry

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(
    revision: str = typer.Argument("head", metavar="REVISION", help="Alembic revision to reach."),
) -> None:
    """Create or migrate the database schema (FPGRADE_DATABASE_URL, default SQLite).

    Prints the revision the database is at afterwards. A database is never downgraded: a
    revision older than the database's is refused."""
    from fpgrade.storage import database

    url = database.upgrade(revision=revision)
    at, newest = database.revision(url)
    console.print(f"database at {'head (' + str(at) + ')' if newest else at}: {database.safe_url(url)}")


@db_app.command("relocate")
def db_relocate(
    old: Path = typer.Argument(..., metavar="OLD_FOLDER",
                               help="Where the data folder was when its media were imported."),
    new: Path = typer.Argument(..., metavar="NEW_FOLDER", help="Where it is now."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every file; change nothing."),
    partial: bool = typer.Option(False, "--partial",
                                 help="Relocate the files that match even if others are missing "
                                      "or changed (those keep their old path)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Update the stored paths of media after their data folder moved.

    Each medium stored under OLD_FOLDER is looked for at the same place under NEW_FOLDER and its
    sha256 compared with the one stored at import: paths change only for the same bytes, all in
    one transaction. A missing or different file is named and, without --partial, nothing
    changes. Labels, visits and campaigns stay attached to the media."""
    import getpass

    from fpgrade.storage import database
    from fpgrade.storage.relocate import RelocationError, relocate

    with database.session() as session:
        try:
            report = relocate(session, old, new, dry_run=dry_run, partial=partial,
                              actor=f"{getpass.getuser()} (fpgrade db relocate)")
        except RelocationError as exc:
            if as_json:
                print_json({"old": str(old), "new": str(new), "written": False,
                            "errors": [str(exc)]})
            raise
    if as_json:
        print_json(report.as_dict())
    else:
        verb = "would relocate" if dry_run else "relocated"
        count = len(report.moved) if (dry_run or report.written) else 0
        console.print(f"{verb} {count} media from {report.old} to {report.new}"
                      + (f"; {report.already} already there" if report.already else ""),
                      markup=False, highlight=False)
        for line in report.problems:
            err_console.print(f"not relocated: {line}", markup=False, highlight=False)
    if report.problems:
        raise typer.Exit(code=1)


def import_(
    source: Path = typer.Argument(..., metavar="MANIFEST_OR_FOLDER",
                                  help="A manifest CSV, or a folder <subject>/<movement>.<ext>."),
    labels: Path | None = typer.Option(
        None, "--labels", metavar="CSV",
        help="With a folder: CSV of subject, scale, label[, movement, annotator].",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import photos and videos with their labels; bad rows are reported, good rows kept."""
    from fpgrade.importer import import_folder, import_manifest, why_missing
    from fpgrade.storage import database

    if not source.exists():
        raise FpgradeError(f"{source}: {why_missing(source)}")
    registry = get_registry()
    with database.session() as session:
        if source.is_dir():
            report = import_folder(source, labels, session=session, registry=registry)
        else:
            if labels is not None:
                raise FpgradeError("--labels is for folder imports; a manifest has its own labels")
            report = import_manifest(source, session=session, registry=registry)
    if as_json:
        print_json(report.as_dict())
    else:
        console.print(
            f"{report.rows} rows: {report.subjects_added} subjects, {report.media_added} media, "
            f"{report.annotations_added} annotations added; {report.unchanged} already stored; "
            f"{len(report.errors)} refused",
        )
        for error in report.errors:
            err_console.print(f"refused {error}")
    if report.errors:
        raise typer.Exit(code=2)


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.add_typer(db_app, name="db")
