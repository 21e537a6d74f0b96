"""Known answers: a synthetic face drawn from formulas, and Emotrics' procedure on real points.

Every contour of the synthetic face is a polynomial of degree <= 3 in x, so Emotrics' cubic
smoothing spline reproduces it exactly and each measurement has a closed-form answer (the lids are
curved: a straight line between their landmarks would read them wrong).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import UnivariateSpline

from fpgrade.face.landmarks import Circle
from fpgrade.face.measure import SIDE_MEASURES, measure
from tests.emotrics_reference import emotrics

R = 5.0  # iris radius, px
MM = 11.77 / (2 * R)
CORNERS = {"right": (-42.0, -18.0), "left": (18.0, 42.0)}  # eye corners, x
MIDDLE = {"right": (-36.0, -26.0), "left": (26.0, 36.0)}  # x of 37/41, 38/40 (43/47, 44/46)
A_UPPER = {"right": 0.05, "left": 0.035}  # upper lid y = 0.5 + a (x - x0)(x - x1)
A_LOWER = {"right": -0.03, "left": -0.028}
BROW = {"right": (-24.0, -33.0), "left": (-22.0, 35.0)}  # brow y = b + 0.012 (x - c)^2
MOUTH = (-25.0, 27.0)  # commissures 48, 54


def lower_outer(x):
    return 62.0 - 0.004 * (x - 2.0) ** 2 + 0.00005 * x ** 3


def upper_outer(x):
    return lower_outer(x) - 0.03 * (x - MOUTH[0]) * (MOUTH[1] - x)


def inner_upper(x):
    return 58.0 + 0.004 * x ** 2 + 0.0001 * x ** 3


def inner_lower(x):
    return inner_upper(x) + 0.02 * (x + 20.0) * (22.0 - x)


def synthetic_face():
    p = np.zeros((68, 2))
    p[:17] = np.column_stack([np.linspace(-70, 70, 17), 40 - 0.01 * np.linspace(-70, 70, 17) ** 2 + 60])
    for side, first_brow in (("right", 17), ("left", 22)):
        b, c = BROW[side]
        xs = np.linspace(*(np.array(CORNERS[side]) + [-4, 4]), 5)
        p[first_brow:first_brow + 5] = np.column_stack([xs, b + 0.012 * (xs - c) ** 2])
    p[27:31] = [[0, -5], [0, 5], [0, 15], [0, 25]]
    p[31:36] = [[-12, 32], [-6, 34], [0, 35], [6, 34], [12, 32]]
    for side, first in (("right", 36), ("left", 42)):
        x0, x1 = CORNERS[side]
        m0, m1 = MIDDLE[side]
        up = lambda x, a=A_UPPER[side]: 0.5 + a * (x - x0) * (x - x1)  # noqa: E731
        lo = lambda x, a=A_LOWER[side]: 0.5 + a * (x - x0) * (x - x1)  # noqa: E731
        p[first:first + 6] = [[x0, 0.5], [m0, up(m0)], [m1, up(m1)], [x1, 0.5], [m1, lo(m1)], [m0, lo(m0)]]
    outer_x = np.linspace(*MOUTH, 7)
    p[48:55] = np.column_stack([outer_x, upper_outer(outer_x)])
    p[55:60] = np.column_stack([outer_x[5:0:-1], lower_outer(outer_x[5:0:-1])])
    inner_x = np.linspace(-20.0, 22.0, 5)
    p[60:65] = np.column_stack([inner_x, inner_upper(inner_x)])
    p[65:68] = np.column_stack([inner_x[3:0:-1], inner_lower(inner_x[3:0:-1])])
    return p, Circle(-30.0, 0.0, R), Circle(30.0, 0.0, R)


def lip_point(side):
    """U: the outer upper-lip point at half the commissure's distance to the midline, solved as
    the real root of (x - cx)^2 + (y(x) - cy)^2 = r^2 (a polynomial) between corner and midline."""
    cx = MOUTH[1] if side == "left" else MOUTH[0]
    cy, r = upper_outer(cx), abs(cx) / 2
    poly_y = np.polynomial.Polynomial.fit(np.linspace(-30, 30, 50), upper_outer(np.linspace(-30, 30, 50)),
                                          3).convert()
    poly = np.polynomial.Polynomial([-cx, 1]) ** 2 + (poly_y - cy) ** 2 - r ** 2
    roots = [z.real for z in poly.roots() if abs(z.imag) < 1e-9 and min(0, cx) <= z.real <= max(0, cx)]
    x = min(roots, key=lambda z: abs(z - cx))
    return x, upper_outer(x)


def expected():
    out = {}
    for side in ("right", "left"):
        x0, x1 = CORNERS[side]
        ix = -30.0 if side == "right" else 30.0
        b, c = BROW[side]
        xm = float(np.mean(MIDDLE[side]))
        ux, _ = lip_point(side)
        cx = MOUTH[1] if side == "left" else MOUTH[0]
        my = lower_outer(0.0)
        dx, dy = cx - 0.0, upper_outer(cx) - my
        out[side] = {
            "mrd1": -(0.5 + A_UPPER[side] * (ix - x0) * (ix - x1)) * MM,
            "mrd2": (0.5 + A_LOWER[side] * (ix - x0) * (ix - x1)) * MM,
            "brow_height": -(b + 0.012 * (ix - c) ** 2) * MM,
            "palpebral_fissure_height": (A_LOWER[side] - A_UPPER[side]) * (xm - x0) * (xm - x1) * MM,
            "commissure_excursion": float(np.hypot(dx, dy)) * MM,
            "smile_angle": 90 + float(np.degrees(np.arctan2(-dy, abs(dx)))),
            "dental_show": max(0.0, inner_lower(ux) - inner_upper(ux)) * MM,
        }
    (uxl, uyl), (uxr, uyr) = lip_point("left"), lip_point("right")
    deviations = {
        "commissure_height_deviation": abs(upper_outer(MOUTH[0]) - upper_outer(MOUTH[1])) * MM,
        "upper_lip_height_deviation": abs(uyl - uyr) * MM,
        "lower_lip_height_deviation": abs(lower_outer(uxl) - lower_outer(uxr)) * MM,
    }
    return out, deviations


def moved(points, right, left, degrees=23.0, shift=(400.0, 250.0)):
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])

    def move(q):
        return np.asarray(q) @ rot.T + shift

    return move(points), Circle(*move(right.centre), right.radius), Circle(*move(left.centre), left.radius)


@pytest.mark.parametrize("pose", ["level", "rolled and shifted"])
def test_the_synthetic_face_measures_its_formulas(pose):
    face = synthetic_face()
    if pose != "level":
        face = moved(*face)
    result = measure(*face)
    sides, deviations = expected()
    for side in ("left", "right"):
        for name in SIDE_MEASURES:
            tolerance = 1e-6 if name != "smile_angle" else 1e-6
            assert getattr(result.sides[name], side) == pytest.approx(sides[side][name], abs=tolerance), (side, name)
    for name, value in deviations.items():
        assert result.deviations[name] == pytest.approx(value, abs=1e-6), name
    assert all(flags == () for flags in result.quality.values()), result.quality


def test_straight_lines_would_read_the_curved_lids_wrong():
    # The regression of issue 9: reading lids between landmarks with straight lines.
    points, right, left = synthetic_face()
    x0, x1 = CORNERS["right"]
    xs, ys = points[[36, 37, 38, 39], 0], points[[36, 37, 38, 39], 1]
    linear_mrd1 = -float(np.interp(-30.0, xs, ys)) * MM
    curved = measure(points, right, left).sides["mrd1"].right
    assert curved - linear_mrd1 > 0.2  # mm: the lid bulges above its chords


def test_emotrics_would_fail_on_a_lip_point_beyond_the_corner_and_fpgrade_flags_it():
    points, right, left = synthetic_face()
    points[49, 0] = points[48, 0] - 2.0  # outer upper-lip point beyond the right corner
    with pytest.raises(ValueError, match="increasing"):
        UnivariateSpline(points[48:55, 0], points[48:55, 1], s=1)  # what Emotrics does
    result = measure(points, right, left)
    for key in ("dental_show_right", "dental_show_left", "upper_lip_height_deviation"):
        assert "reordered" in result.quality[key], key
    assert result.quality["mrd1_left"] == ()


def test_a_closed_eye_reads_closed_with_negative_mrd1_and_a_flag():
    points, right, left = synthetic_face()
    # Left upper lid drawn down onto the lower lid, 1 px beyond it: crossing contours.
    points[[43, 44], 1] = points[[47, 46], 1] + 1.0
    result = measure(points, right, left)
    assert result.sides["palpebral_fissure_height"].left == 0.0  # clipped, not |crossing|
    assert result.sides["mrd1"].left < 0  # upper lid below the iris centre: signed, not |.|
    assert "eye_closed" in result.quality["mrd1_left"] and "eye_closed" in result.quality["mrd2_left"]
    assert result.quality["mrd1_right"] == ()
    assert result.mirrored().quality["mrd1_right"] == result.quality["mrd1_left"]


def test_the_cheap_fissure_reading_is_the_measurement():
    from fpgrade.face.measure import palpebral_fissures

    face = moved(*synthetic_face())
    sides = measure(*face).sides["palpebral_fissure_height"]
    assert palpebral_fissures(*face) == pytest.approx((sides.right, sides.left), abs=1e-9)


def test_a_turned_face_is_flagged_everywhere():
    points, right, left = synthetic_face()
    assert abs(measure(points, right, left).yaw_degrees) < 1
    points[30, 0] += 22.0  # the nose tip far towards the subject's left: a three-quarter view
    result = measure(points, right, left)
    assert result.yaw_degrees > 20
    assert all("face_turned" in flags for flags in result.quality.values())


def test_uncertain_landmarks_are_flagged_where_they_are_used():
    points, right, left = synthetic_face()
    spread = np.full(68, 0.1)
    spread[[43, 44]] = 5.0  # px (5.9 mm): the two fits disagree on the left upper lid
    result = measure(points, right, left, landmark_spread=spread)
    assert "uncertain_landmarks" in result.quality["mrd1_left"]
    assert "uncertain_landmarks" in result.quality["palpebral_fissure_height_left"]
    assert "uncertain_landmarks" not in result.quality["mrd1_right"]
    assert "uncertain_landmarks" not in result.quality["commissure_excursion_left"]


def emotrics_values(lm, step, width=None):
    """Emotrics' values as one flat dict; with ``width``, the mean of Emotrics on the points and
    on the points of the mirrored photo (sides exchanged back)."""

    def flat(landmarks):
        r, l = landmarks.iris_right, landmarks.iris_left  # noqa: E741
        sides, deviations = emotrics(landmarks.ibug68, (r.x, r.y, r.radius), (l.x, l.y, l.radius),
                                     step=step)
        return sides, deviations

    sides, deviations = flat(lm)
    values = {f"{name}.{side}": v for side in ("left", "right") for name, v in sides[side].items()}
    values |= deviations
    if width is not None:
        m_sides, m_dev = flat(lm.mirrored(width))
        swap = {"left": "right", "right": "left"}
        for side in ("left", "right"):
            for name, v in m_sides[swap[side]].items():
                values[f"{name}.{side}"] = (values[f"{name}.{side}"] + v) / 2
        for name, v in m_dev.items():
            values[name] = (values[name] + v) / 2
    return values


def gaps_to(lm, reference):
    ours = measure(lm.ibug68, lm.iris_right, lm.iris_left)
    flat = {f"{n}.{side}": getattr(v, side) for n, v in ours.sides.items() for side in ("left", "right")}
    flat |= ours.deviations
    return {key: abs(flat[key] - value) for key, value in reference.items()}


def real_landmarks(shared_faces=None):
    from fpgrade.face.analysis import landmarks_of
    from fpgrade.imageio import load_image
    from tests.media_factory import astronaut

    faces = [("astronaut", astronaut())]
    if shared_faces is not None:
        faces += [(n, load_image(shared_faces / n)) for n in ("single_face.jpg", "0-f1-su-ph.jpg")]
    return [(name, rgb.shape[1], landmarks_of(rgb, source=name)) for name, rgb in faces]


LIP_POINT = ("dental_show", "upper_lip", "lower_lip")
LIPS = ("commissure_excursion", "smile_angle", *LIP_POINT)


def limit(key):
    return 0.5 if key.startswith("smile_angle") else 0.1


def test_emotrics_procedure_on_real_mediapipe_points_agrees(shared_faces):
    for name, width, lm in real_landmarks(shared_faces):
        # Emotrics' own steps, with the lip point found finely instead of at whole pixels, read
        # in both directions (fpgrade's mirror-symmetric spline): agreement everywhere.
        for key, gap in gaps_to(lm, emotrics_values(lm, 0.001, width)).items():
            assert gap < limit(key), (name, key, gap)
        # Emotrics exactly as it runs: the eyes and brows agree; only lip values can differ
        # (one-directional knots, whole-pixel lip point), and by little.
        for key, gap in gaps_to(lm, emotrics_values(lm, 1.0)).items():
            if not key.startswith(LIPS):
                assert gap < limit(key), (name, key, gap)
            else:
                assert gap < 1.0, (name, key, gap)


def test_a_face_found_only_by_a_fallback_is_flagged_low_confidence():
    from fpgrade.face.landmarks import FaceBox, FaceLandmarks
    from fpgrade.face.measure import measure_face

    points, right, left = synthetic_face()
    for box, expected in ((FaceBox(0, 0, 10, 10, 0.95, "mediapipe-full+mediapipe-short"), False),
                          (FaceBox(0, 0, 10, 10, 0.5, "haar"), True),
                          (FaceBox(0, 0, 10, 10, 0.9, "mediapipe-short-padded"), True),
                          (FaceBox(0, 0, 10, 10, 0.55, "mediapipe-full"), True)):
        result = measure_face(FaceLandmarks(points, right, left, box=box))
        assert all(("low_confidence" in flags) == expected for flags in result.quality.values()), box
