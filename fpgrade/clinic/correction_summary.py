"""How often and how far a group's clinicians correct the detector's landmarks by hand, per
landmark group (issue 19), from the corrections saved with the assessments: where the detector
fails for this group's patients.

Per group of points (:data:`fpgrade.clinic.corrections.GROUPS`): of the saved photos, how many had
a point of the group moved (and what share), how many points were moved in all, and how far
(median, mean and largest distance in mm, with each photo's iris ruler). A photo is one movement
of one saved assessment; a visit saved twice (keep both) counts twice, as both were graded.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable, Mapping

from fpgrade.clinic.corrections import GROUPS

COLUMNS = ("landmark group", "photos saved", "photos corrected", "share of photos (%)",
           "points moved", "median distance (mm)", "mean distance (mm)", "largest distance (mm)",
           "corrected by")


def summarise(assessments: Iterable[Mapping]) -> list[dict]:
    """One row per landmark group (:data:`COLUMNS`) from the ``measurements`` of saved
    assessments (movement -> values, with ``landmark_corrections`` where points were moved)."""
    photos = 0
    corrected: dict[str, int] = {g: 0 for g in GROUPS}
    distances: dict[str, list[float]] = {g: [] for g in GROUPS}
    people: dict[str, set[str]] = {g: set() for g in GROUPS}
    for measurements in assessments:
        for values in (measurements or {}).values():
            if not isinstance(values, Mapping):
                continue
            photos += 1
            records = values.get("landmark_corrections") or []
            for group in {r.get("group") for r in records if r.get("group") in GROUPS}:
                corrected[group] += 1
            for r in records:
                if r.get("group") in GROUPS:
                    distances[r["group"]].append(float(r.get("distance_mm") or 0.0))
                    people[r["group"]].add(str(r.get("by") or "unknown"))
    rows = []
    for group in GROUPS:
        moved = distances[group]
        rows.append({
            "landmark group": group, "photos saved": photos,
            "photos corrected": corrected[group],
            "share of photos (%)": round(100 * corrected[group] / photos, 1) if photos else None,
            "points moved": len(moved),
            "median distance (mm)": round(statistics.median(moved), 2) if moved else None,
            "mean distance (mm)": round(statistics.fmean(moved), 2) if moved else None,
            "largest distance (mm)": round(max(moved), 2) if moved else None,
            "corrected by": ", ".join(sorted(people[group])),
        })
    return rows


def saved() -> list[dict]:
    """The ``measurements`` of every saved assessment in the database."""
    from sqlmodel import select

    from fpgrade.storage import database
    from fpgrade.storage.tables import Assessment

    with database.session() as session:
        return [row or {} for row in session.exec(select(Assessment.measurements)).all()]


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def markdown(rows: list[dict]) -> str:
    """The summary as a Markdown table for the page (an empty database says so)."""
    photos = rows[0]["photos saved"] if rows else 0
    if not photos:
        return "No saved assessment yet: nothing to summarise."
    head = "| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS) + "\n"
    body = "".join("| " + " | ".join("-" if r[c] is None else str(r[c]) for c in COLUMNS)
                   + " |\n" for r in rows)
    return (f"Landmarks corrected by hand in the {photos} saved photo(s) of every subject "
            "(one photo = one movement of one saved visit):\n\n" + head + body)
