"""``fpgrade measure`` over many files: the worker task and the table's columns.

One row per photo; per video, one row of medians over its frames (``row = "video median"``) and
one row per frame with a face (``row = "frame"``, ``frame`` its number). The columns are fixed
(:data:`COLUMNS`) and carry their unit: ``_mm``, ``_deg`` (degrees), ``_percent``; the asymmetry
indices of paper 001 without a unit are ratios in [0, 1]. ``quality_flags`` lists the flags of
each value (``mrd1_left: eye_closed; ...``, see :mod:`fpgrade.face.measure`), empty when none.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from fpgrade.batch import Outcome, error_line
from fpgrade.errors import FpgradeError
from fpgrade.face.measure import ANGULAR, DEVIATIONS, REGIONAL, SIDE_MEASURES, UNITS, FaceMeasurements

_SHORT_UNIT = {"mm": "mm", "degrees": "deg"}
_ANGLE_INDICES = (*ANGULAR, "AnAs")


def _index_column(name: str, suffix: str = "") -> str:
    return name + suffix + ("_deg" if name in _ANGLE_INDICES else "")


def _side_columns(name: str) -> list[str]:
    unit = _SHORT_UNIT[UNITS[name]]
    return [f"{name}_right_{unit}", f"{name}_left_{unit}", f"{name}_difference_{unit}",
            f"{name}_percent"]


COLUMNS: list[str] = [
    "path", "kind", "row", "frame", "faces_found", "frames_read", "frames_with_face",
    "mm_per_px", "reference_side", "yaw_deg", "scale_source",
    *(column for name in SIDE_MEASURES for column in _side_columns(name)),
    *(f"{name}_{_SHORT_UNIT[UNITS[name]]}" for name in DEVIATIONS),
    *(_index_column(name) for name in (*REGIONAL, "RgAs", *ANGULAR, "AnAs")),
    *(_index_column(name, "_signed") for name in (*REGIONAL, *ANGULAR)),
    "quality_flags",
]


def measurement_cells(m: FaceMeasurements) -> dict[str, Any]:
    """The measurement columns of one face."""
    cells: dict[str, Any] = {"mm_per_px": m.mm_per_px, "reference_side": m.reference_side,
                             "yaw_deg": m.yaw_degrees, "scale_source": m.scale_source}
    for name, value in m.sides.items():
        right, left, difference, percent = _side_columns(name)
        cells.update({right: value.right, left: value.left, difference: value.difference,
                      percent: value.percent})
    for name, value in m.deviations.items():
        cells[f"{name}_{_SHORT_UNIT[UNITS[name]]}"] = value
    for name, value in m.asymmetry.items():
        cells[_index_column(name)] = value
    for name, value in m.signed.items():
        cells[_index_column(name, "_signed")] = value
    cells["quality_flags"] = "; ".join(f"{key}: {', '.join(flags)}"
                                       for key, flags in m.quality.items() if flags)
    return cells


def rows_of(path: str, result: dict[str, Any], summary: FaceMeasurements,
            per_frame: list[tuple[int, int, FaceMeasurements]]) -> list[dict[str, Any]]:
    """The table rows of one measured file (``per_frame``: frame number, faces found, values)."""
    frames = result["frames"]
    common = {"path": path, "kind": "photo" if result["kind"] == "image" else "video",
              "frames_read": frames["read"], "frames_with_face": frames["with_face"]}
    if result["kind"] == "image":
        return [{**common, "row": "photo", "faces_found": result["faces_found"],
                 **measurement_cells(summary)}]
    rows = [{**common, "row": "video median", "faces_found": result["faces_found"],
             **measurement_cells(summary)}]
    rows += [{**common, "row": "frame", "frame": index, "faces_found": faces,
              **measurement_cells(m)} for index, faces, m in per_frame]
    return rows


def measure_task(path: str, options: dict[str, Any]) -> Outcome:
    """Measure one file (in a worker process): its JSON result and table rows, or the reason
    it could not be measured. MediaPipe's graphs stay loaded in the worker for its next file."""
    from fpgrade.cli.measure import measure_file
    from fpgrade.face.detect import MultipleFacesWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MultipleFacesWarning)
        try:
            result, _, summary, per_frame = measure_file(Path(path), want_overlay=False, **options)
        except FpgradeError as exc:
            return Outcome(path, error=error_line(path, exc),
                           warnings=[str(w.message) for w in caught])
        except Exception as exc:  # a bug or an unforeseen file: reported, the run goes on
            return Outcome(path, error=f"{path}: could not be measured "
                                       f"({type(exc).__name__}: {exc})")
    return Outcome(path, result={"path": path, **result},
                   rows=rows_of(path, result, summary, per_frame),
                   warnings=[str(w.message) for w in caught])
