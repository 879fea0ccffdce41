"""Part 3, distribution functions and densities: cdf_from_pmf, is_valid_pdf, prob_between,
cdf_from_pdf, joint_prob_rectangle."""
from __future__ import annotations

import math

import numpy as np

from dlgrade.hw.probability import raw_density, raw_joint_density

from ...checks import Mistake, Registry
from .common import add_check, random_pmf
from .integration import gauss_legendre_nodes, integrate, integrate_2d, nonsmooth_points


# --------------------------------------------------------------------------- cdf_from_pmf
def ref_cdf_pmf(pmf, xs):
    return np.array([math.fsum(p for a, p in pmf.items() if a <= x) for x in xs])


def _cdf_points(atoms):
    """Below, at, between and above the atoms: every place a CDF can be got wrong."""
    atoms = sorted(atoms)
    pts = [atoms[0] - 1.0] + list(atoms) + [(a + b) / 2 for a, b in zip(atoms[:-1], atoms[1:])] + [atoms[-1] + 2.0]
    return sorted(pts)


def _cdf_pmf_visible(rng):
    die = {k: 1 / 6 for k in range(1, 7)}
    return [("a fair die", {"pmf": die, "xs": _cdf_points(die)})]


def _cdf_pmf_hidden(rng):
    vals = sorted(float(v) for v in np.round(rng.uniform(-2, 2, size=4), 1) + np.arange(4) * 5)
    pmf = random_pmf(rng, vals, zero=True)
    half = {k / 2: 0.25 for k in range(4)}
    return [("random atoms (one of zero mass)", {"pmf": pmf, "xs": _cdf_points(vals)}),
            ("atoms at multiples of 0.5", {"pmf": half, "xs": _cdf_points(list(half))})]


def _cdf_strict(inp):
    return np.array([math.fsum(p for a, p in inp["pmf"].items() if a < x) for x in inp["xs"]])


# --------------------------------------------------------------------------- is_valid_pdf
def _valid_pdf_visible(rng):
    return [("N(0, 1) on [-10, 10]", {"pdf": ("normal", 0.0, 1.0), "lo": -10.0, "hi": 10.0}),
            ("uniform on [0, 2]", {"pdf": ("uniform", 0.0, 2.0), "lo": 0.0, "hi": 2.0}),
            ("1 + 2 cos(2 pi x) on [0, 1]", {"pdf": ("wavy",), "lo": 0.0, "hi": 1.0}),
            ("twice a triangle", {"pdf": ("scaled", 2.0, ("triangle", 0.0, 1.0, 3.0)), "lo": 0.0, "hi": 3.0})]


def _valid_pdf_hidden(rng):
    lam = float(rng.uniform(0.5, 3.0))
    mu = float(rng.uniform(-2, 2))
    peak = float(rng.uniform(0.5, 1.5))
    return [("6x(1 - x) on [0, 1]", {"pdf": ("beta22",), "lo": 0.0, "hi": 1.0}),
            ("exponential", {"pdf": ("exponential", lam), "lo": 0.0, "hi": 40.0 / lam}),
            ("a triangle with 97% of the mass", {"pdf": ("scaled", 0.97, ("triangle", -1.0, 0.5, 2.0)),
                                                  "lo": -1.0, "hi": 2.0}),
            ("half a normal's range", {"pdf": ("normal", mu, 1.0), "lo": mu, "hi": mu + 10.0}),
            ("a negative dip", {"pdf": ("scaled", 1.0, ("wavy",)), "lo": 0.0, "hi": 1.0}),
            # the contract's "within tol of 1": an integral a few 1e-4 short of 1 is a valid density
            ("a triangle 2e-4 to 8e-4 short of mass 1, within tol",
             {"pdf": ("scaled", 1.0 - float(rng.uniform(2e-4, 8e-4)), ("triangle", 0.0, peak, 2.0)),
              "lo": 0.0, "hi": 2.0})]


def _ref_valid_pdf(inp, tol=1e-3):
    f, lo, hi = raw_density(inp["pdf"]), inp["lo"], inp["hi"]
    x, _ = gauss_legendre_nodes(lo, hi, 2000)
    grid = np.concatenate([x, np.linspace(lo, hi, 20001)])
    if np.min(f(grid)) < 0:
        return False
    return abs(integrate(f, lo, hi, nonsmooth_points(inp["pdf"])) - 1.0) <= tol


# --------------------------------------------------------------------------- prob_between
def _prob_between_visible(rng):
    return [("N(0, 1) on [-1, 1]", {"pdf": ("normal", 0.0, 1.0), "a": -1.0, "b": 1.0}),
            ("exponential(2) on [0.5, 1.5]", {"pdf": ("exponential", 2.0), "a": 0.5, "b": 1.5})]


