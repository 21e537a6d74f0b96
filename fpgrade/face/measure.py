"""Clinical facial measurements, a pure function of iBUG-68 points and the two iris circles.

Frame (as in Emotrics, Guarin et al. 2018): origin at the midpoint of the iris centres, x-axis
along the line from the subject's right to left iris centre, y-axis perpendicular, pointing down
(towards the chin). Every point is expressed in this frame first, so head roll changes nothing.
Scale: the iris is the ruler, ``mm_per_px = iris_diameter_mm / (r_right + r_left)`` with a
horizontal visible iris diameter of 11.77 mm; pass another diameter where it is known.

Contours are piecewise-linear through their landmarks, read at a given x (:func:`_y_at`; outside
the contour's span, its end value). Emotrics fits smoothing splines instead; with 4-7 landmarks per
contour the two differ by well under a pixel.

Per side (``left`` / ``right``, the subject's sides), in mm unless stated:

- ``brow_height``: iris centre up to the brow contour (17-21 / 22-26) at the iris centre's x.
- ``mrd1``: marginal reflex distance 1, iris centre up to the upper lid (36-39 / 42-45).
- ``mrd2``: marginal reflex distance 2, iris centre down to the lower lid (36,41,40,39 / 42,47,46,45).
- ``palpebral_fissure_height``: lower minus upper lid at the middle of the lid landmarks (>= 0).
- ``commissure_excursion``: distance from the lower-lip midline point M (the outer lower-lip
  contour where it crosses the midline x = 0) to the commissure (48 / 54).
- ``smile_angle`` (degrees): 90 plus the elevation of the commissure above M, seen from M; 90 when
  the commissure is level with M, more when it is raised.
- ``dental_show``: the gap between the inner upper (60-64) and inner lower (60,67-64) lip contours
  halfway between the midline and the commissure (>= 0; a closed mouth shows 0).

Deviations (mm, one value each): ``commissure_height_deviation`` = |y(48) - y(54)|;
``upper_lip_height_deviation`` and ``lower_lip_height_deviation`` = the height difference of the
outer upper / lower lip contour at the points halfway to each commissure.

Differences: ``difference`` = |left - right|; ``percent`` = difference / reference side x 100, the
reference being the side the lower lip is pulled towards (landmark 57 relative to the midline:
the face's stronger side, as in Emotrics); ``None`` when the reference value is 0.

Asymmetry indices of paper 001 (Song et al. 2017, its ref. 25, which the paper cites without
formulas; these definitions are ours). Regional indices are normalised differences
``|L - R| / (L + R)`` in [0, 1]; angles are in degrees against the inter-iris line:

- ``EAs``: areas of the eye (lid) polygons 36-41 / 42-47;
- ``EBAs``: brow heights (above);
- ``NAs``: areas of the nasal-wing polygons 30,31,32,33 / 30,35,34,33;
- ``MAs``: areas of the mouth halves, outer-lip polygon split at the midline landmarks 51 and 57;
- ``MAn``: angle of the commissure line 48-54; ``NAn``: of the alar line 31-35; ``EbAn``: of the
  line through the two brow centroids;
- ``RgAs = EAs + EBAs + NAs + MAs`` and ``AnAs = MAn + NAn + EbAn``.

``signed`` gives each index with its sign: ``(L - R) / (L + R)`` for regions (positive: the left
is larger), and for angles positive when the subject's left end is lower.

Two Emotrics bugs are not reproduced: its ``find_mid_point_lips`` subtracts ``center[0]`` from a
y-coordinate where ``center[1]`` is meant, and Emotrics_Plus hard-codes 11.77 mm for areas instead
of using the calibration the user chose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fpgrade.face.landmarks import Circle

IRIS_DIAMETER_MM = 11.77

SIDE_MEASURES = (
    "commissure_excursion", "smile_angle", "dental_show", "mrd1", "mrd2",
    "brow_height", "palpebral_fissure_height",
)
DEVIATIONS = ("commissure_height_deviation", "upper_lip_height_deviation",
              "lower_lip_height_deviation")
REGIONAL = ("EAs", "EBAs", "NAs", "MAs")
ANGULAR = ("MAn", "NAn", "EbAn")
UNITS = {name: "mm" for name in (*SIDE_MEASURES, *DEVIATIONS)} | {"smile_angle": "degrees"}

# Landmark index lists per side: (subject's right, subject's left).
_BROW = ([17, 18, 19, 20, 21], [22, 23, 24, 25, 26])
_UPPER_LID = ([36, 37, 38, 39], [42, 43, 44, 45])
_LOWER_LID = ([36, 41, 40, 39], [42, 47, 46, 45])
_LID_MIDDLE = ([37, 38, 40, 41], [43, 44, 46, 47])
_EYE = (list(range(36, 42)), list(range(42, 48)))
_NASAL_WING = ([30, 31, 32, 33], [30, 35, 34, 33])
_MOUTH_HALF = ([51, 50, 49, 48, 59, 58, 57], [51, 52, 53, 54, 55, 56, 57])
_COMMISSURE = (48, 54)
_OUTER_UPPER = [48, 49, 50, 51, 52, 53, 54]
_OUTER_LOWER = [48, 59, 58, 57, 56, 55, 54]
_INNER_UPPER = [60, 61, 62, 63, 64]
_INNER_LOWER = [60, 67, 66, 65, 64]


@dataclass(frozen=True)
class SideValue:
    left: float
    right: float
    unit: str
    reference: str  # which side percent is relative to

    @property
    def difference(self) -> float:
        return abs(self.left - self.right)

    @property
    def percent(self) -> float | None:
        base = self.left if self.reference == "left" else self.right
        return None if base == 0 else 100.0 * self.difference / abs(base)

    def as_dict(self) -> dict[str, object]:
        return {"left": self.left, "right": self.right, "unit": self.unit,
                "difference": self.difference, "percent": self.percent}


@dataclass(frozen=True)
class FaceMeasurements:
    """The result of :func:`measure`; :meth:`as_dict` is the JSON of ``fpgrade measure``."""

    sides: dict[str, SideValue]
    deviations: dict[str, float]
    asymmetry: dict[str, float]
    signed: dict[str, float]
    mm_per_px: float
    reference_side: str
    frame: dict[str, list[float]] = field(default_factory=dict)
    segments: dict[str, list[list[float]]] = field(default_factory=dict)

    def mirrored(self) -> FaceMeasurements:
        """The measurements of the mirrored face: left and right exchanged, signs of the signed
        indices reversed (segments are dropped: they belong to the unmirrored image)."""
        other = "right" if self.reference_side == "left" else "left"
        return FaceMeasurements(
            sides={k: SideValue(v.right, v.left, v.unit, other) for k, v in self.sides.items()},
            deviations=dict(self.deviations),
            asymmetry=dict(self.asymmetry),
            signed={k: -v for k, v in self.signed.items()},
            mm_per_px=self.mm_per_px,
            reference_side=other,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "measurements": {**{k: v.as_dict() for k, v in self.sides.items()}, **self.deviations},
            "units": UNITS,
            "asymmetry": dict(self.asymmetry),
            "asymmetry_signed": dict(self.signed),
            "mm_per_px": self.mm_per_px,
            "reference_side": self.reference_side,
        }


class _Frame:
    """The iris frame: origin between the iris centres, x towards the subject's left."""

    def __init__(self, right: Circle, left: Circle) -> None:
        self.origin = (right.centre + left.centre) / 2
        axis = left.centre - right.centre
        length = float(np.linalg.norm(axis))
        if length == 0:
            raise ValueError("the two iris centres coincide")
        self.x = axis / length
        self.y = np.array([-self.x[1], self.x[0]])

    def __call__(self, points: np.ndarray) -> np.ndarray:
        rel = np.asarray(points, dtype=np.float64) - self.origin
        return np.column_stack([rel @ self.x, rel @ self.y])

    def back(self, point: np.ndarray) -> list[float]:
        """Image coordinates of a frame point."""
        return (self.origin + point[0] * self.x + point[1] * self.y).tolist()


