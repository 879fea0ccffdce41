"""Part 3, Bernoulli and Laplace: bernoulli_mle, laplace_mle."""
from __future__ import annotations

import numpy as np

from ...checks import Mistake, Registry
from .._optim import anp, newton_minimize


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


# ----------------------------------------------------------------------------- checks

def register(registry: Registry) -> None:
    registry.add(
        "bernoulli_mle.values",
        cases=_bernoulli_cases,
        reference=_bernoulli_reference,
        mistakes=(Mistake(lambda x: (np.sum(x["x"]) + 1) / (len(x["x"]) + 2),
                          "add-one (Laplace) smoothing is the posterior mean under a uniform prior, not the MLE."),
                  Mistake(lambda x: 1 - np.mean(x["x"]), "this is the frequency of zeros, not of ones."),),
    )
    registry.add(
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
