"""``fpgrade demo`` and ``fpgrade label``: the pages in the browser (Gradio, from the ``ui``
package), behind the login of :mod:`fpgrade_ui.server` (see docs/security.md).

The labelling pages always need a login. The clinician page needs the login of a clinician or
admin when it is served beyond loopback or with ``--login``; without a login it serves only on
127.0.0.1 / localhost. Uploads and copies of media go to a temporary folder of this process
(private to it), removed when the server stops.
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


def check_host(host: str, login: bool) -> None:
    """Without a login the clinician page serves only on loopback."""
    if not login and not is_loopback(host):
        raise FpgradeError(
            f"refusing to serve the clinician page on {host} without a login: pass --login "
            "(clinicians and admins of `fpgrade user add NAME --role clinician`) and put a TLS "
            "reverse proxy in front (docs/security.md), or serve on 127.0.0.1")


def require_accounts(*roles: str) -> None:
    """A page behind a login needs at least one active account that may log in to it."""
    from sqlmodel import select

    from fpgrade.storage import database
    from fpgrade.storage.tables import User

    with database.session() as session:
        found = session.exec(select(User).where(User.role.in_(roles),
                                                User.disabled == False)).first()  # noqa: E712
    if found is None:
        raise FpgradeError(f"no active {' or '.join(roles)} account to log in with: add one "
                           f"with `fpgrade user add NAME --role {roles[0]}`")


def _private_temp(prefix: str) -> str:
    os.umask(0o077)   # uploads, exports and caches readable by this server's user only
    return tempfile.mkdtemp(prefix=prefix)


def demo(
    host: str = typer.Option("127.0.0.1", metavar="ADDRESS",
                             help="Address to serve on (beyond loopback only with --login)."),
    port: int = typer.Option(7860, metavar="PORT", help="Port to serve on."),
    login: bool = typer.Option(False, "--login",
                               help="Require the login of a clinician or admin (needed to "
                                    "serve beyond loopback)."),
) -> None:
    """Start the clinician page on the configured database (default: SQLite in the data folder)."""
    check_host(host, login)
    if login:
        require_accounts("clinician", "admin")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ["GRADIO_TEMP_DIR"] = _private_temp("fpgrade-demo-")
    from fpgrade_ui.app import launch  # imports gradio, which reads GRADIO_TEMP_DIR

    launch(host=host, port=port, login=login)


def label(
    host: str = typer.Option("127.0.0.1", metavar="ADDRESS",
                             help="Address to serve on (any address: the pages need a login; "
                                  "put a TLS proxy in front on a network)."),
    port: int = typer.Option(7861, metavar="PORT", help="Port to serve on."),
) -> None:
    """Serve the labelling pages (login with `fpgrade user add`): queue, labelling view,
    adjudication, progress and agreement, admin."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ["GRADIO_TEMP_DIR"] = _private_temp("fpgrade-label-")
    from fpgrade_ui.app import launch

    launch(host=host, port=port, pages="label")


def register(app: typer.Typer) -> None:
    app.command()(demo)
    app.command()(label)
