"""``fpgrade demo``: the clinician page in the browser (Gradio, from the ``ui`` package).

Bound to a loopback address it runs without login; any other address is refused (the clinician
page has no login: no unauthenticated patient data on a network). ``fpgrade label`` serves the
labelling pages, which need a login, and so may bind to any address. Uploads and copies of media
go to a temporary folder of this process, removed when the server stops.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile

import typer

from fpgrade.errors import FpgradeError


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str) -> None:
    """Refuse a non-loopback address: the page shows patient data and has no login yet."""
    if not is_loopback(host):
        raise FpgradeError(
            f"refusing to serve on {host}: the page has no login yet (it arrives with the "
            "labelling workflow), so it serves only on 127.0.0.1 / localhost; reach it through "
            "an SSH tunnel meanwhile")


def demo(
    host: str = typer.Option("127.0.0.1", metavar="ADDRESS",
                             help="Address to serve on (loopback only until login exists)."),
    port: int = typer.Option(7860, metavar="PORT", help="Port to serve on."),
) -> None:
    """Start the clinician page on the configured database (default: SQLite in the data folder)."""
    check_host(host)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="fpgrade-demo-")
    from fpgrade_ui.app import launch  # imports gradio, which reads GRADIO_TEMP_DIR

    launch(host=host, port=port)


def label(
    host: str = typer.Option("127.0.0.1", metavar="ADDRESS",
                             help="Address to serve on (any address: the pages need a login; "
                                  "put a TLS proxy in front on a network)."),
    port: int = typer.Option(7861, metavar="PORT", help="Port to serve on."),
) -> None:
    """Serve the labelling pages (login with `fpgrade user add`): queue, labelling view,
    adjudication, progress and agreement, admin."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="fpgrade-label-")
    from fpgrade_ui.app import launch

    launch(host=host, port=port, pages="label")


def register(app: typer.Typer) -> None:
    app.command()(demo)
    app.command()(label)
