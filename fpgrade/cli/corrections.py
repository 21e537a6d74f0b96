"""``fpgrade corrections``: how often and how far this group's users corrected the detector's
landmarks by hand, per landmark group, from the saved assessments
(:mod:`fpgrade.clinic.correction_summary`)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.table import Table

from fpgrade.cli.console import console, print_json
from fpgrade.errors import FpgradeError


def corrections_command(
    csv_path: Path | None = typer.Option(None, "--csv", metavar="TABLE.csv",
                                         help="Write the summary as CSV ('-': to stdout)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Landmarks corrected by hand in the saved visits: per landmark group (brow, lids, iris,
    mouth...), how many photos, what share, how many points and how far (mm)."""
    from fpgrade.clinic import correction_summary as cs

    rows = cs.summarise(cs.saved())
    if csv_path is not None:
        text = cs.to_csv(rows)
        if str(csv_path) == "-":
            sys.stdout.write(text)
            return
        try:
            csv_path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise FpgradeError(f"{csv_path}: cannot write the summary ({exc})") from exc
        console.print(f"summary of {rows[0]['photos saved']} saved photo(s) written to {csv_path}",
                      markup=False, emoji=False, highlight=False)
        return
    if as_json:
        print_json(rows)
        return
    table = Table(*cs.COLUMNS, title=f"landmarks corrected by hand in {rows[0]['photos saved']} "
                  "saved photo(s)")
    for row in rows:
        table.add_row(*("-" if row[c] is None else str(row[c]) for c in cs.COLUMNS))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("corrections")(corrections_command)
