"""SciPy's compiled FITPACK smoothing spline and Brent root finder, without ``scipy.interpolate``.

The measurements read every lip and lid contour as Emotrics does, with SciPy's
``UnivariateSpline(k=3, s=1)`` (Dierckx's FITPACK ``curfit``), and find where a circle meets the
upper lip with ``scipy.optimize.brentq``. Importing ``scipy.interpolate`` or ``scipy.optimize``
runs their package ``__init__``, which imports most of SciPy (``scipy.special``, ``linalg``,
``optimize``...): about 0.4 s of CPU and 40 MB for a one-photo ``fpgrade measure`` whose own
work takes less (issue 21; ``bench/measure_startup.py``). The compiled modules that do the work
(``scipy.interpolate._dfitpack``, ``scipy.optimize._zeros``) import only numpy, so they are
loaded here directly from SciPy's installed files and called exactly as SciPy 1.17's Python
wrappers call them (``_fitpack2.UnivariateSpline.__init__`` / ``_reset_nest``,
``_fitpack_impl.splev``, ``_zeros_py.brentq``): same Fortran and C, same arguments, so the same
numbers, bit for bit (``tests/test_fitpack.py`` compares them with SciPy's public functions).

Deviation: where a SciPy release renames or reshapes these private modules, the direct load fails
and the public modules are imported instead (the old cost, the same results); the test above then
fails too, which is the signal to follow SciPy here.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import threading
from collections.abc import Callable
from functools import cache

import numpy as np

_LOCK = threading.Lock()  # FITPACK keeps state in Fortran work arrays: SciPy calls it under a lock
_RTOL = 4 * np.finfo(float).eps  # brentq's default and smallest relative tolerance
_MAXITER = 100


def _load(package: str, name: str):
    """``package.name`` (a compiled module) loaded from its file, without ``package/__init__``."""
    full = f"{package}.{name}"
    try:
        scipy = importlib.util.find_spec("scipy")
        folder = os.path.join(os.path.dirname(scipy.origin), *package.split(".")[1:])
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, name + suffix)
            if os.path.exists(path):
                loader = importlib.machinery.ExtensionFileLoader(full, path)
                spec = importlib.util.spec_from_file_location(full, path, loader=loader)
                module = importlib.util.module_from_spec(spec)
                loader.exec_module(module)
                return module
    except (ImportError, OSError, AttributeError, TypeError):
        pass
    return importlib.import_module(full)  # the slow, public way


@cache
def _dfitpack():
    module = _load("scipy.interpolate", "_dfitpack")
    module.fpcurf0, module.fpcurf1, module.splev  # noqa: B018 - a renamed API falls back now
    return module


@cache
def _zeros():
    module = _load("scipy.optimize", "_zeros")
    module._brentq  # noqa: B018
    return module


class SmoothingSpline:
    """``scipy.interpolate.UnivariateSpline(x, y, k=k, s=s)`` (weights 1, the data's span as
    bounding box, extrapolation by the end polynomials), evaluated with :meth:`__call__`.

    :param x: increasing abscissae; ``y`` their values.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, *, k: int = 3, s: float = 1.0) -> None:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError("x and y should be 1-D and of the same length")
        if np.any(np.diff(x) < 0):
            raise ValueError("x must be increasing")
        fitpack = _dfitpack()
        with _LOCK:
            data = fitpack.fpcurf0(x, y, k, w=None, xb=None, xe=None, s=s)
            if data[-1] == 1:  # room for too few knots: SciPy's _reset_nest, nest = m + k + 1
                nest = len(data[0]) + k + 1
                t, c, fpint, nrdata = (np.resize(data[j], nest) for j in (8, 9, 11, 12))
                data = fitpack.fpcurf1(*data[:8], t, c, data[10], fpint, nrdata, data[13])
        n = data[7]
        self.t, self.c, self.k = data[8][:n], data[9][:n], k
        self.ier = int(data[-1])  # FITPACK's note (0, -1, -2: a valid fit; see curfit)

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        values, ier = _dfitpack().splev(self.t, self.c, self.k, np.atleast_1d(x).ravel(), 0)
        if ier:
            raise ValueError(f"FITPACK splev failed (ier={ier})")
        return values.reshape(x.shape)


def brentq(f: Callable[[float], float], a: float, b: float, *, xtol: float = 2e-12) -> float:
    """A root of ``f`` in ``[a, b]`` (``f(a)`` and ``f(b)`` of opposite signs): SciPy's
    ``brentq`` with its default relative tolerance and iteration limit.

    :raises ValueError: a NaN value of ``f``, or no sign change; :class:`RuntimeError`: no
        convergence.
    """

    def checked(x: float) -> float:
        value = f(x)
        if np.isnan(value):
            raise ValueError(f"the function value at x={x} is NaN")
        return value

    return _zeros()._brentq(checked, a, b, xtol, _RTOL, _MAXITER, (), False, True)
