"""Part 5, regularisation as a prior: ridge_lambda_from_prior, lasso_lambda_from_laplace_prior,
map_linear_gaussian."""
from __future__ import annotations

import numpy as np

from ...checks import Mistake, Registry
from .._optim import anp, newton_minimize
from .._torchref import torch as lazy_torch


# ----------------------------------------------------------------------------- lambdas from priors

def _curvature_neg_log_prob(dist, at: float) -> float:
    """d^2/dw^2 of -log p(w) at ``at``, by torch.autograd."""
    torch = lazy_torch()
    w = torch.tensor(at, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(-dist.log_prob(w), w, create_graph=True)
    (h,) = torch.autograd.grad(g, w)
    return float(h)


def _slope_neg_log_prob(dist, at: float) -> float:
    torch = lazy_torch()
    w = torch.tensor(at, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(-dist.log_prob(w), w)
    return float(g)


def _residual_coefficient(sigma2: float) -> float:
    """The coefficient c in -log N(r | 0, sigma^2) = c r^2 + const (half its curvature)."""
    torch = lazy_torch()
    normal = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64),
                                        torch.tensor(float(np.sqrt(sigma2)), dtype=torch.float64))
    return 0.5 * _curvature_neg_log_prob(normal, 0.37)


def _ridge_lambda_reference(inp):
    # ||y - Xw||^2 + lam ||w||^2 is -log posterior divided by the residual coefficient
    torch = lazy_torch()
    prior = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64),
                                       torch.tensor(float(np.sqrt(inp["tau2"])), dtype=torch.float64))
    return 0.5 * _curvature_neg_log_prob(prior, -0.81) / _residual_coefficient(inp["sigma2"])


def _lasso_lambda_reference(inp):
    # ||y - Xw||^2 + lam ||w||_1: lam is the prior's slope in |w| over the residual coefficient
    torch = lazy_torch()
    prior = torch.distributions.Laplace(torch.tensor(0.0, dtype=torch.float64),
                                        torch.tensor(float(inp["b"]), dtype=torch.float64))
    return _slope_neg_log_prob(prior, 0.53) / _residual_coefficient(inp["sigma2"])


def _prior_cases(second: str):
    def cases(rng):
        return [(f"sigma2 = {s2:.3g}, {second} = {v:.3g}", {"sigma2": s2, second: v})
                for s2, v in ((float(rng.uniform(0.2, 3.0)), float(rng.uniform(0.2, 3.0))),
                              (float(rng.uniform(3.0, 9.0)), float(rng.uniform(0.05, 0.5))),
                              (1.0, float(rng.uniform(1.5, 4.0))))]
    return cases


# ----------------------------------------------------------------------------- map_linear_gaussian

def _map_cases(rng):
    out = []
    for n, d, s2, t2 in ((int(rng.integers(8, 12)), 3, rng.uniform(0.5, 2.0), rng.uniform(0.05, 0.5)),
                         (4, 6, rng.uniform(0.5, 2.0), rng.uniform(0.5, 3.0))):
        X = rng.standard_normal((n, d))
        y = X @ rng.normal(0, 1, d) + rng.normal(0, np.sqrt(s2), n)
        out.append((f"X {X.shape}", {"X": X, "y": y, "sigma2": float(s2), "tau2": float(t2)}))
    return out


def _map_reference(inp):
    X, y = np.asarray(inp["X"], dtype=np.float64), np.asarray(inp["y"], dtype=np.float64)
    s2, t2 = float(inp["sigma2"]), float(inp["tau2"])

    def neg_log_posterior(w):
        r = y - anp.dot(X, w)
        return anp.sum(r ** 2) / (2 * s2) + anp.sum(w ** 2) / (2 * t2)

    return newton_minimize(neg_log_posterior, np.zeros(X.shape[1]))


def _ridge(X, y, lam):
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


# ----------------------------------------------------------------------------- checks

def register(registry: Registry) -> None:
    registry.add(
        "ridge_lambda_from_prior.values",
        cases=_prior_cases("tau2"),
        reference=_ridge_lambda_reference,
        mistakes=(Mistake(lambda x: x["tau2"] / x["sigma2"], "the ratio is upside down: lambda = sigma^2 / tau^2."),
                  Mistake(lambda x: x["sigma2"] / (2 * x["tau2"]),
                          "a stray 1/2: both terms of -log posterior carry 1/2, which cancels."),),
    )
    registry.add(
        "lasso_lambda_from_laplace_prior.values",
        cases=_prior_cases("b"),
        reference=_lasso_lambda_reference,
        mistakes=(Mistake(lambda x: x["sigma2"] / x["b"], "the factor 2 is missing: the data term is"
                                                          " ||r||^2 / (2 sigma^2), the prior term ||w||_1 / b."),
                  Mistake(lambda x: 2 * x["sigma2"] * x["b"],
                          "b is the Laplace scale: the prior term is ||w||_1 / b."),),
    )
    registry.add(
        "map_linear_gaussian.values",
        cases=_map_cases,
        reference=_map_reference,
        mistakes=(
            Mistake(lambda x: _ridge(x["X"], x["y"], x["tau2"] / x["sigma2"]),
                    "lambda is upside down: sigma^2 / tau^2."),
            Mistake(lambda x: np.linalg.lstsq(x["X"], x["y"], rcond=None)[0],
                    "the prior is ignored (this is the MLE)."),
        ),
    )
