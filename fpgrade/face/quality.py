"""Plausibility checks behind the measurements: the iris ruler and the face's level (issue 18).

Both change nothing on an ordinary frontal photo with open eyes (the Emotrics procedure of
:mod:`fpgrade.face.measure` is kept there, value for value); where they step in they say so with a
quality flag on every value they touched, worded for a clinician (:data:`FLAG_TEXT`).

**The iris ruler** (:func:`iris_ruler`). Emotrics scales a photo by the iris: a horizontal visible
iris diameter (HVID) of 11.77 mm over the two fitted iris radii. Two things make that silently
wrong:

- One iris fitted smaller than the other. The visible iris diameter of the two eyes of one adult
  differs by a few tenths of a millimetre at most (HVID 11.71 +/- 0.42 mm between people, Rüfer,
  Schröder & Erb 2005, Cornea 24:259-261), so two fitted radii in a ratio under
  :data:`MIN_IRIS_RATIO` (15 % apart) are a fitting error, not anatomy: a lid over a narrowed or
  half-closed eye hides part of its iris and the mesh draws it smaller. The ruler then comes from
  the larger iris alone (a lid can hide an iris, not enlarge it), flagged ``iris_scale_one_eye``.
  On held-out photos of issue 18 two faces read in a ratio of 0.75; on the shared expression video
  (WolfgangLanger_Pexels.mp4, 472 frames) 5 % of the frames read under 0.85 (lowest 0.80; most of
  them while she looks up, eyes wide), and get the one-iris scale, flagged.
- An inter-iris distance no adult has. The distance between the iris centres is the
  interpupillary distance (IPD); the mean adult IPD is about 63 mm and "the vast majority of adults
  have IPDs in the range 50-75 mm" (Dodgson 2004, Proc. SPIE 5291:36-46, which pools the ANSUR
  1988 survey and others). A ruler that puts the irises outside :data:`IPD_RANGE_MM` is wrong for
  every value of the photo (issue 18: 83.9 mm on a narrowed eye, against a median of 65.3 mm on
  the other held-out photos: every value 28 % too large). The ruler then falls back to the mean
  adult IPD, :data:`DEFAULT_IPD_MM`, flagged ``scale_from_average_eye_distance``: typical error
  +/- 6 % (Dodgson's standard deviation, 3.8 mm), against 28 % in that photo.

Deviations: Dodgson's range is the IPD of adults looking far; eyes looking at a near camera
converge a little (a few millimetres), which moves a face inward, not out of the range. The iris
ruler adds its own spread: a true IPD of 50-75 mm read with an iris 2 SD off 11.71 mm comes out
47-80 mm, so a rare face at the edges is rescaled to 63 mm; it is flagged, not silently changed,
and off by what its own IPD differs from 63 mm. With a calibration of the
user's (``iris_diameter_mm`` other than 11.77) the range and the fallback scale with it: the check
is on the photo's proportions, eye distance over iris size (4.2 to 6.4 for the standard iris).

**The level** (:func:`level_axis`). Emotrics levels the face on the line through the iris
centres. The iris of a closed eye is not seen, its centre is guessed, and under the lid the eye
often rolls up (Bell's phenomenon): issue 18's photo had its iris line at -9.2 degrees against
-4.5 for the eye corners, and the angular indices (MAn, NAn, EbAn) and the left-right height
differences carried the 4.7 degrees. Where an eye reads closed, or the iris line and the line
through the two eyes' corner midpoints (36+39, 42+45) differ by more than
:data:`MAX_LEVEL_DISAGREEMENT_DEGREES`, the face is levelled on the corner line instead (the eye
corners do not move when an eye rolls or shuts), flagged ``level_from_eye_corners`` on the values
that depend on the level: the three angles and their sum AnAs, and the three left-right height
deviations. Each eye is the midpoint of its two corners, so an outer corner sagging with the palsy
(paralytic ectropion) moves it by half as much: a 2 mm sag tilts the corner line by about 1 degree
at a 60 mm eye distance, under the threshold, and an open-eyed palsy face keeps Emotrics' iris
line. Single-side heights (MRD1, brow height, ...) are measured across a few millimetres
and change by under 0.5 % with the level, so they are not flagged. On the shared video's 242
open-eyed frames (141-384) the two lines differ by -1.4 to +1.5 degrees: the 2.5-degree
threshold is above all of them. On 12 real winks (a shut eye of the video blended into an
open-eyed frame) the mouth-corner angle moved from the open-eyed frame's by a median 3.2 degrees
(up to 7.5) levelled on the irises, and 1.1 (up to 3.1) levelled on the corners
(``tests/test_measure_plausibility.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IRIS_DIAMETER_MM = 11.77
MIN_IRIS_RATIO = 0.85
IPD_RANGE_MM = (50.0, 75.0)
DEFAULT_IPD_MM = 63.0
MAX_LEVEL_DISAGREEMENT_DEGREES = 2.5

# What each flag means, for a clinician (the flag ids stay stable in JSON and CSV).
FLAG_TEXT = {
    "iris_scale_one_eye": "scale taken from one iris only: the two irises looked too different in "
                          "size (an eyelid over one?)",
    "scale_from_average_eye_distance": "scale taken from the average adult eye distance (63 mm): "
                                       "the iris gave an impossible eye distance",
    "level_from_eye_corners": "face levelled on the eye corners: an eye is closed or its iris is "
                              "not where the eye corners say",
    "photo_turned_upright": "the photo was sideways and was turned upright before measuring",
}


@dataclass(frozen=True)
class Ruler:
    """The photo's scale: ``mm_per_px``, what it came from (``source``: ``"both irises"``,
    ``"right iris"``, ``"left iris"`` or ``"average eye distance"``), the inter-iris distance it
    gives (mm) and the flags to raise on every mm value (empty for the ordinary ruler)."""

    mm_per_px: float
    source: str
    inter_iris_mm: float
    flags: tuple[str, ...] = ()


def iris_ruler(radius_right: float, radius_left: float, inter_iris_px: float,
               iris_diameter_mm: float = IRIS_DIAMETER_MM) -> Ruler:
    """The iris ruler of a photo, checked (module docstring): both irises as Emotrics does; the
    larger one alone when the two disagree beyond :data:`MIN_IRIS_RATIO`; the mean adult IPD when
    the iris ruler puts the iris centres outside :data:`IPD_RANGE_MM`."""
    flags: list[str] = []
    source = "both irises"
    mm = iris_diameter_mm / (radius_right + radius_left)
    if min(radius_right, radius_left) < MIN_IRIS_RATIO * max(radius_right, radius_left):
        source = "right iris" if radius_right > radius_left else "left iris"
        mm = iris_diameter_mm / (2 * max(radius_right, radius_left))
        flags.append("iris_scale_one_eye")
    # The range is for the standard iris; a calibration of the user's (another iris diameter)
    # scales it, so that the check is on the photo's proportions (eye distance over iris size).
    calibration = iris_diameter_mm / IRIS_DIAMETER_MM
    low, high = (calibration * limit for limit in IPD_RANGE_MM)
    if inter_iris_px > 0 and not low <= inter_iris_px * mm <= high:
        source = "average eye distance"
        mm = calibration * DEFAULT_IPD_MM / inter_iris_px
        flags = ["scale_from_average_eye_distance"]
    return Ruler(mm, source, inter_iris_px * mm, tuple(flags))


def canthal_degrees(points: np.ndarray) -> float:
    """Angle (degrees, image axes) of the line from the subject's right eye to the left one, each
    eye taken as the midpoint of its two corners (iBUG 36+39, 42+45)."""
    right, left = points[[36, 39]].mean(axis=0), points[[42, 45]].mean(axis=0)
    dx, dy = left - right
    return float(np.degrees(np.arctan2(dy, dx)))


def level_axis(points: np.ndarray, iris_axis: np.ndarray, eye_closed: bool
               ) -> tuple[np.ndarray, tuple[str, ...]]:
    """The unit x-axis to level the face on: ``iris_axis`` (the iris line, Emotrics) unless an
    eye is closed or the iris line differs from the eye-corner line by more than
    :data:`MAX_LEVEL_DISAGREEMENT_DEGREES`; then the eye-corner line, with its flag."""
    corners = np.radians(canthal_degrees(points))
    corner_axis = np.array([np.cos(corners), np.sin(corners)])
    disagreement = np.degrees(np.arctan2(np.cross(iris_axis, corner_axis),
                                         float(iris_axis @ corner_axis)))
    if eye_closed or abs(disagreement) > MAX_LEVEL_DISAGREEMENT_DEGREES:
        return corner_axis, ("level_from_eye_corners",)
    return iris_axis, ()


def level_degrees(landmarks) -> float:
    """The angle (degrees, image axes) a face is levelled on, as
    :func:`fpgrade.face.measure.measure` levels it: the iris line, or the eye-corner line when an eye reads shut or the two disagree
    (:func:`level_axis`). Face and region crops are levelled on it, so a shut eye tilts no crop."""
    from fpgrade.face.measure import EYE_CLOSED_MM, palpebral_fissures

    iris = landmarks.iris_left.centre - landmarks.iris_right.centre
    length = float(np.linalg.norm(iris))
    if length == 0:
        return 0.0
    try:
        closed = min(palpebral_fissures(landmarks.ibug68, landmarks.iris_right,
                                        landmarks.iris_left)) < EYE_CLOSED_MM
    except ValueError:
        closed = False
    axis, _ = level_axis(np.asarray(landmarks.ibug68, dtype=np.float64), iris / length, closed)
    return float(np.degrees(np.arctan2(axis[1], axis[0])))
