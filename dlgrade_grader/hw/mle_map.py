"""Checks for the mle_map assignment (seed 002, Q23-Q24): the grader's half.

Case generators, references and mistake models for the specs in
:mod:`dlgrade.hw.mle_map` (the half shipped to students). Never shipped.

Every closed form a student derives is graded against an answer the grader
finds without that formula:

- likelihoods and densities come from ``torch.distributions`` in float64;
- maximum-likelihood and MAP estimates come from minimising the negative
  log-likelihood / negative log-posterior numerically (:mod:`._optim`: damped
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

import numpy as np

from dlgrade.hw import mle_map as student

from ..checks import Mistake, Registry
from ._optim import anp, newton_minimize
from ._torchref import tensor as _t
from ._torchref import torch as _torch

REGISTRY = Registry(student.SPECS)
FORBIDDEN_IN_SOLUTIONS = {"torch", "autograd", "jax", "functorch", "tensorflow", "sympy", "scipy"}

LOG2PI = float(np.log(2 * np.pi))


def _scalar(x) -> float:
    return float(np.asarray(x, dtype=np.float64))


# ----------------------------------------------------------------------------- gaussian_nll

def _nll_cases_visible_and_hidden(rng):
    n = int(rng.integers(6, 10))
    y = rng.normal(1.0, 2.0, n)
    y_hat = y + rng.normal(0.0, 1.5, n)
    return [
        ("scalar sigma", {"y": y, "y_hat": y_hat, "sigma": float(rng.uniform(0.5, 2.5))}),
        ("one sigma per sample", {"y": y, "y_hat": y_hat, "sigma": rng.uniform(0.3, 3.0, n)}),
        ("a single sample, sigma < 1", {"y": y[:1], "y_hat": y_hat[:1], "sigma": float(rng.uniform(0.2, 0.6))}),
    ]


def _nll_reference(inp):
    torch = _torch()
    dist = torch.distributions.Normal(_t(inp["y_hat"]), _t(inp["sigma"]))
    return float(-dist.log_prob(_t(inp["y"])).sum())


def _nll_no_constants(inp):
    r2 = (np.asarray(inp["y"]) - inp["y_hat"]) ** 2
    return float(np.sum(r2 / (2 * np.asarray(inp["sigma"]) ** 2)))


def _nll_without_two_pi(inp):
    return _nll_reference(inp) - 0.5 * np.size(inp["y"]) * np.log(2 * np.pi)


def _nll_sigma_as_variance(inp):
    r2 = (np.asarray(inp["y"]) - inp["y_hat"]) ** 2
    v = np.broadcast_to(np.asarray(inp["sigma"], dtype=float), r2.shape)
    return float(np.sum(r2 / (2 * v) + 0.5 * np.log(2 * np.pi * v)))


REGISTRY.add(
    "gaussian_nll.values",
    cases=_nll_cases_visible_and_hidden,
    reference=_nll_reference,
    mistakes=(
        Mistake(_nll_no_constants, "the normalising constants (n/2 log 2 pi + sum log sigma) are missing;"
                                   " the NLL is more than the scaled sum of squares."),
        Mistake(_nll_without_two_pi, "off by exactly n * (1/2) log(2 pi): the constant term of the Gaussian"
                                     " density, (1/2) log(2 pi) per sample, is missing."),
        Mistake(_nll_sigma_as_variance, "sigma is the standard deviation; it was used as the variance."),
    ),
)


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


REGISTRY.add(
    "gaussian_mle.values",
    cases=_gaussian_mle_cases,
    reference=_gaussian_mle_reference,
    mistakes=(Mistake(lambda x: (float(np.mean(x["x"])), float(np.var(x["x"], ddof=1))),
                      "the variance uses 1/(n-1): that is the unbiased estimator, not the MLE (1/n)."),
              Mistake(lambda x: (float(np.mean(x["x"])), float(np.std(x["x"]))),
                      "the second value is the standard deviation; the MLE of the variance was asked."),),
)


# ----------------------------------------------------------------------------- bernoulli_mle

def _bernoulli_cases(rng):
    out = []
    for n, p in ((int(rng.integers(6, 10)), 0.3), (int(rng.integers(15, 25)), 0.7)):
        x = (rng.uniform(size=n) < p).astype(np.int64)
        x[0], x[1] = 0, 1  # both outcomes occur, so the MLE is an interior point
        out.append((f"{n} flips", {"x": x}))
    out.append(("one head in three", {"x": np.array([0, 1, 0], dtype=np.int64)}))
    return out


def _bernoulli_reference(inp):
    x = np.asarray(inp["x"], dtype=np.float64)

    def nll(theta):  # -sum log Bernoulli(x | sigmoid(t)), written stably
        t = theta[0]
        return anp.sum(anp.logaddexp(0.0, t) - x * t)

    (t,) = newton_minimize(nll, [0.0])
    return float(1.0 / (1.0 + np.exp(-t)))


REGISTRY.add(
    "bernoulli_mle.values",
    cases=_bernoulli_cases,
    reference=_bernoulli_reference,
    mistakes=(Mistake(lambda x: (np.sum(x["x"]) + 1) / (len(x["x"]) + 2),
                      "add-one (Laplace) smoothing is the posterior mean under a uniform prior, not the MLE."),
              Mistake(lambda x: 1 - np.mean(x["x"]), "this is the frequency of zeros, not of ones."),),
)


# ----------------------------------------------------------------------------- laplace_mle

def _laplace_cases(rng):
    odd = int(rng.integers(3, 6)) * 2 + 1
    even = int(rng.integers(3, 6)) * 2
    loc = rng.uniform(-2, 2)
    return [
        (f"odd n = {odd}", {"x": loc + rng.laplace(0.0, rng.uniform(0.5, 2.0), odd)}),
        (f"even n = {even}", {"x": loc + rng.laplace(0.0, rng.uniform(0.5, 2.0), even)}),
        ("skewed sample, n = 7", {"x": np.concatenate([rng.uniform(0, 1, 4), rng.uniform(5, 20, 3)])}),
    ]


def _laplace_reference(inp):
    """(lo, hi, b): every location in [lo, hi] maximises the likelihood; b is the MLE scale."""
    x = np.asarray(inp["x"], dtype=np.float64)
    # Enumeration: sum |x - mu| is convex and piecewise linear with kinks at the data,
    # so its minimum is attained at data points and the minimisers form [lo, hi].
    sad = np.array([np.sum(np.abs(x - c)) for c in x])
    best = sad.min()
    ties = x[sad <= best * (1 + 1e-12) + 1e-300]
    lo, hi = float(ties.min()), float(ties.max())

    def nll(theta):  # scale on a log axis, location fixed at a maximiser
        log_b = theta[0]
        return anp.sum(anp.log(2.0) + log_b + anp.abs(x - lo) / anp.exp(log_b))

    (log_b,) = newton_minimize(nll, [0.0])
    return (lo, hi, float(np.exp(log_b)))


REGISTRY.add(
    "laplace_mle.values",
    cases=_laplace_cases,
    reference=_laplace_reference,
    mistakes=(
        Mistake(lambda x: (float(np.mean(x["x"])), float(np.mean(np.abs(x["x"] - np.mean(x["x"]))))),
                "the Laplace location MLE is a median of the data, not the mean (it minimises the MAE)."),
        Mistake(lambda x: (float(np.median(x["x"])), float(np.std(x["x"]))),
                "the Laplace scale MLE is the mean absolute deviation from the location, not the std."),
    ),
)


# ----------------------------------------------------------------------------- loss_to_log_likelihood

def _loss_cases(rng):
    n = int(rng.integers(4, 7))
    y, y_hat = rng.normal(0, 2, n), rng.normal(0, 2, n)
    s, b, g = rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0)
    labels = (rng.uniform(size=n) < 0.5).astype(np.float64)
    p = rng.uniform(0.1, 0.9, n)
    r = y - y_hat
    return [
        ("squared error / (2 s^2)", {"dist": "normal", "y": y, "y_hat": y_hat, "scale": s,
                                     "loss_values": r ** 2 / (2 * s ** 2),
                                     "log_Z": 0.5 * np.log(2 * np.pi * s ** 2)}),
        ("absolute error / b", {"dist": "laplace", "y": y, "y_hat": y_hat, "scale": b,
                                "loss_values": np.abs(r) / b, "log_Z": float(np.log(2 * b))}),
        ("binary cross-entropy", {"dist": "bernoulli", "y": labels, "y_hat": p, "scale": 1.0,
                                  "loss_values": -(labels * np.log(p) + (1 - labels) * np.log(1 - p)),
                                  "log_Z": 0.0}),
        ("log(1 + r^2 / g^2)", {"dist": "cauchy", "y": y, "y_hat": y_hat, "scale": g,
                                "loss_values": np.log1p(r ** 2 / g ** 2), "log_Z": float(np.log(np.pi * g))}),
    ]


def _loss_reference(inp):
    torch = _torch()
    d = torch.distributions
    y, m, s = _t(inp["y"]), _t(inp["y_hat"]), _t(inp["scale"])
    dist = {"normal": lambda: d.Normal(m, s), "laplace": lambda: d.Laplace(m, s),
            "cauchy": lambda: d.Cauchy(m, s), "bernoulli": lambda: d.Bernoulli(probs=m)}[inp["dist"]]()
    return dist.log_prob(y).numpy()


REGISTRY.add(
    "loss_to_log_likelihood.values",
    cases=_loss_cases,
    reference=_loss_reference,
    mistakes=(
        Mistake(lambda x: -np.asarray(x["loss_values"]) + x["log_Z"], "log Z was added; dividing by Z subtracts it."),
        Mistake(lambda x: -np.asarray(x["loss_values"]), "the normaliser log Z is missing."),
        Mistake(lambda x: np.asarray(x["loss_values"]) - x["log_Z"], "the sign of the loss is flipped: P is exp(-l)/Z."),
    ),
)


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


def _ols(inp):
    return np.linalg.lstsq(inp["X"], inp["y"], rcond=None)[0]


REGISTRY.add(
    "mle_linear_gaussian.values",
    cases=_linear_cases,
    reference=_linear_reference,
    mistakes=(
        Mistake(lambda x: (_ols(x), float(np.sum((x["y"] - x["X"] @ _ols(x)) ** 2) / (len(x["y"]) - x["X"].shape[1]))),
                "sigma^2 divides the residual sum of squares by n - d (the unbiased estimate); the MLE divides by n."),
        Mistake(lambda x: (_ols(x), float(np.sqrt(np.mean((x["y"] - x["X"] @ _ols(x)) ** 2)))),
                "the second value is sigma, not sigma^2."),
    ),
)


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


REGISTRY.add(
    "gls_mle.values",
    cases=_gls_cases,
    reference=_gls_reference,
    mistakes=(
        Mistake(_ols, "Sigma is ignored: ordinary least squares is the MLE only for IID noise."),
        Mistake(lambda x: np.linalg.solve(x["X"].T @ x["Sigma"] @ x["X"], x["X"].T @ x["Sigma"] @ x["y"]),
                "Sigma was used as the weight; the likelihood weights residuals by Sigma^{-1}."),
    ),
)


# ----------------------------------------------------------------------------- lambdas from priors

def _curvature_neg_log_prob(dist, at: float) -> float:
    """d^2/dw^2 of -log p(w) at ``at``, by torch.autograd."""
    torch = _torch()
    w = torch.tensor(at, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(-dist.log_prob(w), w, create_graph=True)
    (h,) = torch.autograd.grad(g, w)
    return float(h)


def _slope_neg_log_prob(dist, at: float) -> float:
    torch = _torch()
    w = torch.tensor(at, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(-dist.log_prob(w), w)
    return float(g)


def _residual_coefficient(sigma2: float) -> float:
    """The coefficient c in -log N(r | 0, sigma^2) = c r^2 + const (half its curvature)."""
    torch = _torch()
    normal = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64),
                                        torch.tensor(float(np.sqrt(sigma2)), dtype=torch.float64))
    return 0.5 * _curvature_neg_log_prob(normal, 0.37)


def _ridge_lambda_reference(inp):
    # ||y - Xw||^2 + lam ||w||^2 is -log posterior divided by the residual coefficient
    torch = _torch()
    prior = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64),
                                       torch.tensor(float(np.sqrt(inp["tau2"])), dtype=torch.float64))
    return 0.5 * _curvature_neg_log_prob(prior, -0.81) / _residual_coefficient(inp["sigma2"])


def _lasso_lambda_reference(inp):
    # ||y - Xw||^2 + lam ||w||_1: lam is the prior's slope in |w| over the residual coefficient
    torch = _torch()
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


REGISTRY.add(
    "ridge_lambda_from_prior.values",
    cases=_prior_cases("tau2"),
    reference=_ridge_lambda_reference,
    mistakes=(Mistake(lambda x: x["tau2"] / x["sigma2"], "the ratio is upside down: lambda = sigma^2 / tau^2."),
              Mistake(lambda x: x["sigma2"] / (2 * x["tau2"]),
                      "a stray 1/2: both terms of -log posterior carry 1/2, which cancels."),),
)


REGISTRY.add(
    "lasso_lambda_from_laplace_prior.values",
    cases=_prior_cases("b"),
    reference=_lasso_lambda_reference,
    mistakes=(Mistake(lambda x: x["sigma2"] / x["b"],
                      "the factor 2 is missing: the data term is ||r||^2 / (2 sigma^2), the prior term ||w||_1 / b."),
              Mistake(lambda x: 2 * x["sigma2"] * x["b"], "b is the Laplace scale: the prior term is ||w||_1 / b."),),
)


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


REGISTRY.add(
    "map_linear_gaussian.values",
    cases=_map_cases,
    reference=_map_reference,
    mistakes=(
        Mistake(lambda x: _ridge(x["X"], x["y"], x["tau2"] / x["sigma2"]), "lambda is upside down: sigma^2 / tau^2."),
        Mistake(lambda x: np.linalg.lstsq(x["X"], x["y"], rcond=None)[0], "the prior is ignored (this is the MLE)."),
    ),
)


# ----------------------------------------------------------------------------- beta_bernoulli_map

def _beta_reference(inp):
    """The mode of the Beta(a + k, b + n - k) posterior, or "raised ValueError" when it has none.

    A dense grid decides the shape (interior maximum, monotone, flat or U-shaped)
    and Newton's method on the logit refines an interior maximum.
    """
    x = np.asarray(inp["x"], dtype=np.float64)
    k, n = float(np.sum(x)), float(x.size)
    a1, b1 = float(inp["a"]) + k, float(inp["b"]) + n - k

    def log_density(p):  # unnormalised log posterior density in p
        return (a1 - 1) * np.log(p) + (b1 - 1) * np.log1p(-p)

    grid = np.linspace(1e-9, 1 - 1e-9, 4001)
    values = log_density(grid)
    if np.ptp(values) <= 1e-12 * max(1.0, np.abs(values).max()):
        return "raised ValueError"  # flat: every p is a mode
    i = int(np.argmax(values))
    middle = values[len(grid) // 2]
    if i in (0, len(grid) - 1):
        other = values[-1] if i == 0 else values[0]
        if other > middle:
            return "raised ValueError"  # U-shaped: two boundary modes
        return 0.0 if i == 0 else 1.0

    def neg(theta):
        t = theta[0]
        return -((a1 - 1) * -anp.logaddexp(0.0, -t) + (b1 - 1) * -anp.logaddexp(0.0, t))

    p0 = grid[i]
    (t,) = newton_minimize(neg, [np.log(p0) - np.log1p(-p0)])
    return float(1.0 / (1.0 + np.exp(-t)))


def _mode_formula(inp):
    x = np.asarray(inp["x"], dtype=np.float64)
    k, n = np.sum(x), x.size
    with np.errstate(all="ignore"):  # 0/0 is what this mistake gives on a flat posterior
        return float((inp["a"] + k - 1) / (inp["a"] + inp["b"] + n - 2))


def _beta_interior_cases(rng):
    out = []
    for a, b in ((2.0, 2.0), (float(rng.uniform(1.2, 5)), float(rng.uniform(1.2, 5))), (0.5, 3.0)):
        n = int(rng.integers(6, 15))
        x = (rng.uniform(size=n) < rng.uniform(0.2, 0.8)).astype(np.int64)
        x[0], x[1] = 0, 1
        out.append((f"a = {a:.3g}, b = {b:.3g}, n = {n}", {"x": x, "a": a, "b": b}))
    return out


def _beta_edge_cases(rng):
    """Every kind of edge once, plus two more drawn at random, so the answers' multiset varies."""
    n = int(rng.integers(2, 6))
    zeros, ones, empty = np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64), np.zeros(0, dtype=np.int64)
    kinds = [
        ("all zeros, a < 1: density unbounded at p = 0", lambda: {"x": zeros, "a": float(rng.uniform(0.2, 0.9)), "b": 2.0}),
        ("all zeros, a = 1: density decreasing", lambda: {"x": zeros, "a": 1.0, "b": float(rng.uniform(1.5, 3))}),
        ("all ones, b < 1: mode at p = 1", lambda: {"x": ones, "a": 2.0, "b": float(rng.uniform(0.2, 0.9))}),
        ("no data, a = 1, b < 1: mode at p = 1", lambda: {"x": empty, "a": 1.0, "b": float(rng.uniform(0.2, 0.9))}),
        ("no data, a = b = 1: flat posterior", lambda: {"x": empty, "a": 1.0, "b": 1.0}),
        ("no data, a, b < 1: two boundary modes", lambda: {"x": empty, "a": float(rng.uniform(0.2, 0.9)),
                                                           "b": float(rng.uniform(0.2, 0.9))}),
    ]
    picked = list(range(len(kinds))) + [int(i) for i in rng.choice(len(kinds), size=2)]
    return [(kinds[i][0], kinds[i][1]()) for i in picked]


_BETA_MISTAKES = (
    Mistake(_mode_formula, "the interior mode formula (a' - 1)/(a' + b' - 2) only holds when both posterior"
                           " parameters a' = a + k and b' = b + n - k exceed 1."),
    Mistake(lambda x: float((x["a"] + np.sum(x["x"])) / (x["a"] + x["b"] + len(x["x"]))),
            "this is the posterior mean; the MAP estimate is the posterior mode."),
)


for _id, _cases in (
        ("beta_bernoulli_map.interior", _beta_interior_cases),
        ("beta_bernoulli_map.edge", _beta_edge_cases)):
    REGISTRY.add(
        _id,
        cases=_cases,
        reference=_beta_reference,
        mistakes=_BETA_MISTAKES,
    )


REGISTRY.complete()
