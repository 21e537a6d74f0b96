"""The ``fpgrade`` command line (typer + rich).

Every :class:`~fpgrade.errors.FpgradeError` ends as one line on stderr and exit code 1, and so
do the faults of the machine that are no bug of fpgrade (a full disk, a database made read-only
while in use: :func:`~fpgrade.cli.console.fault_line`); a traceback is shown only with
``--debug``, or for an error fpgrade does not know (a bug). A warning is one line on stderr (``warning: ...``),
shown once per command however often it is raised (one per fold would be noise), never with a
Python source line. Plugins add commands through ``register_commands``. Command modules import
their heavy dependencies (torch, OpenCV, MediaPipe, SQLAlchemy) inside the command, so that
``fpgrade --help`` and the listings start at once (``bench/startup.py``). A command that needs
no plugin (:data:`STANDALONE`: ``measure``) builds only its own module and loads no plugin, so a
one-photo ``fpgrade measure`` starts as fast as a plain MediaPipe script (issue 21,
``bench/measure_startup.py``).
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from fpgrade.cli.console import err_console, fault_line
from fpgrade.errors import FpgradeError

DEBUG_FLAG = "--debug"
# The modules of the built-in commands, in the order of ``fpgrade --help``.
MODULES = ("listing", "versions", "sync", "data", "measure", "corrections", "learn", "compare",
           "serve", "labelling")
# Built-in commands that use no plugin: ``fpgrade measure ...`` builds this module alone.
STANDALONE = {"measure": "measure"}


def _root(
    debug: bool = typer.Option(False, DEBUG_FLAG, help="Show tracebacks of errors."),
) -> None:
    """Grade facial nerve paralysis from photos and videos."""


def build_app(command: str | None = None) -> typer.Typer:
    """The root application: built-in commands, then every plugin's; for a ``command`` of
    :data:`STANDALONE`, that command alone (its usage and help are the same)."""
    app = typer.Typer(
        name="fpgrade",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode=None,
    )
    app.callback()(_root)
    if command in STANDALONE:
        importlib.import_module(f"fpgrade.cli.{STANDALONE[command]}").register(app)
        return app
    for module in MODULES:
        importlib.import_module(f"fpgrade.cli.{module}").register(app)
    from fpgrade.registry import get_registry

    registry = get_registry()
    registry.add_commands(app)
    for failure in registry.failures:
        err_console.print(f"warning: plugin {failure.name!r} failed: {failure.error}",
                          markup=False, highlight=False, emoji=False)
    return app


@contextmanager
def one_line_warnings() -> Iterator[None]:
    """Warnings as ``warning: message`` on stderr, each distinct message once."""
    shown: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = str(message).strip()
        if text not in shown:
            shown.add(text)
            err_console.print(f"warning: {text}", markup=False, highlight=False, emoji=False,
                              soft_wrap=True)

    with warnings.catch_warnings():  # the filters stay as they are; only the display changes
        warnings.showwarning = show
        yield


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fpgrade`` script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in argv
    with one_line_warnings():
        return _run(argv, debug)


def _run(argv: list[str], debug: bool) -> int:
    try:
        # Standalone mode: typer prints usage errors itself and exits with click's codes.
        build_app(_command(argv))(args=argv, prog_name="fpgrade")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except FpgradeError as exc:
        if debug:
            raise
        _print_error(str(exc))
        return 1
    except Exception as exc:  # a full disk, a database made read-only...: one line; a bug: traceback
        line = None if debug else fault_line(exc)
        if line is None:
            raise
        _print_error(line)
        return 1
    return 0


def _command(argv: list[str]) -> str | None:
    """The command word of ``argv`` (the root takes options only, no values)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def _print_error(line: str) -> None:
    err_console.print(f"Error: {line}", markup=False, highlight=False, emoji=False, soft_wrap=True)


def run() -> None:  # console-script target
    sys.exit(main())
