"""Part 4, linear regression as maximum likelihood: mle_linear_gaussian, gls_mle."""
from __future__ import annotations

import numpy as np

from ...checks import Mistake, Registry
from .._optim import anp, newton_minimize
from .gaussian import LOG2PI


def _ols(inp):
    return np.linalg.lstsq(inp["X"], inp["y"], rcond=None)[0]


# ----------------------------------------------------------------------------- mle_linear_gaussian

def _linear_cases(rng):
    out = []
    for n, d in ((int(rng.integers(10, 15)), 2), (int(rng.integers(15, 22)), 4)):
        X = rng.standard_normal((n, d))
        w = rng.normal(0, 2, d)
        y = X @ w + rng.normal(0, rng.uniform(0.3, 1.5), n)
        out.append((f"X {X.shape}", {"X": X, "y": y}))
    return out


def _linear_reference(inp):
    X, y = np.asarray(inp["X"], dtype=np.float64), np.asarray(inp["y"], dtype=np.float64)
    d = X.shape[1]

    def nll(theta):
        w, log_s2 = theta[:d], theta[d]
        r = y - anp.dot(X, w)
        return anp.sum(0.5 * (LOG2PI + log_s2) + r ** 2 / (2 * anp.exp(log_s2)))

    theta = newton_minimize(nll, np.zeros(d + 1))
    return (theta[:d], float(np.exp(theta[d])))


def _ols_unbiased_variance(inp):
    w = _ols(inp)
    return (w, float(np.sum((inp["y"] - inp["X"] @ w) ** 2) / (len(inp["y"]) - inp["X"].shape[1])))


def _ols_sigma(inp):
    w = _ols(inp)
    return (w, float(np.sqrt(np.mean((inp["y"] - inp["X"] @ w) ** 2))))


# ----------------------------------------------------------------------------- gls_mle

def _gls_cases(rng):
    out = []
    n, d = int(rng.integers(10, 14)), 2
    X = np.column_stack([np.ones(n), rng.uniform(-2, 2, n)])
    rho = rng.uniform(0.6, 0.9)
    idx = np.arange(n)
    Sigma = rng.uniform(0.5, 2.0) * rho ** np.abs(idx[:, None] - idx[None, :])
    y = X @ rng.normal(0, 2, d) + np.linalg.cholesky(Sigma) @ rng.standard_normal(n)
    out.append(("AR(1) correlated noise", {"X": X, "y": y, "Sigma": Sigma}))
    n, d = int(rng.integers(12, 16)), 3
    X = rng.standard_normal((n, d))
    var = np.exp(rng.uniform(-3, 3, n))
    y = X @ rng.normal(0, 2, d) + np.sqrt(var) * rng.standard_normal(n)
    out.append(("heteroscedastic noise", {"X": X, "y": y, "Sigma": np.diag(var)}))
    return out


def _gls_reference(inp):
    X, y, S = (np.asarray(inp[k], dtype=np.float64) for k in ("X", "y", "Sigma"))

    def nll(w):  # the w-dependent part of -log N(y | Xw, Sigma)
        r = y - anp.dot(X, w)
        return 0.5 * anp.dot(r, anp.linalg.solve(S, r))

    return newton_minimize(nll, np.zeros(X.shape[1]))


# ----------------------------------------------------------------------------- checks

def register(registry: Registry) -> None:
    registry.add(
        "mle_linear_gaussian.values",
        cases=_linear_cases,
        reference=_linear_reference,
        mistakes=(
            Mistake(_ols_unbiased_variance, "sigma^2 divides the residual sum of squares by n - d (the unbiased"
                                            " estimate); the MLE divides by n."),
            Mistake(_ols_sigma, "the second value is sigma, not sigma^2."),
        ),
    )
    registry.add(
        "gls_mle.values",
        cases=_gls_cases,
        reference=_gls_reference,
        mistakes=(
            Mistake(_ols, "Sigma is ignored: ordinary least squares is the MLE only for IID noise."),
            Mistake(lambda x: np.linalg.solve(x["X"].T @ x["Sigma"] @ x["X"], x["X"].T @ x["Sigma"] @ x["y"]),
                    "Sigma was used as the weight; the likelihood weights residuals by Sigma^{-1}."),
        ),
    )
