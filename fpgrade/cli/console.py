"""The two rich consoles of the command line: results on stdout, messages on stderr.

Both print strings as they are: no console markup (``[red]`` in a file name stays), no emoji
codes (``:100:`` stays), no highlighting; file names and messages come from users. Intended
styling is built with :class:`rich.text.Text`. When the output is not a terminal (a pipe, a file)
the width is unbounded unless ``COLUMNS`` is set, so tables never cut names at 80 columns.
"""

from rich.console import Console, ConsoleDimensions

UNBOUNDED_WIDTH = 100_000


class CliConsole(Console):
    """A :class:`~rich.console.Console` with markup, emoji and highlighting off by default and an
    unbounded width when not writing to a terminal."""

    def __init__(self, **kwargs) -> None:
        for option in ("markup", "emoji", "highlight"):
            kwargs.setdefault(option, False)
        kwargs.setdefault("soft_wrap", True)
        super().__init__(**kwargs)

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)
        if self._width is None and not self.is_terminal and not self._environ.get("COLUMNS", "").isdigit():
            return ConsoleDimensions(UNBOUNDED_WIDTH, size.height)
        return size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)


console = CliConsole()
err_console = CliConsole(stderr=True)


def print_json(data: object) -> None:
    """Machine-readable output: plain JSON on stdout, nothing else."""
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False))


def fault_line(exc: BaseException) -> str | None:
    """One line for a fault of the machine rather than of fpgrade: a full disk, or a database
    that cannot be written (read-only, not SQLite, damaged) met after it was opened; ``None`` for
    anything else (a bug, shown with its traceback). Imports nothing heavy unless it is needed:
    a SQLAlchemy error can only come from a command that imported SQLAlchemy."""
    import errno
    import sys

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        where = f" holding {exc.filename}" if exc.filename else ""
        return f"no space left on the device{where}: free some space and run the command again"
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_exc is not None and isinstance(exc, sqlalchemy_exc.DBAPIError):
        from fpgrade.settings import get_settings
        from fpgrade.storage import database, faults, sqlite

        url = get_settings().resolved_database_url
        parsed = database.parse_url(url)
        path = sqlite.sqlite_file(parsed) if parsed.get_backend_name() == "sqlite" else None
        known = faults.explain(exc, path, database.safe_url(url))
        return None if known is None else str(known)
    return None
