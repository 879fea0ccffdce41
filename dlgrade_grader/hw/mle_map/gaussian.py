"""Part 2, the Gaussian likelihood: gaussian_nll, gaussian_mle."""
from __future__ import annotations

import numpy as np

from ...checks import Mistake, Registry
from .._optim import anp, newton_minimize
from .._torchref import tensor
from .._torchref import torch as lazy_torch

LOG2PI = float(np.log(2 * np.pi))


# ----------------------------------------------------------------------------- gaussian_nll

def _nll_cases(rng):
    n = int(rng.integers(6, 10))
    y = rng.normal(1.0, 2.0, n)
    y_hat = y + rng.normal(0.0, 1.5, n)
    return [
        ("scalar sigma", {"y": y, "y_hat": y_hat, "sigma": float(rng.uniform(0.5, 2.5))}),
        ("one sigma per sample", {"y": y, "y_hat": y_hat, "sigma": rng.uniform(0.3, 3.0, n)}),
        ("a single sample, sigma < 1", {"y": y[:1], "y_hat": y_hat[:1], "sigma": float(rng.uniform(0.2, 0.6))}),
    ]


def _nll_reference(inp):
    torch = lazy_torch()
    dist = torch.distributions.Normal(tensor(inp["y_hat"]), tensor(inp["sigma"]))
    return float(-dist.log_prob(tensor(inp["y"])).sum())


def _nll_no_constants(inp):
    r2 = (np.asarray(inp["y"]) - inp["y_hat"]) ** 2
    return float(np.sum(r2 / (2 * np.asarray(inp["sigma"]) ** 2)))


def _nll_without_two_pi(inp):
    return _nll_reference(inp) - 0.5 * np.size(inp["y"]) * np.log(2 * np.pi)


def _nll_sigma_as_variance(inp):
    r2 = (np.asarray(inp["y"]) - inp["y_hat"]) ** 2
    v = np.broadcast_to(np.asarray(inp["sigma"], dtype=float), r2.shape)
    return float(np.sum(r2 / (2 * v) + 0.5 * np.log(2 * np.pi * v)))


# ----------------------------------------------------------------------------- gaussian_mle

def _gaussian_mle_cases(rng):
    out = []
    for n in (int(rng.integers(5, 9)), int(rng.integers(10, 16))):
        out.append((f"n = {n}", {"x": rng.normal(rng.uniform(-3, 3), rng.uniform(0.5, 3.0), n)}))
    out.append(("n = 2", {"x": rng.normal(0.0, 1.0, 2)}))
    return out


def _gaussian_mle_reference(inp):
    x = np.asarray(inp["x"], dtype=np.float64)

    def nll(theta):
        mu, log_var = theta[0], theta[1]
        return anp.sum(0.5 * (LOG2PI + log_var) + (x - mu) ** 2 / (2 * anp.exp(log_var)))

    mu, log_var = newton_minimize(nll, [0.0, 0.0])
    return (float(mu), float(np.exp(log_var)))


# ----------------------------------------------------------------------------- checks

def register(registry: Registry) -> None:
    registry.add(
        "gaussian_nll.values",
        cases=_nll_cases,
        reference=_nll_reference,
        mistakes=(
            Mistake(_nll_no_constants, "the normalising constants (n/2 log 2 pi + sum log sigma) are missing;"
                                       " the NLL is more than the scaled sum of squares."),
            Mistake(_nll_without_two_pi, "off by exactly n * (1/2) log(2 pi): the constant term of the Gaussian"
                                         " density, (1/2) log(2 pi) per sample, is missing."),
            Mistake(_nll_sigma_as_variance, "sigma is the standard deviation; it was used as the variance."),
        ),
    )
    registry.add(
        "gaussian_mle.values",
        cases=_gaussian_mle_cases,
        reference=_gaussian_mle_reference,
        mistakes=(Mistake(lambda x: (float(np.mean(x["x"])), float(np.var(x["x"], ddof=1))),
                          "the variance uses 1/(n-1): that is the unbiased estimator, not the MLE (1/n)."),
                  Mistake(lambda x: (float(np.mean(x["x"])), float(np.std(x["x"]))),
                          "the second value is the standard deviation; the MLE of the variance was asked."),),
    )
