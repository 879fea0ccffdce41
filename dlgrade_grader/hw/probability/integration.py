"""Trusted numerical integration for the density questions, finer than any student's grid:
composite Gauss-Legendre, split wherever the density is not smooth."""
from __future__ import annotations

import numpy as np

_LEGENDRE_NODES, _LEGENDRE_WEIGHTS = np.polynomial.legendre.leggauss(12)


def nonsmooth_points(spec) -> tuple:
    """Where the density ``spec`` (see :func:`dlgrade.hw.probability.density`) has a kink or a jump:
    a Gauss-Legendre panel across one of them would converge slowly."""
    kind = spec[0]
    if kind == "exponential":
        return (0.0,)
    if kind == "uniform":
        return (spec[1], spec[2])
    if kind == "triangle":
        return tuple(spec[1:4])
    if kind in ("beta22", "wavy"):
        return (0.0, 1.0)
    if kind == "scaled":
        return nonsmooth_points(spec[2])
    return ()


def gauss_legendre_nodes(lo, hi, panels):
    """Nodes and weights of 12-point Gauss-Legendre on each of ``panels`` equal panels of [lo, hi]."""
    edges = np.linspace(lo, hi, panels + 1)
    mid, half = (edges[:-1] + edges[1:]) / 2, (edges[1:] - edges[:-1]) / 2
    return (mid[:, None] + half[:, None] * _LEGENDRE_NODES).ravel(), (half[:, None] * _LEGENDRE_WEIGHTS).ravel()


def integrate(fn, a, b, breaks=(), panels=400) -> float:
    """Composite Gauss-Legendre on [a, b], split where ``fn`` is not smooth."""
    if a == b:
        return 0.0
    sign = 1.0
    if a > b:
        a, b, sign = b, a, -1.0
    pts = sorted({float(a), float(b)} | {float(t) for t in breaks if a < t < b})
    total = 0.0
    for lo, hi in zip(pts[:-1], pts[1:]):
        x, w = gauss_legendre_nodes(lo, hi, panels)
        total += float(np.dot(w, fn(x)))
    return sign * total


def integrate_2d(fn, a, b, c, d, panels=40) -> float:
    """The integral of fn(x, y) over [a, b] x [c, d], on the product of two Gauss-Legendre grids."""
    x, wx = gauss_legendre_nodes(a, b, panels)
    y, wy = gauss_legendre_nodes(c, d, panels)
    X, Y = np.meshgrid(x, y, indexing="ij")
    return float(wx @ fn(X, Y) @ wy)
