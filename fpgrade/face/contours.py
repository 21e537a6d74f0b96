"""The geometry under :mod:`fpgrade.face.measure`: the iris frame (:class:`Frame`) and Emotrics'
contour splines (:class:`Contour`), with the small helpers that read them. Definitions and sources
are in :mod:`fpgrade.face.measure`'s docstring; split from it along this seam (issue 18)."""

from __future__ import annotations

import numpy as np

from fpgrade.face.landmarks import Circle

SPLINE_SMOOTHING = 1.0  # Emotrics' s, in square pixels


class Frame:
    """The iris frame: origin between the iris centres, x towards the subject's left."""

    def __init__(self, right: Circle, left: Circle, axis: np.ndarray | None = None) -> None:
        self.origin = (right.centre + left.centre) / 2
        iris_line = left.centre - right.centre
        self.length = float(np.linalg.norm(iris_line))
        if self.length == 0:
            raise ValueError("the two iris centres coincide")
        self.x = iris_line / self.length if axis is None else np.asarray(axis, dtype=np.float64)
        self.y = np.array([-self.x[1], self.x[0]])

    def __call__(self, points: np.ndarray) -> np.ndarray:
        rel = np.asarray(points, dtype=np.float64) - self.origin
        return np.column_stack([rel @ self.x, rel @ self.y])

    def back(self, point: np.ndarray) -> list[float]:
        """Image coordinates of a frame point."""
        return (self.origin + point[0] * self.x + point[1] * self.y).tolist()


class Contour:
    """A landmark contour read as Emotrics reads it: a cubic smoothing spline y(x) in the frame
    (``UnivariateSpline(k=3, s=1)``), made mirror-symmetric: FITPACK places the knots of a
    smoothing spline starting from one end, so with five or more landmarks the spline of a
    mirrored contour is not the mirror of the spline (Emotrics' dental show moved by 0.36 mm
    between a real photo and its mirror). The contour is read as the mean of the spline fitted
    left to right and the one fitted to its mirror image; where FITPACK's knots are symmetric (and
    always for four landmarks) the two are the same and this is Emotrics' value. Records whether
    the landmarks had to be sorted along x (``reordered``) and whether any reading fell outside
    their span (``extrapolated``)."""

    def __init__(self, points: np.ndarray, smoothing: float = SPLINE_SMOOTHING) -> None:
        x, y = points[:, 0], points[:, 1]
        self.reordered = bool(np.any(np.diff(x) < 0))
        order = np.argsort(x, kind="stable")
        self.x, self.y = x[order], y[order]
        self.extrapolated = False
        self._splines = []
        if np.ptp(self.x) > 0 and (smoothing > 0 or np.all(np.diff(self.x) > 0)):
            forward = self._fit(self.x, self.y, smoothing)
            backward = self._fit(-self.x[::-1], self.y[::-1], smoothing)
            if forward is not None and backward is not None:
                self._splines = [forward, backward]

    @staticmethod
    def _fit(x: np.ndarray, y: np.ndarray, smoothing: float):
        from fpgrade.face.fitpack import SmoothingSpline

        # SciPy's UnivariateSpline, without importing scipy.interpolate (fpgrade.face.fitpack);
        # FITPACK's iteration notes (SciPy's warnings) are ignored: the fit is still valid.
        spline = SmoothingSpline(x, y, k=3, s=smoothing)
        return spline if np.all(np.isfinite(spline(x))) else None

    def sample(self, xs) -> np.ndarray:
        xs = np.asarray(xs, dtype=np.float64)
        if not self._splines:  # degenerate x (repeated, or all equal): straight segments
            return np.interp(xs, self.x, self.y)
        forward, backward = self._splines
        return (forward(xs) + backward(-xs)) / 2

    def __call__(self, x: float) -> float:
        if x < self.x[0] or x > self.x[-1]:
            self.extrapolated = True
        return float(self.sample(np.array([x]))[0])

    def flags(self) -> set[str]:
        return {name for name in ("extrapolated", "reordered") if getattr(self, name)}


def point_at_distance(contour: Contour, centre: np.ndarray, radius: float,
                       towards: float) -> np.ndarray:
    """The point of ``contour`` at ``radius`` from ``centre``, searched from ``centre``'s x
    towards x = ``towards`` (Emotrics' circle around the commissure meeting the upper lip)."""
    from fpgrade.face.fitpack import brentq  # scipy.optimize's, without its package import

    def gap(x: float) -> float:
        return float(np.hypot(x - centre[0], contour(x) - centre[1]) - radius)

    xs = np.linspace(centre[0], towards, 65)
    values = np.hypot(xs - centre[0], contour.sample(xs) - centre[1]) - radius
    crossing = np.nonzero(np.diff(np.sign(values)) != 0)[0]
    if len(crossing):
        i = int(crossing[0])
        x = brentq(gap, xs[i], xs[i + 1], xtol=1e-9) if values[i] != 0 else xs[i]
    else:
        x = float(xs[np.argmin(np.abs(values))])
    return np.array([x, contour(x)])


def polygon_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def line_angle(a: np.ndarray, b: np.ndarray) -> float:
    """Angle (degrees) of the line from ``a`` (right) to ``b`` (left) against the frame's x-axis:
    positive when the left end is lower."""
    dx, dy = b - a
    return float(np.degrees(np.arctan2(dy, dx)))
