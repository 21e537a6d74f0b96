"""Final labels with their provenance as CSV (``fpgrade labels export``, the export page).

One row per final label: the medium (pseudonymous subject code, path, sha256, movement), the
label, how it was decided (method, by whom, campaign, reason, which annotations, which second
check) and when. Subjects are the group's pseudonyms; no patient name is stored anywhere.
A free-text cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``) is written with a leading ``'``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from fpgrade.labelling.final import FinalRecord

COLUMNS = ("subject", "path", "sha256", "movement", "scale", "label", "method", "decided_by",
           "campaign", "reason", "annotation_ids", "check_result_id", "decided_at", "synthetic")
_FORMULA = ("=", "+", "-", "@")


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def write_csv(records: Iterable[FinalRecord], handle: TextIO) -> int:
    """Write ``records`` as CSV to ``handle``; returns the number of rows."""
    writer = csv.writer(handle)
    writer.writerow(COLUMNS)
    count = 0
    for r in records:
        writer.writerow([_cell(r.subject), _cell(r.path), r.sha256, _cell(r.movement), r.scale,
                         r.label, r.method, _cell(r.decided_by), _cell(r.campaign),
                         _cell(r.reason), ";".join(map(str, r.annotation_ids)),
                         r.check_result_id or "", r.decided_at.isoformat(),
                         int(r.synthetic)])
        count += 1
    return count