def _prob_between_hidden(rng):
    mu, s = float(rng.uniform(-1, 1)), float(rng.uniform(0.5, 2))
    a = float(rng.uniform(-0.8, 0.3))
    return [("a normal", {"pdf": ("normal", mu, s), "a": mu - s, "b": mu + 2 * s}),
            ("across a triangle's peak", {"pdf": ("triangle", -1.0, 0.4, 1.0), "a": a, "b": a + 1.0}),
            ("a = b", {"pdf": ("normal", mu, s), "a": mu, "b": mu}),
            ("6x(1 - x) on [0.1, 0.7]", {"pdf": ("beta22",), "a": 0.1, "b": 0.7})]


def _ref_prob_between(inp):
    return integrate(raw_density(inp["pdf"]), inp["a"], inp["b"], nonsmooth_points(inp["pdf"]))


# --------------------------------------------------------------------------- cdf_from_pdf
def _cdf_pdf_visible(rng):
    return [("N(0, 1) from -8", {"pdf": ("normal", 0.0, 1.0), "lo": -8.0, "xs": [-8.0, -1.0, 0.0, 1.5]})]


def _cdf_pdf_hidden(rng):
    lam = float(rng.uniform(0.5, 2.0))
    mu = float(rng.uniform(-1, 1))
    return [("exponential from 0", {"pdf": ("exponential", lam), "lo": 0.0,
                                    "xs": [0.0, 0.3 / lam, 1.0 / lam, 3.0 / lam]}),
            ("a normal from mu - 8", {"pdf": ("normal", mu, 1.0), "lo": mu - 8.0, "xs": [mu - 2, mu, mu + 1.7]}),
            ("a triangle, x below lo too", {"pdf": ("triangle", 0.0, 0.3, 1.0), "lo": 0.0,
                                           "xs": [-0.5, 0.2, 0.6, 1.0]})]


def _ref_cdf_pdf(inp):
    f, lo = raw_density(inp["pdf"]), inp["lo"]
    breaks = nonsmooth_points(inp["pdf"])
    return np.array([0.0 if x <= lo else integrate(f, lo, x, breaks) for x in inp["xs"]])


# --------------------------------------------------------------------------- joint_prob_rectangle
def _rectangle_visible(rng):
    return [("independent normals", {"pdf": ("indep_normal", 0.0, 1.0, 1.0, 2.0), "box": (-1.0, 1.0, 0.0, 3.0)}),
            ("x + y on the unit square", {"pdf": ("xy_sum",), "box": (0.0, 0.5, 0.25, 1.0)})]


def _rectangle_hidden(rng):
    rho = float(np.round(rng.uniform(-0.8, 0.8), 3))
    a = float(rng.uniform(-1, 0))
    l1, l2 = float(rng.uniform(0.5, 2)), float(rng.uniform(0.5, 2))
    return [("a correlated normal", {"pdf": ("bvn", rho), "box": (a, a + 1.5, -0.5, 1.0)}),
            ("two exponentials", {"pdf": ("exp2", l1, l2), "box": (0.2, 1.2, 0.1, 2.0)}),
            ("x + y, a thin strip", {"pdf": ("xy_sum",), "box": (0.1, 0.9, 0.4, 0.45)})]


def _ref_rectangle(inp):
    a, b, c, d = inp["box"]
    return integrate_2d(raw_joint_density(inp["pdf"]), a, b, c, d)


def _rectangle_ranges_swapped(inp):
    a, b, c, d = inp["box"]
    return integrate_2d(raw_joint_density(inp["pdf"]), c, d, a, b)


# --------------------------------------------------------------------------- checks
def register(registry: Registry) -> None:
    add_check(registry, "cdf_from_pmf", _cdf_pmf_visible, lambda x: ref_cdf_pmf(x["pmf"], x["xs"]),
              hidden_twin_cases=_cdf_pmf_hidden,
              mistakes=(Mistake(_cdf_strict, "used a < x instead of a <= x: F jumps at the atom itself."),))

    add_check(registry, "is_valid_pdf", _valid_pdf_visible, _ref_valid_pdf,
              hidden_twin_cases=_valid_pdf_hidden,
              mistakes=(Mistake(lambda x: _ref_valid_pdf(x, tol=1e-6),
                                "the integral must be within tol (1e-3) of 1, not equal to 1 up to"
                                " round-off: use the tol argument."),))

    add_check(registry, "prob_between", _prob_between_visible, _ref_prob_between,
              hidden_twin_cases=_prob_between_hidden)

    add_check(registry, "cdf_from_pdf", _cdf_pdf_visible, _ref_cdf_pdf,
              hidden_twin_cases=_cdf_pdf_hidden)

    add_check(registry, "joint_prob_rectangle", _rectangle_visible, _ref_rectangle,
              hidden_twin_cases=_rectangle_hidden,
              mistakes=(Mistake(_rectangle_ranges_swapped, "the x and y ranges are swapped."),))
