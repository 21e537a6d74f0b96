"""The landmarks a measurement reads, as a JSON file: what ``fpgrade measure --landmarks`` takes
and what the clinician page exports after a hand correction (issue 19).

The measurements (:func:`fpgrade.face.measure.measure`) read 68 iBUG points and two iris circles,
so that is what a file holds, in pixels of the photo as shown upright (after its EXIF rotation,
as :func:`fpgrade.imageio.load_image` reads it). Three forms, one JSON object each:

- **all points**: ``{"ibug68": [[x, y], ... 68 pairs], "iris_right": [x, y, radius],
  "iris_left": [x, y, radius]}`` (the subject's right and left; the detector is not run);
- **the points that changed**: ``{"changed": {"38": [x, y], "iris_left": [x, y, radius]}}``:
  iBUG indices 0-67 as strings, or ``iris_right`` / ``iris_left``; the detector's points of the
  photo are used for every other point;
- **a MediaPipe mesh**: ``{"mesh": [[x, y] or [x, y, z], ... 478]}`` (points 0-467 the face,
  468-477 the irises), mapped to iBUG-68 as the detector maps its own mesh
  (:func:`fpgrade.face.detect.landmarks_from_mesh`).

Optional keys (``format``, ``image``, ``width``, ``height``, ``corrections``) are written by the
page and ignored on reading, except that a ``width``/``height`` that differs from the photo's is an
error (points of another photo, or of a resized copy).

Deviation from issue 19's first sketch (a 478-point list): the detector's iBUG points are the
mean of two mesh fits (the photo and its mirror) with shut eyes closed afterwards, so they are not
vertices of any one mesh; a 478-point file can be read, but the page writes the 68 points and two
circles that were measured.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from fpgrade.errors import FpgradeError
from fpgrade.face.landmarks import Circle, FaceLandmarks

FORMAT = "fpgrade-landmarks/1"
IRISES = ("iris_right", "iris_left")
MESH_POINTS = 478


class LandmarksFileError(FpgradeError):
    """A landmarks file that cannot be used (the message names the file and the problem)."""


def point_ids() -> list[str]:
    """Every point id of a file: ``"0"`` ... ``"67"``, ``iris_right``, ``iris_left``."""
    return [str(i) for i in range(68)] + list(IRISES)


def points_of(landmarks: FaceLandmarks) -> dict[str, list[float]]:
    """Point id -> ``[x, y]`` (an iBUG point) or ``[x, y, radius]`` (an iris)."""
    out = {str(i): [float(x), float(y)] for i, (x, y) in enumerate(landmarks.ibug68)}
    out["iris_right"] = landmarks.iris_right.as_list()
    out["iris_left"] = landmarks.iris_left.as_list()
    return out


def with_points(landmarks: FaceLandmarks, points: Mapping[str, object], *,
                source: str = "points") -> FaceLandmarks:
    """``landmarks`` with the given points replaced (ids of :func:`point_ids`). A replaced point
    is a person's, not the detector's: its mirror-averaging ``spread`` becomes 0 and the mesh is
    dropped (it no longer matches the points).

    :raises LandmarksFileError: an unknown id, a point that is not 2 (3 for an iris) finite
        numbers, or an iris radius that is not positive; the message starts with ``source``.
    """
    ibug = np.array(landmarks.ibug68, dtype=np.float64, copy=True)
    irises = {"iris_right": landmarks.iris_right, "iris_left": landmarks.iris_left}
    spread = None if landmarks.spread is None else np.array(landmarks.spread, dtype=np.float64)
    for key, value in points.items():
        key = str(key)
        if key in IRISES:
            x, y, radius = _numbers(value, 3, f"{source}: {key}")
            if radius <= 0:
                raise LandmarksFileError(f"{source}: {key}: the radius must be positive, not "
                                         f"{radius:g}")
            irises[key] = Circle(x, y, radius)
        elif key.isdigit() and int(key) < 68:
            ibug[int(key)] = _numbers(value, 2, f"{source}: point {key}")
            if spread is not None:
                spread[int(key)] = 0.0
        else:
            raise LandmarksFileError(f"{source}: unknown point {key!r} (iBUG indices 0-67, "
                                     "iris_right or iris_left)")
    return replace(landmarks, ibug68=ibug, iris_right=irises["iris_right"],
                   iris_left=irises["iris_left"], mesh=None, spread=spread)


def _numbers(value: object, count: int, where: str) -> list[float]:
    if (not isinstance(value, (list, tuple)) or len(value) != count
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            or not all(math.isfinite(v) for v in value)):
        what = "[x, y]" if count == 2 else "[x, y, radius]"
        raise LandmarksFileError(f"{where}: expected {what} as {count} numbers, got "
                                 f"{json.dumps(value)[:60]}")
    return [float(v) for v in value]


def read(path: Path, detected: FaceLandmarks | None = None,
         size: tuple[int, int] | None = None) -> FaceLandmarks:
    """The landmarks of a file (see the module docstring). ``detected`` (the detector's points of
    the photo) is needed only for a file of changed points; ``size`` (width, height) of the photo
    is checked against the file's when both are known.

    :raises LandmarksFileError: one line naming ``path`` and the problem.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LandmarksFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LandmarksFileError(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise LandmarksFileError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    return parse(data, source=str(path), detected=detected, size=size)


def parse(data: object, *, source: str, detected: FaceLandmarks | None = None,
          size: tuple[int, int] | None = None) -> FaceLandmarks:
    """:func:`read` of an already decoded JSON value (``source`` names it in errors)."""
    if not isinstance(data, dict):
        raise LandmarksFileError(f"{source}: expected a JSON object with 'ibug68', 'changed' or "
                                 "'mesh', got " + type(data).__name__)
    forms = [k for k in ("ibug68", "changed", "mesh") if k in data]
    if len(forms) != 1:
        raise LandmarksFileError(
            f"{source}: give exactly one of 'ibug68' (all points, with 'iris_right' and "
            f"'iris_left'), 'changed' (the points moved) or 'mesh' (478 points); found "
            f"{', '.join(repr(f) for f in forms) or 'none'}")
    if size is not None and ("width" in data or "height" in data):
        given = (data.get("width"), data.get("height"))
        if tuple(given) != tuple(size):
            raise LandmarksFileError(f"{source}: the points are of a {given[0]} x {given[1]} "
                                     f"picture, the photo is {size[0]} x {size[1]}")
    form = forms[0]
    if form == "changed":
        if detected is None:
            raise LandmarksFileError(f"{source}: 'changed' points need the photo's detected "
                                     "points (give the photo)")
        if not isinstance(data["changed"], dict):
            raise LandmarksFileError(f"{source}: 'changed' must be an object {{point: [x, y]}}")
        return with_points(detected, data["changed"], source=source)
    if form == "mesh":
        from fpgrade.face.detect import landmarks_from_mesh

        mesh = data["mesh"]
        if not isinstance(mesh, list) or len(mesh) != MESH_POINTS:
            raise LandmarksFileError(f"{source}: 'mesh' must list {MESH_POINTS} points, got "
                                     f"{len(mesh) if isinstance(mesh, list) else 'no list'}")
        rows = [_numbers(list(p)[:2] if isinstance(p, (list, tuple)) and len(p) == 3 else p, 2,
                         f"{source}: mesh point {i}") for i, p in enumerate(mesh)]
        array = np.column_stack([np.array(rows), np.zeros(MESH_POINTS)])
        base = landmarks_from_mesh(array)
        return replace(base, mesh=None, box=detected.box if detected else None)
    points = data["ibug68"]
    if not isinstance(points, list) or len(points) != 68:
        raise LandmarksFileError(f"{source}: 'ibug68' must list 68 points [x, y], got "
                                 f"{len(points) if isinstance(points, list) else 'no list'}")
    missing = [k for k in IRISES if k not in data]
    if missing:
        raise LandmarksFileError(f"{source}: {' and '.join(missing)} missing ([x, y, radius] "
                                 "in pixels)")
    template = detected or FaceLandmarks(np.zeros((68, 2)), Circle(0, 0, 1), Circle(1, 0, 1))
    changed = {str(i): p for i, p in enumerate(points)} | {k: data[k] for k in IRISES}
    return with_points(replace(template, spread=None), changed, source=source)


def document(landmarks: FaceLandmarks, *, image: str, size: tuple[int, int],
             corrections: list[dict] | None = None) -> dict:
    """The JSON object of all points (the first form), with the photo's name and size and, when
    given, the hand corrections that led to them."""
    points = points_of(landmarks)
    doc = {"format": FORMAT, "image": image, "width": int(size[0]), "height": int(size[1]),
           "ibug68": [points[str(i)] for i in range(68)],
           "iris_right": points["iris_right"], "iris_left": points["iris_left"]}
    if corrections:
        doc["corrections"] = corrections
    return doc
