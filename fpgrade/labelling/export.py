"""Final labels with their provenance as CSV (``fpgrade labels export``, the export page).

One row per final label: the medium (its id and sha256, the pseudonymous subject code, the
movement; its path only when asked for, and then relative to a folder the user names: an absolute
server path can name a patient's folder and must not leave the server with a CSV), the label, how it was decided (method, by whom, campaign, reason, which annotations, which second
check) and when. Subjects are the group's pseudonyms; no patient name is stored anywhere.
A free-text cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``) is written with a leading ``'``.

A per-subject campaign (unit ``visit``, :mod:`.units`) wrote one grade to every medium of a
visit: its label is one row per visit, naming the anchor medium in ``media_id`` / ``sha256``, the
visit's movements in ``movement`` and every medium it covers in ``covers_media`` (ids, ``;``
between them); the ``unit`` column says which unit the label's campaign used (``medium`` or
``visit``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from fpgrade.labelling.final import FinalRecord

COLUMNS = ("media_id", "sha256", "subject", "movement", "scale", "label", "method", "decided_by",
           "campaign", "reason", "annotation_ids", "check_result_id", "decided_at", "synthetic",
           "visit", "unit", "covers_media")
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


def _rows(records: Iterable[FinalRecord]) -> list[list[FinalRecord]]:
    """The records grouped by export row: one each, except a visit campaign's, grouped by
    campaign, subject, visit and scale, ordered as :func:`.units.group_media` orders a visit
    (the anchor first: by movement, then id)."""
    rows: list[list[FinalRecord]] = []
    visits: dict[tuple, list[FinalRecord]] = {}
    for r in records:
        if r.unit != "visit":
            rows.append([r])
            continue
        key = (r.campaign, r.subject, r.visit, r.scale)
        if key not in visits:
            visits[key] = []
            rows.append(visits[key])
        visits[key].append(r)
    for group in visits.values():
        group.sort(key=lambda r: (r.movement is None, r.movement or "", r.media_id))
    return rows


@dataclass(frozen=True)
class ExportCount:
    """What an export holds: its rows (final labels), how many of them are a visit's grade, and
    how many media the rows cover (a visit's row covers each medium of the visit)."""

    rows: int
    visits: int
    media: int

    def words(self) -> str:
        """``4 final labels (4 media)``; ``2 final labels (2 visits, 6 media in all)``; mixed:
        ``5 final labels (3 media one by one, 2 visits of 6 media: 9 media in all)``."""
        def n(count: int, one: str, many: str) -> str:
            return f"{count} {one if count == 1 else many}"

        head = n(self.rows, "final label", "final labels")
        singles = self.rows - self.visits
        covered = self.media - singles
        if not self.visits:
            return f"{head} ({n(self.media, 'medium', 'media')})"
        if not singles:
            return (f"{head} ({n(self.visits, 'visit', 'visits')}, "
                    f"{n(self.media, 'medium', 'media')} in all)")
        return (f"{head} ({n(singles, 'medium', 'media')} one by one, "
                f"{n(self.visits, 'visit', 'visits')} of {n(covered, 'medium', 'media')}: "
                f"{n(self.media, 'medium', 'media')} in all)")


def count_rows(records: Iterable[FinalRecord]) -> ExportCount:
    """How :func:`write_csv` will lay ``records`` out (:class:`ExportCount`)."""
    rows = _rows(records)
    return ExportCount(len(rows), sum(group[0].unit == "visit" for group in rows),
                       sum(len(group) for group in rows))


def write_csv(records: Iterable[FinalRecord], handle: TextIO, *,
              paths_relative_to: Path | None = None) -> int:
    """Write ``records`` as CSV to ``handle``; returns the number of rows.

    ``paths_relative_to``: add a ``path`` column, relative to this folder (empty for a medium
    outside it); without it no path is written."""
    writer = csv.writer(handle)
    writer.writerow(COLUMNS + (("path",) if paths_relative_to is not None else ()))
    count = 0
    for group in _rows(records):
        r = group[0]
        movement = ";".join(m.movement or "" for m in group)
        row = [r.media_id, r.sha256, _cell(r.subject), _cell(movement), r.scale, r.label,
               r.method, _cell(r.decided_by), _cell(r.campaign), _cell(r.reason),
               ";".join(map(str, r.annotation_ids)), r.check_result_id or "",
               r.decided_at.isoformat(), int(any(m.synthetic for m in group)), _cell(r.visit),
               r.unit, ";".join(str(m.media_id) for m in group)]
        if paths_relative_to is not None:
            row.append(_cell(";".join(relative_path(m.path, paths_relative_to) for m in group)))
        writer.writerow(row)
        count += 1
    return count
