"""``fpgrade demo``: the clinician demo in the browser (Gradio, from the ``ui`` package)."""

from __future__ import annotations

import typer


def demo(
    host: str = typer.Option("127.0.0.1", metavar="ADDRESS", help="Address to serve on."),
    port: int = typer.Option(7860, metavar="PORT", help="Port to serve on."),
) -> None:
    """Start the clinician demo on the configured database (default: SQLite in the data folder)."""
    from fpgrade_ui.app import launch

    launch(host=host, port=port)


def register(app: typer.Typer) -> None:
    app.command()(demo)
