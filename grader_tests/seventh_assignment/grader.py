"""softplus, the grader half: cases drawn from the course key, references from torch."""
from __future__ import annotations

import numpy as np

from dlgrade.hw import softplus as student

from ..checks import Mistake, Registry
from ._torchref import tensor, to_numpy, torch

REGISTRY = Registry(student.SPECS)


def _cases(rng):
    n = int(rng.integers(5, 9))
    far = rng.choice([-1.0, 1.0], n) * rng.uniform(40.0, 800.0, n)
    return [("moderate x", {"x": rng.normal(0.0, 3.0, n)}),
            ("large |x|, where e^x overflows", {"x": far}),
            ("a matrix", {"x": rng.normal(0.0, 3.0, (2, n))})]


def _softplus(t):
    return torch().logaddexp(torch().zeros_like(t), t)


def _value(inp):
    return to_numpy(_softplus(tensor(inp["x"])))


def _derivative(inp):
    x = tensor(inp["x"], grad=True)
    (grad,) = torch().autograd.grad(_softplus(x).sum(), x)
    return to_numpy(grad)


def _naive(fn):
    def answer(inp):
        with np.errstate(all="ignore"):
            return fn(np.asarray(inp["x"], dtype=np.float64))
    return answer


REGISTRY.add("softplus.values", cases=_cases, reference=_value, mistakes=(
    Mistake(_naive(lambda x: np.log(1 + np.exp(x))),
            "log(1 + e^x) overflows to inf for large x: take the max out first, max(x, 0) + log1p(e^-|x|)."),))
REGISTRY.add("softplus_grad.values", cases=_cases, reference=_derivative, mistakes=(
    Mistake(_naive(lambda x: np.exp(x) / (1 + np.exp(x))),
            "e^x / (1 + e^x) is inf/inf = NaN for large x: divide through by e^x (the logistic sigmoid)."),
    Mistake(_naive(lambda x: np.log1p(np.exp(x))), "that is softplus itself, not its derivative."),))
REGISTRY.complete()
