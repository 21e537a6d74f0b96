"""``fpgrade models`` (the model cards) and its registry commands: ``versions``, ``promote``,
``rollback``, ``reject``.

Changes are recorded with the actor given by ``--by`` (default: the login running the command) in
the version row (``promoted_by``) and the audit log. SQLAlchemy is imported inside the commands.
"""

from __future__ import annotations

import getpass

import typer
from rich.table import Table

from fpgrade.cli import listing
from fpgrade.cli.console import console, print_json

models_app = typer.Typer(help="Grading models, their cards and their trained versions.")

BY_OPTION = typer.Option(None, "--by", metavar="NAME",
                         help="Who makes the change (default: the login running the command).")


def _who(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "cli"


@models_app.callback(invoke_without_command=True)
def models(ctx: typer.Context, as_json: bool = listing.JSON_OPTION) -> None:
    """List grading models with their model cards (subcommands: trained versions)."""
    if ctx.invoked_subcommand is None:
        listing.models(as_json)


def _row(row) -> dict:
    return {"id": row.id, "version": row.version, "model": row.model_id, "scale": row.scale,
            "status": row.status, "status_reason": row.status_reason,
            "weights_sha256": row.weights_sha256, "weights_path": row.weights_path,
            "training_run_id": row.training_run_id, "parent_version_id": row.parent_version_id,
            "data_snapshot_sha256": row.data_snapshot_sha256,
            "final_labels": len(row.data_snapshot or []), "test_metrics": row.test_metrics or {},
            "promoted_by": row.promoted_by,
            "promoted_at": row.promoted_at.isoformat() if row.promoted_at else None,
            "created_at": row.created_at.isoformat() if row.created_at else None,
            "synthetic": bool((row.card or {}).get("synthetic", False))}


@models_app.command("versions")
def versions(scale: str | None = typer.Option(None, "--scale", help="Only this scale."),
             as_json: bool = listing.JSON_OPTION) -> None:
    """List trained model versions with their status (candidate, current, rejected, retired)."""
    from fpgrade.models.lifecycle import list_versions
    from fpgrade.storage import database

    with database.session() as session:
        rows = [_row(r) for r in list_versions(session, scale)]
    if as_json:
        print_json(rows)
        return
    table = Table("version", "scale", "status", "test metrics", "promoted", "note",
                  title="model versions")
    for r in rows:
        metrics = ", ".join(f"{k} {v:.3f}" for k, v in r["test_metrics"].items()
                            if isinstance(v, (int, float)) and not isinstance(v, bool))
        promoted = f"{r['promoted_by']} {r['promoted_at'][:19]}" if r["promoted_at"] else ""
        note = (r["status_reason"] or "") + (" SYNTHETIC" if r["synthetic"] else "")
        table.add_row(r["version"], r["scale"], r["status"], metrics, promoted, note.strip())
    console.print(table)


@models_app.command("promote")
def promote(version: str = typer.Argument(..., metavar="VERSION", help="A version name or id."),
            by: str | None = BY_OPTION,
            reason: str | None = typer.Option(None, "--reason", help="Why (kept with the version).")) -> None:
    """Make VERSION the current version of its scale (the previous one is retired)."""
    from fpgrade.models import lifecycle
    from fpgrade.storage import database

    with database.session() as session:
        row = lifecycle.promote(session, version, by=_who(by), reason=reason)
        console.print(f"{row.version} is now current for {row.scale}")


@models_app.command("rollback")
def rollback(scale: str = typer.Argument(..., metavar="SCALE"), by: str | None = BY_OPTION) -> None:
    """Retire the current version of SCALE; the version it replaced becomes current again."""
    from fpgrade.models import lifecycle
    from fpgrade.storage import database

    with database.session() as session:
        old, now = lifecycle.rollback(session, scale, by=_who(by))
        console.print(f"{old.version} retired; {now.version} is current for {scale} again")


@models_app.command("reject")
def reject(version: str = typer.Argument(..., metavar="VERSION"),
           reason: str = typer.Option(..., "--reason", help="Why it must not serve."),
           by: str | None = BY_OPTION) -> None:
    """Keep VERSION out of service, with the reason."""
    from fpgrade.models import lifecycle
    from fpgrade.storage import database

    with database.session() as session:
        row = lifecycle.reject(session, version, by=_who(by), reason=reason)
        console.print(f"{row.version} rejected: {reason}")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
