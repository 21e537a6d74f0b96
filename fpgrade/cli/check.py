"""``fpgrade models check ID``: build a model, run a real photo (or video) through it, train one
step; each stage ok or failed with its reason, exit code 1 when one failed
(:mod:`fpgrade.model_check`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from fpgrade.cli.console import console, print_json

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")
COLOURS = {"ok": "green", "failed": "red", "skipped": "yellow"}


def check(
    model: str = typer.Argument(..., metavar="MODEL", help="Model id (fpgrade models)."),
    scale: str | None = typer.Option(None, "--scale", help="Scale to build it for (default: the "
                                     "model's first registered one)."),
    photo: Path | None = typer.Option(None, "--photo", help="A photo to run (default: the example "
                                      "photo shipped with fpgrade)."),
    video: Path | None = typer.Option(None, "--video", help="A video to run (default: a short clip "
                                      "made from the example photo)."),
    device: str | None = typer.Option(None, "--device",
                                      help="cpu, cuda (default: CUDA if present)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Smoke-test a model: build it with random weights, run one batch of a real photo or video
    through its preprocessing and network, and train one optimisation step."""
    from fpgrade.model_check import check_model
    from fpgrade.registry import get_registry

    stages = check_model(get_registry(), model, scale_id=scale, photo=photo, video=video,
                         device=device)
    failed = any(stage.status == "failed" for stage in stages)
    if as_json:
        print_json({"model": model, "ok": not failed, "stages": [s.as_dict() for s in stages]})
    else:
        table = Table("stage", "status", "detail", title=f"fpgrade models check {model}")
        for stage in stages:
            table.add_row(stage.name, Text(stage.status, COLOURS[stage.status]), Text(stage.detail))
        console.print(table)
        console.print(f"{model}: " + ("FAILED" if failed else "all stages ok"))
    if failed:
        raise typer.Exit(1)


def register() -> None:
    """Add ``check`` to the ``models`` group."""
    from fpgrade.cli.versions import models_app

    if not any(c.name == "check" for c in models_app.registered_commands):
        models_app.command("check")(check)