def _y_at(points: np.ndarray, x: float) -> float:
    """y of the piecewise-linear contour through ``points`` (in frame coordinates) at ``x``."""
    order = np.argsort(points[:, 0])
    return float(np.interp(x, points[order, 0], points[order, 1]))


def _area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def _ratio(left: float, right: float) -> float:
    total = left + right
    return 0.0 if total == 0 else (left - right) / total


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    """Angle (degrees) of the line from ``a`` (right) to ``b`` (left) against the frame's x-axis:
    positive when the left end is lower."""
    dx, dy = b - a
    return float(np.degrees(np.arctan2(dy, dx)))


def measure(points68: np.ndarray | Sequence, iris_right: Circle | Sequence[float],
            iris_left: Circle | Sequence[float], *,
            iris_diameter_mm: float = IRIS_DIAMETER_MM) -> FaceMeasurements:
    """Measure a face from its iBUG-68 ``points68`` (68, 2) and iris circles (x, y, radius), pixels.

    :raises ValueError: wrong point count, non-positive iris radii, or coinciding iris centres.
    """
    points = np.asarray(points68, dtype=np.float64)
    if points.shape != (68, 2):
        raise ValueError(f"expected 68 (x, y) points, got an array of shape {points.shape}")
    right = iris_right if isinstance(iris_right, Circle) else Circle(*map(float, iris_right))
    left = iris_left if isinstance(iris_left, Circle) else Circle(*map(float, iris_left))
    if right.radius <= 0 or left.radius <= 0:
        raise ValueError("iris radii must be positive")
    frame = _Frame(right, left)
    p = frame(points)
    irises = frame(np.vstack([right.centre, left.centre]))
    mm = iris_diameter_mm / (right.radius + left.radius)

    lower_outer = p[_OUTER_LOWER]
    mid_lower = np.array([0.0, _y_at(lower_outer, 0.0)])
    reference = "left" if p[57, 0] >= 0 else "right"

    per_side: dict[str, list[float]] = {name: [] for name in SIDE_MEASURES}
    segments: dict[str, list[list[float]]] = {}
    for s in (0, 1):  # 0 right, 1 left
        side = ("right", "left")[s]
        ix, iy = irises[s]
        brow_y, upper_y, lower_y = (
            _y_at(p[_BROW[s]], ix), _y_at(p[_UPPER_LID[s]], ix), _y_at(p[_LOWER_LID[s]], ix)
        )
        per_side["brow_height"].append((iy - brow_y) * mm)
        per_side["mrd1"].append((iy - upper_y) * mm)
        per_side["mrd2"].append((lower_y - iy) * mm)
        centre = irises[s]
        segments[f"brow_height_{side}"] = [frame.back(centre), frame.back(np.array([ix, brow_y]))]
        segments[f"mrd1_{side}"] = [frame.back(centre), frame.back(np.array([ix, upper_y]))]
        segments[f"mrd2_{side}"] = [frame.back(centre), frame.back(np.array([ix, lower_y]))]
        x_mid = float(p[_LID_MIDDLE[s], 0].mean())
        fissure = _y_at(p[_LOWER_LID[s]], x_mid) - _y_at(p[_UPPER_LID[s]], x_mid)
        per_side["palpebral_fissure_height"].append(max(0.0, fissure) * mm)
        corner = p[_COMMISSURE[s]]
        per_side["commissure_excursion"].append(float(np.linalg.norm(corner - mid_lower)) * mm)
        segments[f"commissure_excursion_{side}"] = [frame.back(mid_lower), frame.back(corner)]
        elevation = np.degrees(np.arctan2(mid_lower[1] - corner[1], abs(corner[0] - mid_lower[0])))
        per_side["smile_angle"].append(90.0 + float(elevation))
        x_half = corner[0] / 2
        gap = _y_at(p[_INNER_LOWER], x_half) - _y_at(p[_INNER_UPPER], x_half)
        per_side["dental_show"].append(max(0.0, gap) * mm)

    sides = {
        name: SideValue(left=values[1], right=values[0], unit=UNITS[name], reference=reference)
        for name, values in per_side.items()
    }
    half_r, half_l = p[_COMMISSURE[0], 0] / 2, p[_COMMISSURE[1], 0] / 2
    deviations = {
        "commissure_height_deviation": abs(p[48, 1] - p[54, 1]) * mm,
        "upper_lip_height_deviation":
            abs(_y_at(p[_OUTER_UPPER], half_l) - _y_at(p[_OUTER_UPPER], half_r)) * mm,
        "lower_lip_height_deviation":
            abs(_y_at(lower_outer, half_l) - _y_at(lower_outer, half_r)) * mm,
    }

    signed = {
        "EAs": _ratio(_area(p[_EYE[1]]), _area(p[_EYE[0]])),
        "EBAs": _ratio(sides["brow_height"].left, sides["brow_height"].right),
        "NAs": _ratio(_area(p[_NASAL_WING[1]]), _area(p[_NASAL_WING[0]])),
        "MAs": _ratio(_area(p[_MOUTH_HALF[1]]), _area(p[_MOUTH_HALF[0]])),
        "MAn": _angle(p[48], p[54]),
        "NAn": _angle(p[31], p[35]),
        "EbAn": _angle(p[_BROW[0]].mean(axis=0), p[_BROW[1]].mean(axis=0)),
    }
    asymmetry = {name: abs(value) for name, value in signed.items()}
    asymmetry["RgAs"] = sum(asymmetry[name] for name in REGIONAL)
    asymmetry["AnAs"] = sum(asymmetry[name] for name in ANGULAR)
    return FaceMeasurements(
        sides=sides,
        deviations=deviations,
        asymmetry=asymmetry,
        signed=signed,
        mm_per_px=mm,
        reference_side=reference,
        frame={"origin": frame.origin.tolist(), "x_axis": frame.x.tolist()},
        segments=segments,
    )
