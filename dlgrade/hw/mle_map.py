"""Checks for the mle_map assignment (seed 002, Q23-Q24): the student's half.

This module is shipped into the student's kernel. It only says how each check
calls the student's code (``run``), how an answer is compared (tolerances, or a
``judge`` that compares an expected value with the answer) and what hint a
failure shows. It holds no case generator, no reference answer and no mistake
model: those live in the grader package (``dlgrade_grader.hw.mle_map``), which
is never installed where student code runs.
"""
from __future__ import annotations

import numpy as np

from ..checks import Spec, Specs, make_check, outcome
from ..compare import Mismatch, compare

SPECS = Specs("mle_map")


# ----------------------------------------------------------------------------- gaussian_nll

SPECS.add(Spec(
    id="gaussian_nll.values",
    title="gaussian_nll equals -sum log N(y | y_hat, sigma^2) from torch.distributions.Normal",
    run=lambda ns, x: ns.gaussian_nll(x["y"], x["y_hat"], x["sigma"]),
    functions=("gaussian_nll",),
    hint="-log N(y | m, s^2) = (y - m)^2 / (2 s^2) + log s + log(2 pi) / 2, summed over samples.",
))


# ----------------------------------------------------------------------------- gaussian_mle

SPECS.add(Spec(
    id="gaussian_mle.values",
    title="gaussian_mle returns the maximiser of the Gaussian likelihood (found numerically)",
    run=lambda ns, x: tuple(ns.gaussian_mle(x["x"])),
    functions=("gaussian_mle",),
))


# ----------------------------------------------------------------------------- bernoulli_mle

SPECS.add(Spec(
    id="bernoulli_mle.values",
    title="bernoulli_mle returns the maximiser of the Bernoulli likelihood (found numerically)",
    run=lambda ns, x: ns.bernoulli_mle(x["x"]),
    functions=("bernoulli_mle",),
))


# ----------------------------------------------------------------------------- laplace_mle

def _laplace_judge(expected, got, inputs, reveal):
    """Compare (location, scale) with the grader's ``expected = (lo, hi, b)``.

    Any location in [lo, hi] is accepted; the scale is compared with b.
    """
    lo, hi, b = expected
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return [Mismatch("", "expected a pair (location, scale)")]
    out = []
    try:
        loc = float(got[0])
    except (TypeError, ValueError):
        return [Mismatch("[0]", f"the location is not a number (got {type(got[0]).__name__})")]
    width = max(1.0, abs(lo), abs(hi))
    if not (np.isfinite(loc) and lo - 1e-9 * width <= loc <= hi + 1e-9 * width):
        if lo == hi:
            where = f"the unique maximiser is {lo:.6g}." if reveal else "the maximiser is unique."
        else:
            where = (f"every point of [{lo:.6g}, {hi:.6g}] maximises it." if reveal
                     else "the maximisers form an interval between the two middle order statistics.")
        out.append(Mismatch("[0]", f"the location {loc:.6g} does not maximise the likelihood; {where}"
                            if reveal else f"the location does not maximise the likelihood; {where}"))
    out += compare(b, got[1], 1e-7, 1e-9, "[1]", "", reveal)
    return out


SPECS.add(Spec(
    id="laplace_mle.values",
    title="laplace_mle returns a maximiser (location, scale) of the Laplace likelihood",
    run=lambda ns, x: tuple(ns.laplace_mle(x["x"])),
    functions=("laplace_mle",),
    judge=_laplace_judge,
    hint="minimise sum |x_i - mu| over mu first, then solve d/db of the NLL = 0.",
))


# ----------------------------------------------------------------------------- loss_to_log_likelihood

SPECS.add(Spec(
    id="loss_to_log_likelihood.values",
    title="loss_to_log_likelihood gives log P(y_i) for P = exp(-l) / Z (torch.distributions log_prob)",
    run=lambda ns, x: ns.loss_to_log_likelihood(x["loss_values"], x["log_Z"]),
    functions=("loss_to_log_likelihood",),
))


# ----------------------------------------------------------------------------- mle_linear_gaussian

SPECS.add(Spec(
    id="mle_linear_gaussian.values",
    title="mle_linear_gaussian returns the maximiser (w, sigma^2) of the Gaussian linear-model likelihood",
    run=lambda ns, x: tuple(ns.mle_linear_gaussian(x["X"], x["y"])),
    functions=("mle_linear_gaussian",),
))


# ----------------------------------------------------------------------------- gls_mle

SPECS.add(Spec(
    id="gls_mle.values",
    title="gls_mle maximises the likelihood under correlated / unequal noise N(Xw, Sigma)",
    run=lambda ns, x: ns.gls_mle(x["X"], x["y"], x["Sigma"]),
    functions=("gls_mle",),
))


# ----------------------------------------------------------------------------- lambdas from priors

SPECS.add(Spec(
    id="ridge_lambda_from_prior.values",
    title="ridge_lambda_from_prior: the lambda of ||y - Xw||^2 + lambda ||w||^2 for a N(0, tau^2 I) prior",
    run=lambda ns, x: ns.ridge_lambda_from_prior(x["sigma2"], x["tau2"]),
    functions=("ridge_lambda_from_prior",),
))

SPECS.add(Spec(
    id="lasso_lambda_from_laplace_prior.values",
    title="lasso_lambda_from_laplace_prior: the lambda of ||y - Xw||^2 + lambda ||w||_1 for a Laplace(0, b) prior",
    run=lambda ns, x: ns.lasso_lambda_from_laplace_prior(x["sigma2"], x["b"]),
    functions=("lasso_lambda_from_laplace_prior",),
))


# ----------------------------------------------------------------------------- map_linear_gaussian

SPECS.add(Spec(
    id="map_linear_gaussian.values",
    title="map_linear_gaussian maximises the posterior under y ~ N(Xw, sigma^2 I), w ~ N(0, tau^2 I)",
    run=lambda ns, x: ns.map_linear_gaussian(x["X"], x["y"], x["sigma2"], x["tau2"]),
    functions=("map_linear_gaussian",),
))


# ----------------------------------------------------------------------------- beta_bernoulli_map

for _id, _title in (
        ("beta_bernoulli_map.interior", "the posterior mode when it is an interior point"),
        ("beta_bernoulli_map.edge",
         "boundary modes (0 or 1) and a ValueError when the posterior has no unique mode")):
    SPECS.add(Spec(
        id=_id,
        title="beta_bernoulli_map: " + _title,
        run=lambda ns, x: outcome(ns.beta_bernoulli_map, x["x"], x["a"], x["b"]),
        functions=("beta_bernoulli_map",),
        hint="write a' = a + k, b' = b + n - k and ask where (a'-1) log p + (b'-1) log(1-p) is largest on [0, 1].",
    ))

check = make_check(SPECS)
