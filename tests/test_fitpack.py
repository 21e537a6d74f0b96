"""fpgrade.face.fitpack gives SciPy's numbers, bit for bit, without importing scipy.interpolate."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy.interpolate import UnivariateSpline
from scipy.optimize import brentq as scipy_brentq

from fpgrade.face.fitpack import SmoothingSpline, brentq


def _contours(seed: int = 0):
    """Lip- and lid-like contours of 4 to 12 points, some noisy enough to need interior knots,
    some with repeated x (FITPACK's corner cases), in pixels as the measurements give them."""
    rng = np.random.default_rng(seed)
    for index in range(300):
        m = 4 + index % 9
        x = np.sort(rng.uniform(-80, 80, m))
        if index % 10 == 0:
            x[1] = x[0]
        noise = [0.1, 1.0, 5.0][index % 3]
        y = 0.01 * x ** 2 + rng.normal(0, noise, m) + rng.uniform(-50, 50)
        yield x, y


@pytest.mark.parametrize("smoothing", [1.0, 0.25, 10.0])
def test_smoothing_spline_is_univariate_spline(smoothing):
    xs = np.linspace(-100, 100, 41)  # inside the span and beyond it (extrapolation)
    kinds = set()
    for x, y in _contours():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = UnivariateSpline(x, y, k=3, s=smoothing)
        ours = SmoothingSpline(x, y, k=3, s=smoothing)
        kinds.add(ours.ier)
        assert np.array_equal(ours(xs), reference(xs), equal_nan=True), (x, y)
        assert ours(1.5).shape == ()
    assert {0, -2} <= kinds  # smoothing splines with knots and plain polynomials were both tested


def test_brentq_is_scipys():
    for shift in np.linspace(-2, 2, 25):
        def f(x, shift=shift):
            return np.cos(x) - 0.3 * x + shift
        assert brentq(f, -10, 10, xtol=1e-9) == scipy_brentq(f, -10, 10, xtol=1e-9)
    with pytest.raises(ValueError):
        brentq(lambda x: x * x + 1, -1, 1)  # no sign change
    with pytest.raises(ValueError, match="NaN"):
        brentq(lambda x: float("nan") if x > 0 else -1.0, -1, 1)


def test_no_scipy_package_import():
    """The point of the module: a contour fit leaves scipy.interpolate and scipy.optimize unloaded."""
    code = ("import sys, numpy as np; from fpgrade.face.contours import Contour, point_at_distance;"
            "c = Contour(np.array([[0., 0.], [1., 2.], [2., 3.], [3., 2.], [4., 0.5]]));"
            "point_at_distance(c, np.array([0., 0.]), 2.5, 4.0);"
            "print(sorted(m for m in ('scipy.interpolate', 'scipy.optimize', 'scipy.special') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
