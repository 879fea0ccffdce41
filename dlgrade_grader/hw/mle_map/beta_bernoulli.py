"""Part 5, the Beta-Bernoulli posterior mode: beta_bernoulli_map (interior and edge cases)."""
from __future__ import annotations

import numpy as np

from ...checks import Mistake, Registry
from .._optim import anp, newton_minimize


def _beta_reference(inp):
    """The mode of the Beta(a + k, b + n - k) posterior, or "raised ValueError" when it has none.

    A dense grid decides the shape (interior maximum, monotone, flat or U-shaped)
    and Newton's method on the logit refines an interior maximum.
    """
    try:  # torch refuses a Beta prior whose parameters are not positive, and so must the student
        import torch
        torch.distributions.Beta(torch.tensor(float(inp["a"]), dtype=torch.float64),
                                 torch.tensor(float(inp["b"]), dtype=torch.float64), validate_args=True)
    except ValueError:
        return "raised ValueError"
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
        ("all zeros, a < 1: density unbounded at p = 0",
         lambda: {"x": zeros, "a": float(rng.uniform(0.2, 0.9)), "b": 2.0}),
        ("all zeros, a = 1: density decreasing", lambda: {"x": zeros, "a": 1.0, "b": float(rng.uniform(1.5, 3))}),
        ("all ones, b < 1: mode at p = 1", lambda: {"x": ones, "a": 2.0, "b": float(rng.uniform(0.2, 0.9))}),
        ("no data, a = 1, b < 1: mode at p = 1", lambda: {"x": empty, "a": 1.0, "b": float(rng.uniform(0.2, 0.9))}),
        ("no data, a = b = 1: flat posterior", lambda: {"x": empty, "a": 1.0, "b": 1.0}),
        ("no data, a, b < 1: two boundary modes", lambda: {"x": empty, "a": float(rng.uniform(0.2, 0.9)),
                                                           "b": float(rng.uniform(0.2, 0.9))}),
    ]
    picked = list(range(len(kinds))) + [int(i) for i in rng.choice(len(kinds), size=2)]
    out = [(kinds[i][0], kinds[i][1]()) for i in picked]
    # "raise ValueError when a <= 0 or b <= 0", on data whose posterior parameters would both exceed 1
    mixed = rng.permutation(np.concatenate([[0, 0, 1, 1], rng.integers(0, 2, int(rng.integers(1, 4)))])).astype(np.int64)
    out.append(("a < 0: the prior is not a distribution", {"x": mixed, "a": -float(rng.uniform(0.1, 0.9)), "b": 2.0}))
    out.append(("b = 0: the prior is not a distribution", {"x": mixed, "a": float(rng.uniform(1.5, 3)), "b": 0.0}))
    return out


_BETA_MISTAKES = (
    Mistake(_mode_formula, "the interior mode formula (a' - 1)/(a' + b' - 2) only holds when both posterior"
                           " parameters a' = a + k and b' = b + n - k exceed 1."),
    Mistake(lambda x: float((x["a"] + np.sum(x["x"])) / (x["a"] + x["b"] + len(x["x"]))),
            "this is the posterior mean; the MAP estimate is the posterior mode."),
)


def register(registry: Registry) -> None:
    registry.add("beta_bernoulli_map.interior", cases=_beta_interior_cases, reference=_beta_reference,
                 mistakes=_BETA_MISTAKES)
    registry.add("beta_bernoulli_map.edge", cases=_beta_edge_cases, reference=_beta_reference,
                 mistakes=_BETA_MISTAKES)
