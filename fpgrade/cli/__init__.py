"""The ``fpgrade`` command line (typer + rich).

Every :class:`~fpgrade.errors.FpgradeError` ends as one line on stderr and exit code 1; a
traceback is shown only with ``--debug``. Plugins add commands through ``register_commands``.
"""

from __future__ import annotations

import sys

import typer

from fpgrade.cli import data, learn, listing, measure, serve
from fpgrade.cli.console import err_console
from fpgrade.errors import FpgradeError
from fpgrade.registry import get_registry

DEBUG_FLAG = "--debug"


def _root(
    debug: bool = typer.Option(False, DEBUG_FLAG, help="Show tracebacks of errors."),
) -> None:
    """Grade facial nerve paralysis from photos and videos."""


def build_app() -> typer.Typer:
    """The root application: built-in commands, then every plugin's."""
    app = typer.Typer(
        name="fpgrade",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode=None,
    )
    app.callback()(_root)
    listing.register(app)
    data.register(app)
    measure.register(app)
    learn.register(app)
    serve.register(app)
    registry = get_registry()
    registry.add_commands(app)
    for failure in registry.failures:
        err_console.print(f"warning: plugin {failure.name!r} failed: {failure.error}")
    return app


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fpgrade`` script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in argv
    try:
        # Standalone mode: typer prints usage errors itself and exits with click's codes.
        build_app()(args=argv, prog_name="fpgrade")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except FpgradeError as exc:
        if debug:
            raise
        err_console.print(f"Error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 1
    return 0


def run() -> None:  # console-script target
    sys.exit(main())
