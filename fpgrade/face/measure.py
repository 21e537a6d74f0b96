"""Clinical facial measurements, a pure function of iBUG-68 points and the two iris circles.

Definitions follow Emotrics (Guarin et al. 2018, JAMA Facial Plast Surg; its ``measurements.py``,
github.com/dguari1/Emotrics, MIT licence), re-implemented here, not copied.

Frame (as in Emotrics): origin at the midpoint of the iris centres, x-axis along the line from the
subject's right to left iris centre, y-axis perpendicular, pointing down (towards the chin). Every
point is expressed in this frame first, so head roll changes nothing. Scale: the iris is the
ruler, ``mm_per_px = iris_diameter_mm / (r_right + r_left)``, a horizontal visible iris diameter of
11.77 mm unless another is passed (Emotrics: ``CalibrationValue / (2 * mean radius)``, the same).

Contours (:class:`fpgrade.face.contours.Contour`): as in Emotrics, a cubic smoothing spline
(``UnivariateSpline``, ``k=3, s=1``, ``s`` in square pixels of the points given) through a
contour's landmarks, read at a given x; outside the landmarks' span the spline is extrapolated
(Emotrics does the same) and the value is flagged ``extrapolated``. With four landmarks (the lids)
the spline is the interpolating cubic; with five or more (brows, lips) it smooths by at most 1 px^2
in total, which makes those values depend very slightly on the image resolution, exactly as in
Emotrics. Reading the lid contours with straight lines instead (fpgrade before issue 9) gave MRD1
and fissure heights about 1 mm lower than Emotrics; the spline closes that gap.

Per side (``left`` / ``right``, the subject's sides), in mm unless stated:

- ``brow_height``: iris centre up to the brow contour (17-21 / 22-26) at the iris centre's x.
- ``mrd1``: marginal reflex distance 1, iris centre up to the upper lid (36-39 / 42-45).
- ``mrd2``: marginal reflex distance 2, iris centre down to the lower lid (36,41,40,39 / 42,47,46,45).
- ``palpebral_fissure_height``: lower minus upper lid at the mean x of the four middle lid
  landmarks (37,38,41,40 / 43,44,47,46).
- ``commissure_excursion``: distance from the lower-lip midline point M (the outer lower-lip
  contour 48,59-54 where it crosses the midline x = 0) to the commissure (48 / 54).
- ``smile_angle`` (degrees): 90 plus the elevation of the commissure above M, seen from M; 90 when
  the commissure is level with M, more when it is raised.
- ``dental_show``: the point U on the outer upper-lip contour (48-54) at a distance from the
  commissure of half the commissure's distance to the midline; at U's x, the inner lower
  (60,67-64) minus the inner upper (60-64) lip contour (>= 0; a closed mouth shows 0).

Deviations (mm, one value each): ``commissure_height_deviation`` = |y(48) - y(54)|;
``upper_lip_height_deviation`` = |y(U_left) - y(U_right)|; ``lower_lip_height_deviation`` = the
same for the outer lower-lip contour at U's x on each side.

Differences: ``difference`` = |left - right|; ``percent`` = difference / reference side x 100, the
reference being the side the lower lip is pulled towards (landmark 57 relative to the midline:
the face's stronger side, as in Emotrics); ``None`` when the reference value is 0.

Where fpgrade differs from Emotrics on the same points, and why:

- Signs. Emotrics reports |MRD1|, |MRD2|, |brow height| and |fissure height|. fpgrade keeps the
  sign of MRD1, MRD2 and brow height (MRD1 < 0: the upper lid is below the iris centre, as in a
  closed or ptotic eye; clinically meaningful, and a magnitude would read a lid 2 mm below the
  centre as 2 mm open) and clips the fissure height at 0 (crossing lid contours are a closed eye,
  not an open one). Where Emotrics' value is positive the two agree.
- Emotrics' ``find_mid_point_lips`` subtracts ``center[0]`` from a y-coordinate where
  ``center[1]`` is meant, so its right-side dental show and lip height deviations are read at a
  wrong distance from the commissure whenever the iris midpoint's x and y differ. Not reproduced.
- Emotrics finds U by sampling the upper-lip spline at whole-pixel steps and taking the nearest
  sample; fpgrade solves for the exact crossing. Half a pixel along the lip moves the dental show
  and the lip height deviations by up to 0.55 mm on the shared 512-px test photos (a quantisation
  that shrinks with resolution); with Emotrics' steps made fine the two agree within 0.01 mm.
- FITPACK places a smoothing spline's knots from one end, so for the lips (5-7 landmarks) Emotrics'
  spline of a mirrored face is not the mirror of its spline: Emotrics measures a photo and its
  mirror differently (dental show by 0.36 mm on a shared photo). fpgrade reads each contour as the
  mean of the spline fitted in both directions (:class:`~fpgrade.face.contours.Contour`), which is
  exactly
  mirror-symmetric and equals Emotrics' value wherever its knots are symmetric (always for the
  eyes and brows); on the test photos the lip values moved by at most 0.07 mm / 0.16 deg
  (commissure excursion, smile angle) and 0.18 mm (dental show).
- Contour landmarks that are not in order along x (e.g. an outer upper-lip point beyond the mouth
  corner): Emotrics' spline raises ("x must be increasing") and the measurement fails; fpgrade
  sorts them and flags the values that used that contour ``reordered``.
- The reference side for ``percent`` is decided in the iris frame (roll-invariant); Emotrics
  compares image x-coordinates. Emotrics gives 0 % for a zero dental show or fissure reference,
  fpgrade ``None``.
- Emotrics_Plus hard-codes 11.77 mm for areas instead of the calibration the user chose; fpgrade
  reports no areas in mm.

Quality flags (:attr:`FaceMeasurements.quality`, per value, so a UI can grey out what should not
be trusted): ``extrapolated`` (a contour read beyond its landmarks), ``reordered`` (see above),
``eye_closed`` (MRD1/MRD2 of an eye whose fissure is under :data:`EYE_CLOSED_MM`: the pupil is
hidden, the iris centre guessed), ``face_turned`` (head yaw estimated from the nose tip between
the outer eye corners above :data:`MAX_YAW_DEGREES`: one side is foreshortened, every value is
flagged), ``uncertain_landmarks`` (the landmarks a value uses moved by more than
:data:`MAX_SPREAD_MM` between the two fits of mirror averaging, when ``landmark_spread`` is given),
``low_confidence`` (:func:`measure_face`: the face was found only by a fallback detector, or with a
detection score under :data:`MIN_DETECTION_SCORE`). Where fpgrade corrects what Emotrics would
read silently wrong (:mod:`fpgrade.face.quality`, issue 18): ``iris_scale_one_eye`` and
``scale_from_average_eye_distance`` on every mm value (the iris ruler was implausible and was
replaced), ``level_from_eye_corners`` on the angles and left-right height deviations (a closed or
rolled eye: the face is levelled on the eye corners instead of the iris centres; the frame's
x-axis then runs along the corner line, its origin stays between the iris centres),
``photo_turned_upright`` on every value (:func:`measure_face`: the photo was sideways).
:data:`fpgrade.face.quality.FLAG_TEXT` says each in a clinician's words.

Asymmetry indices of paper 001 (Song et al. 2017, its ref. 25). Paper 001 gives only
``RgAs = EAs + EBAs + NAs + MAs`` and ``AnAs = MAn + NAn + EbAn``; ref. 25's abstract describes
"the angle of key facial landmark connections and the mirror degree of multiple regions" without
formulas, so the per-index definitions are ours. Angles are in degrees against the inter-iris line
(0 for a level feature):

- ``EAs`` (eye opening): areas of the lid polygons 36-41 / 42-47, ``|L - R| / (L + R)``;
- ``EBAs`` (brow elevation): brow heights (above), ``|L - R| / (L + R)``;
- ``NAs`` (nostril size): areas of the nasal-wing polygons 30,31,32,33 / 30,35,34,33 (nose tip,
  ala, columella base, subnasale), ``|L - R| / (L + R)``. It compares the two halves of the nasal
  base about the nose's own axis 30-33, so it does not see the nose base as a whole being pulled
  towards the healthy side, and it grows with head yaw (the nearer half looks larger). On the
  held-out palsy/normal photos of issue 9 it separated the groups below chance (AUC 0.35): read it
  as a nostril-shape index, not as a palsy sign. A "mirror degree" version (1 - IoU of the nasal
  base and its mirror about the facial midline, after ref. 25's abstract) was tried and rejected:
  it reads 0.54 on a normal face turned 8 degrees, so head yaw would dominate RgAs.
- ``MAs`` (mouth halves): areas of the outer-lip polygon's halves split at the midline landmarks
  51 and 57, ``|L - R| / (L + R)``;
- ``MAn``: angle of the commissure line 48-54; ``NAn``: of the alar line 31-35; ``EbAn``: of the
  line through the two brow centroids.

``signed`` gives each index with its sign: ``(L - R) / (L + R)`` for EAs, EBAs, NAs, MAs
(positive: the subject's left is larger); for angles positive when the subject's left end is
lower. Every signed index changes sign under a
mirror flip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fpgrade.face.contours import SPLINE_SMOOTHING
from fpgrade.face.contours import Contour as _Contour
from fpgrade.face.contours import Frame as _Frame
from fpgrade.face.contours import line_angle as _angle
from fpgrade.face.contours import point_at_distance as _point_at_distance
from fpgrade.face.contours import polygon_area as _area
from fpgrade.face.landmarks import Circle
from fpgrade.face.quality import IRIS_DIAMETER_MM, iris_ruler, level_axis

EYE_CLOSED_MM = 2.0
MAX_YAW_DEGREES = 20.0
# The two fits of mirror averaging differ by 1-3.5 mm on clear faces (the mesh's handedness, which
# the averaging removes) and by 7-10 mm where a hand covers the mouth.
MAX_SPREAD_MM = 5.0
# Depth of the nose tip in front of the outer eye corners over half their distance (adult
# anthropometric norms, roughly 40 mm / 45 mm): turns the nose tip's offset into a yaw angle.
_NOSE_DEPTH_RATIO = 0.9

SIDE_MEASURES = (
    "commissure_excursion", "smile_angle", "dental_show", "mrd1", "mrd2",
    "brow_height", "palpebral_fissure_height",
)
DEVIATIONS = ("commissure_height_deviation", "upper_lip_height_deviation",
              "lower_lip_height_deviation")
REGIONAL = ("EAs", "EBAs", "NAs", "MAs")
ANGULAR = ("MAn", "NAn", "EbAn")
UNITS = {name: "mm" for name in (*SIDE_MEASURES, *DEVIATIONS)} | {"smile_angle": "degrees"}
FLAGS = ("extrapolated", "reordered", "eye_closed", "face_turned", "uncertain_landmarks",
         "low_confidence", "iris_scale_one_eye", "scale_from_average_eye_distance",
         "level_from_eye_corners", "photo_turned_upright")
MIN_DETECTION_SCORE = 0.6

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
_MOUTH = sorted({*_OUTER_UPPER, *_OUTER_LOWER, *_INNER_UPPER, *_INNER_LOWER})


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
    """The result of :func:`measure`; :meth:`as_dict` is the JSON of ``fpgrade measure``.

    ``quality`` maps ``"<measure>_left"``, ``"<measure>_right"`` and each deviation name to the
    flags (from :data:`FLAGS`) raised on that value; an empty tuple means nothing to report.
    ``yaw_degrees`` is the rough head-yaw estimate behind ``face_turned`` (positive: the face is
    turned towards the subject's left). ``scale_source`` and ``inter_iris_mm`` say where the
    ruler came from and the distance between the iris centres it gives
    (:func:`fpgrade.face.quality.iris_ruler`).
    """

    sides: dict[str, SideValue]
    deviations: dict[str, float]
    asymmetry: dict[str, float]
    signed: dict[str, float]
    mm_per_px: float
    reference_side: str
    frame: dict[str, list[float]] = field(default_factory=dict)
    segments: dict[str, list[list[float]]] = field(default_factory=dict)
    quality: dict[str, tuple[str, ...]] = field(default_factory=dict)
    yaw_degrees: float = 0.0
    scale_source: str = "both irises"
    inter_iris_mm: float = 0.0

    def flags(self, name: str, side: str | None = None) -> tuple[str, ...]:
        """The quality flags of one value (``side`` for per-side measures)."""
        return self.quality.get(name if side is None else f"{name}_{side}", ())

    def trusted(self, name: str, side: str | None = None) -> bool:
        return not self.flags(name, side)

    def mirrored(self) -> FaceMeasurements:
        """The measurements of the mirrored face: left and right exchanged, signs of the signed
        indices reversed (segments are dropped: they belong to the unmirrored image)."""
        other = "right" if self.reference_side == "left" else "left"
        swap = {"left": "right", "right": "left"}
        quality = {}
        for key, flags in self.quality.items():
            stem, _, side = key.rpartition("_")
            quality[f"{stem}_{swap[side]}" if side in swap else key] = flags
        return FaceMeasurements(
            sides={k: SideValue(v.right, v.left, v.unit, other) for k, v in self.sides.items()},
            deviations=dict(self.deviations),
            asymmetry=dict(self.asymmetry),
            signed={k: -v for k, v in self.signed.items()},
            mm_per_px=self.mm_per_px,
            reference_side=other,
            quality=quality,
            yaw_degrees=-self.yaw_degrees,
            scale_source={"right iris": "left iris", "left iris": "right iris"}.get(
                self.scale_source, self.scale_source),
            inter_iris_mm=self.inter_iris_mm,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "measurements": {**{k: v.as_dict() for k, v in self.sides.items()}, **self.deviations},
            "units": UNITS,
            "asymmetry": dict(self.asymmetry),
            "asymmetry_signed": dict(self.signed),
            "mm_per_px": self.mm_per_px,
            "reference_side": self.reference_side,
            "quality": {k: list(v) for k, v in self.quality.items()},
            "yaw_degrees": self.yaw_degrees,
            "scale": {"source": self.scale_source, "inter_iris_mm": self.inter_iris_mm},
        }


def _ratio(left: float, right: float) -> float:
    """(L - R) / (L + R); 0 when both are nil (two shut eyes: lid polygons of area ~1e-13 px^2,
    whose ratio would be rounding noise anywhere in -1..1)."""
    total = left + right
    return 0.0 if abs(total) < 1e-6 else (left - right) / total


def yaw_degrees(p: np.ndarray) -> float:
    """Rough head yaw from frame points: the nose tip (30) between the outer eye corners (36,
    45). With the tip a depth D in front of corners 2W apart, its offset from their middle is
    ``D sin(yaw)`` against ``W cos(yaw)``; D/W = 0.9 (adult norms). Good to a few degrees, enough
    to tell a frontal photo from a three-quarter view."""
    right, left = p[36, 0], p[45, 0]
    half = (left - right) / 2
    if half <= 0:
        return 90.0
    offset = p[30, 0] - (left + right) / 2
    return float(np.degrees(np.arctan2(offset / half, _NOSE_DEPTH_RATIO)))


def measure(points68: np.ndarray | Sequence, iris_right: Circle | Sequence[float],
            iris_left: Circle | Sequence[float], *,
            iris_diameter_mm: float = IRIS_DIAMETER_MM,
            landmark_spread: np.ndarray | None = None,
            smoothing: float = SPLINE_SMOOTHING) -> FaceMeasurements:
    """Measure a face from its iBUG-68 ``points68`` (68, 2) and iris circles (x, y, radius), pixels.

    :param landmark_spread: optional (68,) per-point uncertainty in pixels (the distance between
        the two fits of mirror averaging, :attr:`FaceLandmarks.spread`); values whose landmarks
        spread more than :data:`MAX_SPREAD_MM` are flagged ``uncertain_landmarks``.
    :param smoothing: the contour splines' ``s`` in square pixels; Emotrics' 1 by default. 0
        interpolates the landmarks exactly, which makes every value independent of resolution.
    :raises ValueError: wrong point count, non-positive iris radii, or coinciding iris centres.
    """
    points = np.asarray(points68, dtype=np.float64)
    if points.shape != (68, 2):
        raise ValueError(f"expected 68 (x, y) points, got an array of shape {points.shape}")
    right = iris_right if isinstance(iris_right, Circle) else Circle(*map(float, iris_right))
    left = iris_left if isinstance(iris_left, Circle) else Circle(*map(float, iris_left))
    if right.radius <= 0 or left.radius <= 0:
        raise ValueError("iris radii must be positive")
    if not np.all(np.isfinite(points)):
        raise ValueError("landmarks must be finite numbers")
    ruler = iris_ruler(right.radius, left.radius,
                       float(np.linalg.norm(left.centre - right.centre)), iris_diameter_mm)
    mm = ruler.mm_per_px
    iris_frame = _Frame(right, left)
    closed = min(_fissures(iris_frame(points), smoothing)) * mm < EYE_CLOSED_MM
    axis, level_flags = level_axis(points, iris_frame.x, closed)
    frame = _Frame(right, left, axis)
    p = frame(points)
    irises = frame(np.vstack([right.centre, left.centre]))

    quality: dict[str, set[str]] = {}

    def flag(key: str, *sources) -> None:
        bucket = quality.setdefault(key, set())
        for source in sources:
            bucket |= source.flags() if isinstance(source, _Contour) else set(source)

    lower_outer = _Contour(p[_OUTER_LOWER], smoothing)
    upper_outer = _Contour(p[_OUTER_UPPER], smoothing)
    inner_upper = _Contour(p[_INNER_UPPER], smoothing)
    inner_lower = _Contour(p[_INNER_LOWER], smoothing)
    mid_lower = np.array([0.0, lower_outer(0.0)])
    reference = "left" if p[57, 0] >= 0 else "right"

    per_side: dict[str, list[float]] = {name: [] for name in SIDE_MEASURES}
    segments: dict[str, list[list[float]]] = {}
    lip_points: list[tuple[np.ndarray, np.ndarray]] = []
    for s in (0, 1):  # 0 right, 1 left
        side = ("right", "left")[s]
        ix, iy = irises[s]
        brow = _Contour(p[_BROW[s]], smoothing)
        upper, lower = _Contour(p[_UPPER_LID[s]], smoothing), _Contour(p[_LOWER_LID[s]], smoothing)
        brow_y, upper_y, lower_y = brow(ix), upper(ix), lower(ix)
        per_side["brow_height"].append((iy - brow_y) * mm)
        per_side["mrd1"].append((iy - upper_y) * mm)
        per_side["mrd2"].append((lower_y - iy) * mm)
        flag(f"brow_height_{side}", brow)
        flag(f"mrd1_{side}", upper)
        flag(f"mrd2_{side}", lower)
        centre = irises[s]
        segments[f"brow_height_{side}"] = [frame.back(centre), frame.back(np.array([ix, brow_y]))]
        segments[f"mrd1_{side}"] = [frame.back(centre), frame.back(np.array([ix, upper_y]))]
        segments[f"mrd2_{side}"] = [frame.back(centre), frame.back(np.array([ix, lower_y]))]
        # Fresh contours: the fissure has its own extrapolation flag.
        upper_f = _Contour(p[_UPPER_LID[s]], smoothing)
        lower_f = _Contour(p[_LOWER_LID[s]], smoothing)
        x_mid = float(p[_LID_MIDDLE[s], 0].mean())
        fissure = lower_f(x_mid) - upper_f(x_mid)
        per_side["palpebral_fissure_height"].append(max(0.0, fissure) * mm)
        flag(f"palpebral_fissure_height_{side}", upper_f, lower_f)
        if max(0.0, fissure) * mm < EYE_CLOSED_MM:
            flag(f"mrd1_{side}", ["eye_closed"])
            flag(f"mrd2_{side}", ["eye_closed"])

        corner = p[_COMMISSURE[s]]
        per_side["commissure_excursion"].append(float(np.linalg.norm(corner - mid_lower)) * mm)
        segments[f"commissure_excursion_{side}"] = [frame.back(mid_lower), frame.back(corner)]
        elevation = np.degrees(np.arctan2(mid_lower[1] - corner[1], abs(corner[0] - mid_lower[0])))
        per_side["smile_angle"].append(90.0 + float(elevation))
        flag(f"commissure_excursion_{side}", lower_outer)
        flag(f"smile_angle_{side}", lower_outer)

        lip_upper = _point_at_distance(upper_outer, corner, abs(corner[0]) / 2, towards=0.0)
        ux = float(lip_upper[0])
        lip_lower = np.array([ux, lower_outer(ux)])
        gap = inner_lower(ux) - inner_upper(ux)
        per_side["dental_show"].append(max(0.0, gap) * mm)
        flag(f"dental_show_{side}", upper_outer, inner_upper, inner_lower)
        lip_points.append((lip_upper, lip_lower))

    sides = {
        name: SideValue(left=values[1], right=values[0], unit=UNITS[name], reference=reference)
        for name, values in per_side.items()
    }
    (upper_r, lower_r), (upper_l, lower_l) = lip_points
    deviations = {
        "commissure_height_deviation": abs(p[48, 1] - p[54, 1]) * mm,
        "upper_lip_height_deviation": abs(upper_l[1] - upper_r[1]) * mm,
        "lower_lip_height_deviation": abs(lower_l[1] - lower_r[1]) * mm,
    }
    flag("commissure_height_deviation")
    flag("upper_lip_height_deviation", upper_outer)
    flag("lower_lip_height_deviation", upper_outer, lower_outer)

    for key in [*(f"{name}_{side}" for name in SIDE_MEASURES if UNITS[name] == "mm"
                  for side in ("left", "right")), *DEVIATIONS]:
        flag(key, ruler.flags)
    for key in (*DEVIATIONS, *ANGULAR, "AnAs"):
        flag(key, level_flags)
    yaw = yaw_degrees(p)
    if abs(yaw) > MAX_YAW_DEGREES:
        for key in quality:
            quality[key].add("face_turned")
    if landmark_spread is not None:
        _flag_spread(quality, np.asarray(landmark_spread, dtype=np.float64) * mm)

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
        quality={key: tuple(f for f in FLAGS if f in value) for key, value in quality.items()},
        yaw_degrees=yaw,
        scale_source=ruler.source,
        inter_iris_mm=ruler.inter_iris_mm,
    )


def palpebral_fissures(points68: np.ndarray, iris_right: Circle, iris_left: Circle, *,
                       iris_diameter_mm: float = IRIS_DIAMETER_MM) -> tuple[float, float]:
    """Only the palpebral fissure heights (right, left; mm) of :func:`measure`, cheaply (in the
    iris frame, with the checked ruler)."""
    frame = _Frame(iris_right, iris_left)
    mm = iris_ruler(iris_right.radius, iris_left.radius, frame.length, iris_diameter_mm).mm_per_px
    right, left = _fissures(frame(np.asarray(points68, dtype=np.float64)))
    return right * mm, left * mm


def _fissures(p: np.ndarray, smoothing: float = SPLINE_SMOOTHING) -> tuple[float, float]:
    """Palpebral fissure heights (right, left) of frame points ``p``, in pixels, >= 0."""
    heights = []
    for s in (0, 1):
        x_mid = float(p[_LID_MIDDLE[s], 0].mean())
        gap = (_Contour(p[_LOWER_LID[s]], smoothing)(x_mid)
               - _Contour(p[_UPPER_LID[s]], smoothing)(x_mid))
        heights.append(max(0.0, gap))
    return heights[0], heights[1]


def measure_face(landmarks, *, iris_diameter_mm: float = IRIS_DIAMETER_MM,
                 smoothing: float = SPLINE_SMOOTHING) -> FaceMeasurements:
    """:func:`measure` of a :class:`~fpgrade.face.landmarks.FaceLandmarks`, with its per-point
    ``spread`` (mirror-averaging disagreement) turned into ``uncertain_landmarks`` flags,
    ``photo_turned_upright`` on every value when the photo was sideways, and
    ``low_confidence`` on every value when the face was found only by a fallback (Haar, the
    padded photo, the mesh's own detector) or with a detection score under
    :data:`MIN_DETECTION_SCORE`."""
    from dataclasses import replace

    result = measure(landmarks.ibug68, landmarks.iris_right, landmarks.iris_left,
                     iris_diameter_mm=iris_diameter_mm, landmark_spread=landmarks.spread,
                     smoothing=smoothing)
    added = set()
    if getattr(landmarks, "upright_turns", 0):
        added.add("photo_turned_upright")
    box = landmarks.box
    if box is not None:
        fallback = any(name in box.detector for name in ("haar", "padded", "mesh"))
        if fallback or box.score < MIN_DETECTION_SCORE:
            added.add("low_confidence")
    if not added:
        return result
    quality = {key: tuple(f for f in FLAGS if f in {*flags, *added})
               for key, flags in result.quality.items()}
    return replace(result, quality=quality)


# The landmarks each value depends on, for ``uncertain_landmarks``.
_USES: dict[str, list[int]] = {}
for _s, _side in enumerate(("right", "left")):
    _USES[f"brow_height_{_side}"] = _BROW[_s]
    _USES[f"mrd1_{_side}"] = _UPPER_LID[_s]
    _USES[f"mrd2_{_side}"] = _LOWER_LID[_s]
    _USES[f"palpebral_fissure_height_{_side}"] = _EYE[_s]
    for _name in ("commissure_excursion", "smile_angle"):
        _USES[f"{_name}_{_side}"] = [*_OUTER_LOWER, _COMMISSURE[_s]]
    _USES[f"dental_show_{_side}"] = _MOUTH
_USES["commissure_height_deviation"] = list(_COMMISSURE)
_USES["upper_lip_height_deviation"] = _OUTER_UPPER
_USES["lower_lip_height_deviation"] = [*_OUTER_UPPER, *_OUTER_LOWER]


def _flag_spread(quality: dict[str, set[str]], spread_mm: np.ndarray) -> None:
    if spread_mm.shape != (68,):
        raise ValueError(f"landmark_spread must have 68 values, not shape {spread_mm.shape}")
    for key, used in _USES.items():
        if float(np.max(spread_mm[used])) > MAX_SPREAD_MM:
            quality.setdefault(key, set()).add("uncertain_landmarks")


def landmarks_used(key: str) -> set[str]:
    """The points a value is read from (``"mrd1_left"``, ``"commissure_height_deviation"``...):
    iBUG indices as strings, and both irises (``iris_right``, ``iris_left``: their centres set the
    frame and the midline, their radii the millimetre ruler, so every value uses them). Used to
    mark the values a hand correction of landmarks changed."""
    return {str(i) for i in _USES.get(key, ())} | {"iris_right", "iris_left"}
