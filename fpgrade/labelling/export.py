"""Final labels with their provenance as CSV (``fpgrade labels export``, the export page).

One row per final label: the medium (its id and sha256, the pseudonymous subject code, the
movement; its path only when asked for, and then relative to a folder the user names: an absolute
server path can name a patient's folder and must not leave the server with a CSV), the label, how it was decided (method, by whom, campaign, reason, which annotations, which second
check) and when. Subjects are the group's pseudonyms; no patient name is stored anywhere.
A free-text cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``) is written with a leading ``'``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from fpgrade.labelling.final import FinalRecord

COLUMNS = ("media_id", "sha256", "subject", "movement", "scale", "label", "method", "decided_by",
           "campaign", "reason", "annotation_ids", "check_result_id", "decided_at", "synthetic")
_FORMULA = ("=", "+", "-", "@")


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def relative_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (POSIX separators), or ``""`` when it lies elsewhere."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except (ValueError, OSError):
        return ""


def write_csv(records: Iterable[FinalRecord], handle: TextIO, *,
              paths_relative_to: Path | None = None) -> int:
    """Write ``records`` as CSV to ``handle``; returns the number of rows.

    ``paths_relative_to``: add a ``path`` column, relative to this folder (empty for a medium
    outside it); without it no path is written."""
    writer = csv.writer(handle)
    writer.writerow(COLUMNS + (("path",) if paths_relative_to is not None else ()))
    count = 0
    for r in records:
        row = [r.media_id, r.sha256, _cell(r.subject), _cell(r.movement), r.scale, r.label,
               r.method, _cell(r.decided_by), _cell(r.campaign), _cell(r.reason),
               ";".join(map(str, r.annotation_ids)), r.check_result_id or "",
               r.decided_at.isoformat(), int(r.synthetic)]
        if paths_relative_to is not None:
            row.append(_cell(relative_path(r.path, paths_relative_to)))
        writer.writerow(row)
        count += 1
    return count
