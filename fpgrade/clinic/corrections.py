"""Hand correction of landmarks (issue 19): a clinician drags a point the detector placed wrongly,
and every measurement, eFACE item and the summary are read again from the corrected points by the
same code as the detector's (:func:`fpgrade.clinic.assess.measure_points`,
:func:`fpgrade.clinic.assess.assemble`); nothing is computed by a second formula.

Emotrics (Guarin et al. 2018) lets the user move any landmark and measure again; so does this,
for the points the measurements read: brows, lids and eye corners, the iris circles (centre and
radius), mouth corners and lips. The facial midline is not a point of its own: as in Emotrics it
is the perpendicular bisector of the two iris centres, so it follows them.

Each correction is recorded per point (:func:`moves`): which point, from where to where in image
pixels, how far in pixels and millimetres (with the corrected photo's iris ruler), by whom and
when. A point moved back onto the detector's position is no correction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timezone

import numpy as np

from fpgrade.errors import FpgradeError
from fpgrade.face import landmark_file
from fpgrade.face.measure import DEVIATIONS, SIDE_MEASURES, landmarks_used

MOVED_PX = 0.05  # a point closer than this to the detector's was not moved

# Landmark groups a clinician names, with the iBUG points in each (the subject's sides).
GROUPS: dict[str, tuple[str, ...]] = {
    "brow": tuple(str(i) for i in range(17, 27)),
    "eye corner": ("36", "39", "42", "45"),
    "upper lid": ("37", "38", "43", "44"),
    "lower lid": ("40", "41", "46", "47"),
    "iris": ("iris_right", "iris_left"),
    "mouth corner": ("48", "54", "60", "64"),
    "upper lip": ("49", "50", "51", "52", "53", "61", "62", "63"),
    "lower lip": ("55", "56", "57", "58", "59", "65", "66", "67"),
}
GROUP_OF = {point: group for group, points in GROUPS.items() for point in points}
EDITABLE = tuple(GROUP_OF)
_RIGHT = {*map(str, range(17, 22)), *map(str, range(36, 42)), "iris_right", "48", "49", "50",
          "58", "59", "60", "61", "67"}
_MIDDLE = {"51", "57", "62", "66"}


class CorrectionError(FpgradeError):
    """A correction that cannot be applied (unknown photo, a point that is not editable...)."""


def point_words(point: str) -> str:
    """A point in words: ``"upper lid, right (38)"``, ``"iris, left"``."""
    group = GROUP_OF.get(point, "point")
    side = "middle" if point in _MIDDLE else "right" if point in _RIGHT else "left"
    return f"{group}, {side}" + ("" if point.startswith("iris") else f" ({point})")


def editable_points(landmarks) -> dict[str, list[float]]:
    """The points the page lets a user move (:data:`EDITABLE`), with their positions."""
    points = landmark_file.points_of(landmarks)
    return {k: points[k] for k in EDITABLE}


def moves(detected, corrected, mm_per_px: float, *, earlier: list[dict] | None = None,
          by: str = "demo", at: str | None = None) -> list[dict]:
    """One record per point of ``corrected`` that differs from ``detected``: ``point``,
    ``words``, ``group``, ``from`` and ``to`` (``[x, y]``, ``[x, y, radius]`` for an iris, image
    pixels), ``distance_px`` / ``distance_mm`` (how far the centre moved), ``radius_change_px``
    (irises), ``by`` and ``at``. A point already in ``earlier`` at the same place keeps its
    record (its author and time); a point moved again is recorded as now, by ``by``."""
    before = landmark_file.points_of(detected)
    after = landmark_file.points_of(corrected)
    kept = {r["point"]: r for r in earlier or []}
    at = at or datetime.now(timezone.utc).isoformat(timespec="seconds")
    out = []
    for point in landmark_file.point_ids():
        start, end = np.array(before[point]), np.array(after[point])
        if float(np.max(np.abs(start - end))) < MOVED_PX:
            continue
        old = kept.get(point)
        if old is not None and np.allclose(old["to"], end, atol=0.01):  # "to" was rounded
            out.append(old)
            continue
        distance = float(np.linalg.norm(end[:2] - start[:2]))
        record = {"point": point, "words": point_words(point),
                  "group": GROUP_OF.get(point, "other"),
                  "from": [round(v, 2) for v in start.tolist()],
                  "to": [round(v, 2) for v in end.tolist()],
                  "distance_px": round(distance, 2), "distance_mm": round(distance * mm_per_px, 2),
                  "by": by or "demo", "at": at}
        if len(start) == 3:
            record["radius_change_px"] = round(float(end[2] - start[2]), 2)
        out.append(record)
    return out


def affected(corrections: list[dict]) -> dict[str, list[str]]:
    """Value key (``"mrd1_left"``, a deviation name) -> the moved points it reads."""
    moved = [r["point"] for r in corrections]
    keys = [f"{n}_{s}" for n in SIDE_MEASURES for s in ("right", "left")] + list(DEVIATIONS)
    out = {}
    for key in keys:
        used = landmarks_used(key)
        hit = [p for p in moved if p in used]
        if hit:
            out[key] = hit
    return out


def line(movement_words: str, corrections: list[dict]) -> str:
    """``Landmarks corrected by hand (Smile): upper lid, right (38) 1.2 mm (1.5 px); ...``."""
    parts = [f"{r['words']} {r['distance_mm']:.1f} mm ({r['distance_px']:.1f} px"
             + (f", radius {r['radius_change_px']:+.1f} px)" if r.get("radius_change_px") else ")")
             for r in corrections]
    who = sorted({r["by"] for r in corrections})
    return (f"Landmarks corrected by hand ({movement_words}): " + "; ".join(parts)
            + f" - by {', '.join(who)}")


def correct(result, movement: str, points: Mapping[str, object], *, by: str = "demo",
            at: str | None = None):
    """The set ``result`` with the photo of ``movement`` measured from ``points`` (ids of
    :data:`EDITABLE` -> positions; those not given stay where they are), and everything that
    depends on it graded again: the healthy side (unless the user set it), eFACE items, the
    rest-photo warning. The photo's overlay is drawn again on the corrected points.

    :raises CorrectionError: no measured photo of that movement, a video, or a point that is not
        editable.
    """
    from fpgrade.clinic.assess import assemble, measure_points, quality_notes

    photo = next((p for p in result.photos if p.movement == movement and p.ok), None)
    if photo is None:
        raise CorrectionError(f"no measured photo of {movement!r} to correct")
    if photo.landmarks is None:
        raise CorrectionError(f"{photo.name}: the landmarks of a video are not corrected by hand "
                              "(its values are medians over frames)")
    unknown = [k for k in points if str(k) not in EDITABLE]
    if unknown:
        raise CorrectionError(f"{photo.name}: {', '.join(map(str, unknown))} cannot be moved "
                              "by hand (not a point the measurements read)")
    _near_the_face(photo.name, photo.landmarks, points)
    current = photo.points
    corrected = landmark_file.with_points(current, points, source=photo.name)
    measured = measure_points(corrected)
    records = moves(photo.landmarks, corrected, measured.mm_per_px, earlier=photo.corrections,
                    by=by, at=at)
    notes = [n for n in photo.notes if not n.startswith("measurement quality")]
    new = replace(photo, measurements=measured, corrected=corrected if records else None,
                  corrections=records, notes=notes + quality_notes(measured))
    if records or photo.corrections:
        new.overlay = _overlay(new)
    photos = [new if p is photo else p for p in result.photos]
    side = result.healthy_side if result.side_reason == "set by the user" else None
    return assemble(photos, result.missing, healthy_side=side)


def _near_the_face(name: str, landmarks, points: Mapping[str, object]) -> None:
    """Refuse a point more than one face size away from the detector's points, or an iris
    radius over half the face: no hand moves a lid off the photo, and such a value would be
    stored, summarised and drawn (a point at 2e9 px cost seconds of drawing)."""
    import math

    import numpy as np

    ibug = np.asarray(landmarks.ibug68, dtype=np.float64)
    low, high = ibug.min(axis=0), ibug.max(axis=0)
    size = float(max(high - low))
    for key, value in points.items():
        if not isinstance(value, (list, tuple)) or len(value) < 2 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in value):
            continue   # the shape of a point is landmark_file's to refuse, with its words
        x, y = float(value[0]), float(value[1])
        if not (low[0] - size <= x <= high[0] + size and low[1] - size <= y <= high[1] + size):
            raise CorrectionError(f"{name}: {point_words(str(key))} at ({x:g}, {y:g}) px lies "
                                  "more than a face's size away from the face: not moved")
        if len(value) == 3 and float(value[2]) > size / 2:
            raise CorrectionError(f"{name}: {point_words(str(key))}: a radius of "
                                  f"{float(value[2]):g} px is over half the face: not moved")


def _overlay(photo):
    """The photo's overlay drawn again on its current points (as grading draws it)."""
    from fpgrade.clinic.assess import _shrink
    from fpgrade.face.overlay import draw_overlay
    from fpgrade.imageio import load_image

    try:
        rgb = load_image(photo.path)
    except (OSError, FpgradeError):  # the upload is gone: keep the old picture
        return photo.overlay
    return _shrink(draw_overlay(rgb, photo.points, photo.measurements))


def all_corrections(result) -> list[tuple[str, list[dict]]]:
    """(movement, corrections) of every photo of the set that was corrected by hand."""
    return [(p.movement, p.corrections) for p in result.photos if p.corrections]
