"""Sideways photos: found from the face's own orientation, turned upright, or refused (issue 18).

A photo taken with the phone on its side and saved without an EXIF orientation shows the face
lying on its side. MediaPipe's face mesh is trained on upright faces: on such a photo it either
fits the face badly (issue 18: fissure 8.08 mm against 6.23 upright, only the mouth values
flagged) or draws an upright face that is not there (on the example set's closed-eyes photo turned
90 degrees it read both shut eyes 7-8 mm open, with no flag at all). Neither can be caught later
from the measurements.

The face's "down" direction is read twice, independently:

- from the landmarks: from the midpoint of the four eye corners (iBUG 36, 39, 42, 45) to the
  middle of the mouth (48, 51, 54, 57);
- from the face detector's own keypoints (MediaPipe's short-range detector, BlazeFace: eyes and
  mouth centre, Bazarevsky et al. 2019), which are found in any orientation and so still point
  down the face when the mesh has drawn an upright one on a sideways photo.

Where either points more than :data:`MAX_TILT_DEGREES` away from the image's down, the photo is
turned by the quarter turns that bring that direction down (the detector's reading first: it is the
one the mesh cannot fool), analysed again, and its landmarks are mapped back onto the photo as
given, so overlays and stored coordinates stay those of the file; every value is flagged
``photo_turned_upright``. When the turned photo does not give an upright face either, the photo is
refused with one line (:class:`~fpgrade.errors.NoFaceFoundError`), rather than measured sideways.
Faces tilted less than 45 degrees are measured as they are: the measurements are levelled on the
face itself.

On the shared photos and the example set (11 faces) turned a quarter turn either way, every face was
turned back and measured exactly as upright (same values to 0.01 mm). Not caught: a photo upside
down (180 degrees). Both the detector's keypoints and the mesh draw an upright face on it, so
neither direction says anything is wrong; only the detector's score tells the two apart (0.6-0.83
upside down against 0.95-0.97 upright on the example set), too narrow a margin to turn a photo on.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from fpgrade.errors import NoFaceFoundError
from fpgrade.face.landmarks import FaceBox, FaceLandmarks

MAX_TILT_DEGREES = 45.0


def landmark_down_degrees(points68: np.ndarray) -> float:
    """Direction (degrees, image axes: 90 is straight down) from the eyes to the mouth."""
    eyes = points68[[36, 39, 42, 45]].mean(axis=0)
    mouth = points68[[48, 51, 54, 57]].mean(axis=0)
    dx, dy = mouth - eyes
    return float(np.degrees(np.arctan2(dy, dx)))


def detector_down_degrees(analyser, rgb: np.ndarray, near: np.ndarray) -> float | None:
    """The same direction from the face detector's keypoints (eyes, mouth centre) of the
    detection nearest the point ``near``; ``None`` when the detector finds no face."""
    from fpgrade.face.detect import _reduced

    small, scale = _reduced(rgb)
    best, distance = None, np.inf
    for detection in analyser._run("short", np.ascontiguousarray(small)).detections or ():
        keys = detection.location_data.relative_keypoints
        if len(keys) < 4:
            continue
        points = np.array([(k.x * small.shape[1], k.y * small.shape[0]) for k in keys[:4]]) / scale
        gap = float(np.linalg.norm(points[:2].mean(axis=0) - near))
        if gap < distance:
            eyes, mouth = points[:2].mean(axis=0), points[3]
            best, distance = float(np.degrees(np.arctan2(*(mouth - eyes)[::-1]))), gap
    return best


def off_vertical(degrees: float) -> float:
    """How far (degrees, 0-180) a direction is from straight down."""
    return abs((degrees - 90.0 + 180.0) % 360.0 - 180.0)


def quarter_turns(degrees: float) -> int:
    """``k`` for ``np.rot90(image, k)`` that brings a face whose down points at ``degrees``
    closest to upright (``np.rot90`` turns the picture counter-clockwise: a direction at ``a``
    degrees in image axes ends at ``a - 90 k``)."""
    return int(round((degrees - 90.0) / 90.0)) % 4


def _back_matrix(shape: tuple[int, int], k: int) -> np.ndarray:
    """The 2x3 affine taking pixel coordinates of ``np.rot90(image, k)`` back to ``image``."""
    height, width = shape
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    turned_x, turned_y = np.rot90(xs, k), np.rot90(ys, k)
    origin = np.array([turned_x[0, 0], turned_y[0, 0]])
    along_x = np.array([turned_x[0, 1], turned_y[0, 1]]) - origin
    along_y = np.array([turned_x[1, 0], turned_y[1, 0]]) - origin
    return np.column_stack([along_x, along_y, origin])


def _box_back(box: FaceBox | None, matrix: np.ndarray) -> FaceBox | None:
    if box is None:
        return None
    corners = np.array([[box.x, box.y], [box.x + box.width, box.y],
                        [box.x, box.y + box.height], [box.x + box.width, box.y + box.height]])
    moved = corners @ matrix[:, :2].T + matrix[:, 2]
    (x0, y0), (x1, y1) = moved.min(axis=0), moved.max(axis=0)
    return replace(box, x=float(x0), y=float(y0), width=float(x1 - x0), height=float(y1 - y0))


def upright(analyser, rgb: np.ndarray, landmarks: FaceLandmarks, source: str) -> FaceLandmarks:
    """``landmarks`` when the face in ``rgb`` is upright (within :data:`MAX_TILT_DEGREES`);
    otherwise those of the photo turned upright, mapped back onto ``rgb``, with
    ``upright_turns`` set. ``analyser._analyse_as_is`` analyses one orientation.

    :raises NoFaceFoundError: the face is sideways and gives no upright face when turned.
    """
    from_points = landmark_down_degrees(landmarks.ibug68)
    centre = landmarks.ibug68[[36, 39, 42, 45]].mean(axis=0)
    from_detector = detector_down_degrees(analyser, rgb, centre)
    readings = [d for d in (from_detector, from_points)
                if d is not None and off_vertical(d) > MAX_TILT_DEGREES]
    if not readings:
        return landmarks
    k = quarter_turns(readings[0])
    turned = np.ascontiguousarray(np.rot90(rgb, k))
    try:
        found = analyser._analyse_as_is(turned, source)
    except NoFaceFoundError:
        found = None
    if found is None or off_vertical(landmark_down_degrees(found.ibug68)) > MAX_TILT_DEGREES:
        if off_vertical(from_points) <= MAX_TILT_DEGREES:
            return landmarks  # only the detector thought it sideways; the face mesh did not
        raise NoFaceFoundError(
            f"{source}: the face lies on its side (turned about {round(off_vertical(from_points))}"
            " degrees) and could not be measured turned upright; turn the photo upright and try"
            " again")
    matrix = _back_matrix(rgb.shape[:2], k)
    back = found.transformed(matrix)
    return replace(back, box=_box_back(found.box, matrix), upright_turns=k)
