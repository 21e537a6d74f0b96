"""Network inputs cut from a face: square face crops, paper 000's two 40x120 regions.

Every crop is one affine warp of the original image (rotation that levels the irises, or the
eye corners where an eye is shut or rolled, as the measurements do; scaling, translation), so
roll correction costs nothing extra and a window reaching past the border is padded with black
instead of failing.

Face crops (:func:`face_crop`) are square, centred on the landmark box (jaw, brows and eyes),
its side the larger of the box's width and height plus the movement's margins
(:data:`MOVEMENT_MARGINS`). Paper 001 adjusts the crop to the movement so the working muscles stay
in frame; it gives no numbers, so these are ours: more forehead for raised eyebrows (MV2, the
frontalis), more cheek for puffed cheeks and grinning (MV3, MV4).

Region crops (:func:`region_crops`, paper 000): the eye-brow region spans the brows and eyes, the
mouth region the lips, each from its landmark extremes plus 10 % and widened or heightened to the
3:1 aspect of the 40x120 output rather than stretched; the nose is excluded, as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from fpgrade.face import ibug68
from fpgrade.face.landmarks import FaceLandmarks

REGION_SHAPE = (40, 120)  # height, width (paper 000)


@dataclass(frozen=True)
class Margins:
    """Margins around the landmark box, as fractions of its height (top, bottom) and width."""

    top: float = 0.45
    bottom: float = 0.10
    sides: float = 0.12


MOVEMENT_MARGINS: dict[str, Margins] = {
    "MV0": Margins(),                               # at rest
    "MV1": Margins(),                               # eyes closed
    "MV2": Margins(top=0.65),                       # eyebrows raised: forehead wrinkles
    "MV3": Margins(sides=0.22, bottom=0.14),        # cheeks puffed
    "MV4": Margins(sides=0.18, bottom=0.14),        # grinning
    "MV5": Margins(),                               # nose wrinkled
    "MV6": Margins(bottom=0.14),                    # whistling
}


def margins_for(movement: str | None) -> Margins:
    """The margins of a movement (MV0-MV6); free-text or unknown movements get MV0's."""
    return MOVEMENT_MARGINS.get((movement or "MV0").upper(), MOVEMENT_MARGINS["MV0"])


def _rotation(landmarks: FaceLandmarks) -> tuple[np.ndarray, float]:
    """Unit vector of the levelled x-axis and its angle (radians): the iris line, or the eye
    corners' when an eye is shut or rolled (:func:`fpgrade.face.quality.level_degrees`)."""
    from fpgrade.face.quality import level_degrees

    angle = np.radians(level_degrees(landmarks))
    return np.array([np.cos(angle), np.sin(angle)]), float(angle)


def warp_box(rgb: np.ndarray, centre: np.ndarray, size: tuple[float, float], angle: float,
             out: tuple[int, int], nearest: bool = False) -> np.ndarray:
    """The rotated box (``size`` = width, height; centred at ``centre``; rotated by ``angle``)
    resampled to ``out`` = (height, width)."""
    out_h, out_w = out
    width, height = size
    cos, sin = np.cos(angle), np.sin(angle)
    # Map output pixel (u, v) -> image point: centre + R(angle) @ ((u, v) - out_centre) * scale.
    sx, sy = width / out_w, height / out_h
    forward = np.array([[cos * sx, -sin * sy], [sin * sx, cos * sy]])
    offset = centre - forward @ np.array([(out_w - 1) / 2, (out_h - 1) / 2])
    matrix = np.hstack([forward, offset[:, None]])
    interpolation = cv2.INTER_AREA if max(sx, sy) > 1 else cv2.INTER_LINEAR
    if nearest:  # label maps: no blending of class indices
        interpolation = cv2.INTER_NEAREST
    return cv2.warpAffine(rgb, matrix, (out_w, out_h), flags=interpolation | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT)


def _levelled_extent(points: np.ndarray, origin: np.ndarray, axis: np.ndarray):
    """Min and max of points along the levelled x and y axes, relative to ``origin``."""
    normal = np.array([-axis[1], axis[0]])
    rel = points - origin
    xs, ys = rel @ axis, rel @ normal
    return xs.min(), xs.max(), ys.min(), ys.max()


def face_box(landmarks: FaceLandmarks, movement: str | None = None) -> tuple[np.ndarray, float]:
    """Centre and side of the square face crop for ``movement``."""
    axis, _ = _rotation(landmarks)
    points = landmarks.ibug68
    origin = points.mean(axis=0)
    x0, x1, y0, y1 = _levelled_extent(points, origin, axis)
    m = margins_for(movement)
    width, height = x1 - x0, y1 - y0
    x0, x1 = x0 - m.sides * width, x1 + m.sides * width
    y0, y1 = y0 - m.top * height, y1 + m.bottom * height
    side = max(x1 - x0, y1 - y0)
    centre_rel = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    normal = np.array([-axis[1], axis[0]])
    centre = origin + centre_rel[0] * axis + centre_rel[1] * normal
    return centre, float(side)


def face_crop(rgb: np.ndarray, landmarks: FaceLandmarks, size: int = 224,
              movement: str | None = None) -> np.ndarray:
    """A levelled square face crop of ``size`` x ``size`` pixels (RGB uint8)."""
    centre, side = face_box(landmarks, movement)
    _, angle = _rotation(landmarks)
    return warp_box(rgb, centre, (side, side), angle, (size, size))


def face_crop_mask(mask: np.ndarray, landmarks: FaceLandmarks, size: int = 224,
                   movement: str | None = None) -> np.ndarray:
    """A label map cut exactly as :func:`face_crop` cuts the image (nearest-neighbour)."""
    centre, side = face_box(landmarks, movement)
    _, angle = _rotation(landmarks)
    return warp_box(mask, centre, (side, side), angle, (size, size), nearest=True)


def _region(rgb: np.ndarray, landmarks: FaceLandmarks, points: np.ndarray) -> np.ndarray:
    axis, angle = _rotation(landmarks)
    origin = points.mean(axis=0)
    x0, x1, y0, y1 = _levelled_extent(points, origin, axis)
    width, height = (x1 - x0) * 1.1, (y1 - y0) * 1.1
    out_h, out_w = REGION_SHAPE
    aspect = out_w / out_h
    if width / max(height, 1e-6) > aspect:
        height = width / aspect
    else:
        width = height * aspect
    normal = np.array([-axis[1], axis[0]])
    centre = origin + (x0 + x1) / 2 * axis + (y0 + y1) / 2 * normal
    return warp_box(rgb, centre, (width, height), angle, REGION_SHAPE)


def region_crops(rgb: np.ndarray, landmarks: FaceLandmarks) -> dict[str, np.ndarray]:
    """Paper 000's regions: ``eyebrow`` (brows and eyes) and ``mouth``, each 40x120x3."""
    p = landmarks.ibug68
    eyes_brows = np.vstack([p[ibug68.RIGHT_BROW], p[ibug68.LEFT_BROW],
                            p[ibug68.RIGHT_EYE], p[ibug68.LEFT_EYE]])
    mouth = np.vstack([p[ibug68.OUTER_LIPS], p[ibug68.INNER_LIPS]])
    return {"eyebrow": _region(rgb, landmarks, eyes_brows), "mouth": _region(rgb, landmarks, mouth)}
