"""An independent, literal re-statement of Emotrics' measurement procedure, for tests only.

Emotrics (Guarin et al. 2018; github.com/dguari1/Emotrics, ``measurements.py``, MIT licence)
measures each value in its own rotated frame: the landmarks of one contour are rotated by the
angle of the inter-iris line about a point (an iris centre, the iris midpoint, a commissure),
a ``UnivariateSpline(s=1)`` is fitted, and read at x = 0 of that frame. This module follows those
steps one by one (written for fpgrade, not copied), so that the tests can check that
:func:`fpgrade.face.measure.measure`, which reads every contour in one frame, gives Emotrics'
numbers on the same points. ``bug_center`` reproduces Emotrics' ``center[0]``-for-``center[1]``
slip in the right side's lip distance; the tests compare with it off.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import UnivariateSpline


def _rot(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, s], [-s, c]]), np.array([[c, -s], [s, c]])


def _cross(points, angle, origin):
    """Spline of ``points`` rotated about ``origin``, read at rotated x = 0, back in the image."""
    rot, inv = _rot(angle)
    rx, ry = rot @ (points - origin).T
    y0 = UnivariateSpline(rx, ry, s=1)(0.0)
    return inv @ np.array([0.0, float(y0)]) + origin


def _local(point, origin, angle):
    rot, _ = _rot(angle)
    return rot @ (np.asarray(point) - origin)


def _lip_points(upper, lower, upper_in, lower_in, angle, corner, radius, step):
    rot, inv = _rot(angle)
    rx, ry = rot @ (upper - corner).T
    spline = UnivariateSpline(rx, ry, s=1)
    xs = np.arange(int(round(rx.min())), int(round(rx.max())) + 1, step)
    ys = spline(xs)
    i = int(np.argmin(np.abs(np.hypot(xs, ys) - radius)))
    u = inv @ np.array([xs[i], ys[i]]) + corner
    found = []
    for contour in (lower, upper_in, lower_in):
        qx, qy = rot @ (contour - u).T
        found.append(float(UnivariateSpline(qx, qy, s=1)(0.0)))
    lower_pt = inv @ np.array([0.0, found[0]]) + u
    return u, lower_pt, max(0.0, found[2] - found[1])


def emotrics(shape, right, left, iris_mm=11.77, bug_center=False, step=1.0):
    """Emotrics' values (left, right dicts and deviations) for iBUG points and iris (x, y, r).

    ``step``: Emotrics samples the upper lip at whole pixels (1.0); a small step finds the
    point at the given distance from the commissure exactly, as fpgrade does.
    """
    shape = np.asarray(shape, dtype=float)
    right, left = np.asarray(right, float), np.asarray(left, float)
    slope = (left[1] - right[1]) / (left[0] - right[0])
    angle = np.arctan(slope)
    center = (right[:2] + left[:2]) / 2
    lower = shape[[48, 59, 58, 57, 56, 55, 54]]
    m = _cross(lower, angle, center)
    res = {"left": {}, "right": {}}
    for side, corner in (("left", 54), ("right", 48)):
        rx, ry = _local(shape[corner], m, angle)
        dist = np.hypot(rx, ry)
        res[side]["commissure_excursion"] = dist
        res[side]["smile_angle"] = 90 + np.degrees(np.arcsin(-ry / dist))
    dev = {"commissure_height_deviation":
           abs(_local(shape[48], center, angle)[1] - _local(shape[54], center, angle)[1])}
    upper = shape[48:55]
    upper_in = shape[60:65]
    lower_in = shape[[60, 67, 66, 65, 64]]
    x_left = _local(shape[54], center, angle)[0]
    rot, _ = _rot(angle)
    r_origin = np.array([center[0], center[0]]) if bug_center else center
    x_right = (rot @ (shape[48] - r_origin))[0]
    lips = {}
    for side, corner, dist in (("left", 54, abs(x_left) / 2), ("right", 48, abs(x_right) / 2)):
        u, lo, show = _lip_points(upper, lower, upper_in, lower_in, angle, shape[corner], dist, step)
        res[side]["dental_show"] = show
        lips[side] = (u, lo)
    dev["upper_lip_height_deviation"] = abs(_local(lips["left"][0], center, angle)[1]
                                            - _local(lips["right"][0], center, angle)[1])
    dev["lower_lip_height_deviation"] = abs(_local(lips["left"][1], center, angle)[1]
                                            - _local(lips["right"][1], center, angle)[1])
    eyes = {"left": (left, [42, 43, 44, 45], [42, 47, 46, 45], [22, 23, 24, 25, 26], 42),
            "right": (right, [36, 37, 38, 39], [36, 41, 40, 39], [17, 18, 19, 20, 21], 36)}
    for side, (pupil, up, low, brow, first) in eyes.items():
        for name, idx in (("mrd1", up), ("mrd2", low), ("brow_height", brow)):
            point = _cross(shape[idx], angle, pupil[:2])
            res[side][name] = abs(_local(point, pupil[:2], angle)[1])
        eye = shape[first:first + 6]
        ux, uy = rot @ (eye[0:4] - center).T
        lx, ly = rot @ (eye[[0, 5, 4, 3]] - center).T
        x_mid = ((ux[1] + ux[2]) / 2 + (lx[1] + lx[2]) / 2) / 2
        res[side]["palpebral_fissure_height"] = abs(
            float(UnivariateSpline(lx, ly, s=1)(x_mid)) - float(UnivariateSpline(ux, uy)(x_mid)))
    scale = iris_mm / (left[2] + right[2])
    for side in res.values():
        for name in side:
            if name != "smile_angle":
                side[name] *= scale
    return res, {k: v * scale for k, v in dev.items()}
