"""``fpgrade campaign close|reopen|guideline|figures``: what the admin and progress pages do to a
campaign once it runs, from scripts (issue 20).

Each command calls the core the pages call (:mod:`fpgrade.labelling.campaigns`,
:mod:`fpgrade.labelling.guideline`, :mod:`fpgrade.labelling.raters_time`) as the operator
(``by=None``: audited with the actor ``cli``, as ``fpgrade campaign create``); a refusal of the
core (closed already, a clash with another open campaign, a guideline too long) is its one line
and exit code 1. SQLAlchemy is imported inside the commands (``--help`` stays light); the
commands are added to ``fpgrade campaign`` by :mod:`fpgrade.cli.labelling`.
"""

from __future__ import annotations

import codecs
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import typer

from fpgrade.cli.console import console, err_console, print_json
from fpgrade.errors import FpgradeError

#: a guideline file larger than this cannot hold an allowed guideline (UTF-8: at most 4 bytes a
#: character); it is refused before it is read
_MAX_BYTES_PER_CHAR = 4


def write_out(out: Path | None, write: Callable[[TextIO], int]) -> int | None:
    """Run ``write`` on stdout (``out`` ``None``; returns ``None``) or on the file ``out``
    (returns what ``write`` returned). :raises FpgradeError: the file cannot be written."""
    if out is None:
        write(sys.stdout)
        return None
    try:
        with open(out, "w", newline="", encoding="utf-8") as handle:
            return write(handle)
    except OSError as exc:
        raise FpgradeError(f"{out}: cannot write ({exc.strerror or exc})") from exc


def _view_json(session, view) -> dict:
    from fpgrade.labelling.campaigns import closed_by_itself, closed_note, get_campaign

    found = get_campaign(session, view.id)
    return {**view.__dict__, "movements": list(view.movements),
            "closed": closed_note(session, found),
            "closed_by_itself": closed_by_itself(session, found)}


def _change_state(name: str, change, said: str, as_json: bool) -> None:
    """Close or reopen (``change``: the core's function) and say so (``said``: a format of the
    campaign's name), or print the campaign as JSON."""
    from fpgrade.storage import database

    with database.session() as session:
        view = change(session, name)
        shown = _view_json(session, view)
    if as_json:
        print_json(shown)
    else:
        console.print(said.format(name=view.name))


def campaign_close(
    name: str = typer.Argument(..., help="The campaign (name or number)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Close a campaign: no more claims, submits or decisions; its final labels stay."""
    from fpgrade.labelling.campaigns import close_campaign

    _change_state(name, close_campaign,
                  "campaign {name} closed (reopen: fpgrade campaign reopen {name})", as_json)


def campaign_reopen(
    name: str = typer.Argument(..., help="The campaign (name or number)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Open a closed campaign again (refused while another open campaign on its scale holds
    one of its undecided media)."""
    from fpgrade.labelling.campaigns import reopen_campaign

    _change_state(name, reopen_campaign, "campaign {name} open again", as_json)


def read_guideline(path: Path, limit: int) -> str:
    """The text of a guideline file (UTF-8, a byte-order mark allowed).

    :raises FpgradeError: one line naming the file: missing, a folder, unreadable, larger than
        any allowed guideline (``limit`` characters), not UTF-8, or empty.
    """
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise FpgradeError(f"{path}: is a folder, not a Markdown file")
        most = _MAX_BYTES_PER_CHAR * limit + len(codecs.BOM_UTF8)
        if size > most:
            raise FpgradeError(f"{path}: {size} bytes; a guideline is at most {limit} characters")
        with open(path, "rb") as handle:   # a pipe or a device has no size: read a bounded part
            data = handle.read(most + 1)
        if len(data) > most:
            raise FpgradeError(f"{path}: more than {most} bytes; a guideline is at most {limit} "
                               "characters")
    except FileNotFoundError:
        raise FpgradeError(f"{path}: no such file") from None
    except OSError as exc:
        raise FpgradeError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FpgradeError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                           f"{exc.start}); save it as UTF-8") from None
    if not text.strip():
        raise FpgradeError(f"{path}: the file is empty (to remove the guideline: --clear)")
    return text


def campaign_guideline(
    name: str = typer.Argument(..., help="The campaign (name or number)."),
    file: Path | None = typer.Option(None, "--file", metavar="GUIDE.md",
                                     help="Set the guideline from this Markdown file (UTF-8)."),
    show: bool = typer.Option(False, "--show", help="Print the stored guideline (Markdown)."),
    clear: bool = typer.Option(False, "--clear", help="Remove the guideline."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The raters' guideline of a campaign (Markdown; what the Admin page's editor stores):
    set it from a file, print it, or remove it."""
    from fpgrade.labelling.campaigns import get_campaign
    from fpgrade.labelling.guideline import MAX_GUIDELINE, set_guideline
    from fpgrade.labelling.model import CampaignError, LabellingError
    from fpgrade.storage import database

    if (file is not None) + show + clear != 1:
        raise FpgradeError("give one of --file GUIDE.md, --show or --clear")
    if show:
        with database.session() as session:
            found = get_campaign(session, name)
            campaign, text = found.name, found.guideline
        if as_json:
            print_json({"campaign": campaign, "guideline": text})
        elif text:
            print(text)
        else:
            err_console.print(f"campaign {campaign} has no guideline yet")
        return
    text = None if clear else read_guideline(file, MAX_GUIDELINE)
    with database.session() as session:
        try:
            set_guideline(session, name, text)
        except CampaignError:
            raise
        except LabellingError as exc:          # the core's validation (its length)
            raise FpgradeError(f"{file}: {exc}") from None
        found = get_campaign(session, name)
        campaign, stored = found.name, found.guideline or ""
    if as_json:
        print_json({"campaign": campaign, "characters": len(stored)})
    elif clear:
        console.print(f"guideline of campaign {campaign} removed")
    else:
        console.print(f"guideline of campaign {campaign} set from {file} "
                      f"({len(stored)} characters)")


def campaign_figures(
    name: str = typer.Argument(..., help="The campaign (name or number)."),
    out: Path | None = typer.Option(None, "--out", help="CSV file (default: stdout)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of CSV."),
) -> None:
    """Per-labeller figures over time, per ISO week and per block of 50 passes (items, median
    time per item, agreement with the final label and with each other rater): the CSV of the
    progress page's export."""
    from fpgrade.labelling.raters_time import BLOCK, exported_figures, write_csv
    from fpgrade.storage import database

    with database.session() as session:
        figures = exported_figures(session, name)
    if as_json:
        print_json([{"rater": f.rater, "period": f.period, "items": f.items,
                     "median_seconds": f.median_seconds,
                     "agreement": {k: {"n": v.n, "share": v.share}
                                   for k, v in f.agreement.items()}} for f in figures])
        return
    count = write_out(out, lambda handle: write_csv(figures, handle))
    if out is not None:
        raters = len({f.rater for f in figures})
        err_console.print(f"{count} rows of figures ({raters} "
                          f"{'rater' if raters == 1 else 'raters'}, per week and per {BLOCK} "
                          f"items) written to {out}")

