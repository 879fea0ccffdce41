"""Checks for the mle_map assignment (seed 002, Q23-Q24): the grader's half.

Case generators, references and mistake models for the specs in
:mod:`dlgrade.hw.mle_map` (the half shipped to students). Never shipped.
One module per topic, each registering its checks.

Every closed form a student derives is graded against an answer the grader
finds without that formula:

- likelihoods and densities come from ``torch.distributions`` in float64;
- maximum-likelihood and MAP estimates come from minimising the negative
  log-likelihood / negative log-posterior numerically (:mod:`.._optim`: damped
  Newton, gradient and Hessian from HIPS autograd, float64, deterministic);
  positive parameters are optimised on a log scale and probabilities on a
  logit scale, which moves the optimum's location in parameter space but not
  the distribution it describes;
- the non-smooth Laplace location is found by enumeration (the sum of absolute
  deviations is piecewise linear and convex, so its minimisers lie between
  data points), and boundary modes of the Beta posterior by a dense grid;
  the student-side judge accepts any location in the interval [lo, hi] the
  reference returns;
- the regularisation strengths are ratios of curvatures (slopes for the
  Laplace prior) of torch log-densities, differentiated with torch.autograd.
"""
from __future__ import annotations

from dlgrade.hw import mle_map as student

from ...checks import Registry
from .. import DEFAULT_FORBIDDEN
from . import beta_bernoulli, bernoulli_laplace, gaussian, linear_regression, loss_likelihood, map_priors

# scipy.optimize and scipy.stats would find the estimates numerically instead of by the derivation
FORBIDDEN_IN_SOLUTIONS = DEFAULT_FORBIDDEN | {"scipy"}

REGISTRY = Registry(student.SPECS)
# parts in registration order, which is not the notebook's: loss_likelihood is its part 1
for _part in (gaussian, bernoulli_laplace, loss_likelihood, linear_regression, map_priors, beta_bernoulli):
    _part.register(REGISTRY)
REGISTRY.complete()
