"""``fpgrade sync push`` / ``pull``: the labelling campaigns in a Label Studio server.

The server and token come from ``--url`` / ``FPGRADE_LABEL_STUDIO_URL`` and
``FPGRADE_LABEL_STUDIO_TOKEN``; media are served as local files under ``--files-root`` /
``FPGRADE_LABEL_STUDIO_FILES_ROOT``. label-studio-sdk and SQLAlchemy are imported inside the
commands.
"""

from __future__ import annotations

from pathlib import Path

import typer

from fpgrade.cli.console import console, err_console, print_json
from fpgrade.registry import get_registry

sync_app = typer.Typer(help="Sync labelling campaigns with a Label Studio server.",
                       no_args_is_help=True)

URL_OPTION = typer.Option(None, "--url", metavar="URL",
                          help="Label Studio server (default: FPGRADE_LABEL_STUDIO_URL).")


@sync_app.command("push")
def push(campaign: str = typer.Option(..., "--campaign", metavar="NAME", help="The campaign to push."),
         project: str | None = typer.Option(None, "--project", metavar="TITLE",
                                            help="Label Studio project title (default: 'fpgrade: NAME')."),
         url: str | None = URL_OPTION,
         files_root: Path | None = typer.Option(
             None, "--files-root", metavar="FOLDER",
             help="The server's local-files document root (default: FPGRADE_LABEL_STUDIO_FILES_ROOT)."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Push a campaign's media as tasks with the current model's pre-annotations (least
    confident first); a second push adds only media not yet there."""
    from fpgrade.settings import get_settings
    from fpgrade.storage import database
    from fpgrade.sync.client import SyncError, connect
    from fpgrade.sync.push import push_campaign

    root = files_root or get_settings().label_studio_files_root
    if root is None:
        raise SyncError("no Label Studio files root: set FPGRADE_LABEL_STUDIO_FILES_ROOT or pass "
                        "--files-root (the server's LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT)")
    server = connect(url)
    with database.session() as session:
        report = push_campaign(session, server, get_registry(), campaign, files_root=root,
                               title=project)
    for problem in report.problems:
        err_console.print(f"warning: {problem}")
    if as_json:
        print_json({"project_id": report.project_id, "title": report.title,
                    "created_project": report.created_project, "added": report.added,
                    "already": report.already, "model_version": report.model_version,
                    "order": report.order})
        return
    console.print(f"{report.title} (project {report.project_id} at {server.url}): "
                  f"{report.added} tasks added, {report.already} already there"
                  + (f"; pre-annotations by {report.model_version}" if report.model_version else ""))


@sync_app.command("pull")
def pull(campaign: str | None = typer.Option(None, "--campaign", metavar="NAME",
                                            help="Only the project of this campaign."),
         url: str | None = URL_OPTION,
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Pull Label Studio annotations into the labelling workflow (each a blind pass); a re-run
    adds nothing, edits update ours, deletions and choices outside the scale are reported."""
    from dataclasses import asdict

    from fpgrade.storage import database
    from fpgrade.sync.client import connect
    from fpgrade.sync.pull import pull as pull_all

    server = connect(url)
    with database.session() as session:
        reports = pull_all(session, server, get_registry(), campaign)
    for report in reports.values():
        for problem in report.problems:
            err_console.print(f"warning: {problem}")
    if as_json:
        print_json({title: asdict(r) for title, r in reports.items()})
        return
    for title, r in reports.items():
        console.print(f"{title}: {r.added} annotations added ({r.as_blind_pass} as blind passes), "
                      f"{r.updated} updated, {len(r.deleted)} deleted in Label Studio, "
                      f"{r.unchanged} unchanged")


def register(app: typer.Typer) -> None:
    app.add_typer(sync_app, name="sync")
