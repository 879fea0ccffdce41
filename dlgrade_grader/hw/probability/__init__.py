"""Checks for the probability assignment (seed 002, Q1-Q22): the grader's half.

Case generators, trusted references and mistake models for the specs in
:mod:`dlgrade.hw.probability` (the student's half: how each check calls the
student's code and compares the answer). Never installed where student code runs.

One module per part of the notebook, each registering its checks in the
notebook's order; :mod:`.common` holds what several parts share and
:mod:`.integration` the trusted quadrature.

Every reference here is computed without the student's formula:
- finite spaces by exhaustive enumeration (bit masks over the outcomes, explicit
  loops over every pair of events, ``math.fsum`` for sums);
- densities by composite Gauss-Legendre quadrature, split at every point where
  the density is not smooth, on far more nodes than the trapezoid grid a student
  would use;
- covariances with ``np.cov``.

Tolerances (also stated in the notebook, and set on the student's side): exact or
float64 round-off (rtol 1e-7, atol 1e-9) for finite spaces; ``INTEGRAL_RTOL`` /
``INTEGRAL_ATOL`` for anything a student computes by numerical integration.
"""
from __future__ import annotations

from dlgrade.hw import probability as student

from ...checks import Registry
from .. import DEFAULT_FORBIDDEN
from . import conditioning, densities, expectation, independence, measures, sample_spaces

# np.cov is the grader's reference for the covariance questions; scipy and
# statistics would answer the integration and moment questions for the student.
FORBIDDEN_IN_SOLUTIONS = DEFAULT_FORBIDDEN | {"scipy", "statistics", "np.cov", "numpy.cov"}

REGISTRY = Registry(student.SPECS)
for _part in (sample_spaces, measures, densities, conditioning, independence, expectation):
    _part.register(REGISTRY)
REGISTRY.complete()
