"""Part 6, a gradient check (CS231n style): relative_error, numerical_gradient.

numerical_gradient is graded against the exact gradient from autograd and torch: a central difference
with h = 1e-5 is within the check's rtol = 1e-7 of it, a forward difference is not. For the step check
the function is sum_i C_i sin(x_i), whose central difference is known in closed form,
C cos(x) sin(h) / h, so a large h can be graded exactly.
"""
from __future__ import annotations

import numpy as np

from dlgrade.hw.jacobians import _ng_fn

from ...checks import Mistake, Registry
from .._torchref import tensor
from .autodiff import agreed, autograd_grads, torch_grads

DEFAULT_H = 1e-5
DEFAULT_FLOOR = 1e-8


# --------------------------------------------------------------------------- relative_error

def _ref_relative_error(inp):
    a, b = inp["a"], inp["b"]
    if np.shape(a) != np.shape(b):
        return "raised ValueError"
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    floor = inp.get("floor", DEFAULT_FLOOR)
    # entry by entry, in a loop, so the reference shares no vectorised expression with the mistakes
    worst = 0.0
    for ai, bi in zip(a.ravel().tolist(), b.ravel().tolist()):
        worst = max(worst, abs(ai - bi) / max(abs(ai), abs(bi), floor))
    return worst


def _rel_values_cases(rng):
    out = []
    for shape in [(6,), (3, 4), (2, 2, 3)]:
        a = rng.standard_normal(shape)
        b = a + 10.0 ** rng.uniform(-9, -3) * rng.standard_normal(shape)
        out.append((f"arrays of shape {shape}, nearly equal", {"a": a, "b": b}))
    # entries of very different sizes: the worst *relative* error sits on a small entry
    a = rng.standard_normal(5) * np.array([1e3, 1.0, 1e-3, 10.0, 1e-2])
    b = a * (1 + rng.uniform(1e-6, 1e-2, 5) * rng.choice([-1, 1], 5))
    out.append(("entries from 1e-3 to 1e3", {"a": a, "b": b}))
    # exact zeros on both sides: 0 / 0 unless the floor is used
    a = rng.standard_normal(6)
    a[[1, 4]] = 0.0
    b = a + 1e-5 * rng.standard_normal(6)
    b[[1, 4]] = 0.0
    out.append(("some entries 0 in both", {"a": a, "b": b}))
    # an explicit floor larger than the entries: the floor is the denominator there
    a = 1e-5 * rng.standard_normal(4)
    out.append(("tiny entries with floor=1e-3", {"a": a, "b": a + 1e-6 * rng.standard_normal(4), "floor": 1e-3}))
    return out


def _rel_shape_cases(rng):
    n = int(rng.integers(3, 6))
    a = rng.standard_normal(n)
    col = (a + 1e-4 * rng.standard_normal(n))[:, None]
    x = float(rng.standard_normal())
    return [
        (f"a of shape ({n},), b of shape ({n}, 1)", {"a": a, "b": col}),
        (f"a of shape ({n}, 1), b of shape (1, {n})", {"a": col, "b": col.T.copy()}),
        (f"both of shape ({n}, 1)", {"a": col + 1e-3, "b": col}),
        ("two Python floats", {"a": x, "b": x * (1 + float(rng.uniform(1e-7, 1e-3)))}),
        ("two 0-d arrays", {"a": np.array(x), "b": np.array(x + float(rng.uniform(1e-6, 1e-3)))}),
    ]


def _rel_vectorised(inp, denominator):
    if np.shape(inp["a"]) != np.shape(inp["b"]):
        raise ValueError("not modelled")
    a, b = np.asarray(inp["a"], dtype=np.float64), np.asarray(inp["b"], dtype=np.float64)
    floor = inp.get("floor", DEFAULT_FLOOR)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.max(np.abs(a - b) / denominator(np.abs(a), np.abs(b), floor)))


_REL_MISTAKES = (
    Mistake(lambda x: _rel_vectorised(x, lambda a, b, f: np.maximum(a, b)),
            "no floor: where both entries are 0 the ratio is 0/0 = NaN; divide by max(|a|, |b|, floor)."),
    Mistake(lambda x: _rel_vectorised(x, lambda a, b, f: np.maximum(b, f)),
            "divided by |b| only: the relative error is symmetric, divide by max(|a_i|, |b_i|, floor)."),
    Mistake(lambda x: _rel_vectorised(x, lambda a, b, f: np.maximum(np.max(np.maximum(a, b)), f)),
            "divided by the largest entry of the whole array: that is a normalised absolute error, which hides"
            " a wrong small entry; divide entry by entry."),
)


def _rel_mean(inp):
    a, b = np.asarray(inp["a"], dtype=np.float64), np.asarray(inp["b"], dtype=np.float64)
    floor = inp.get("floor", DEFAULT_FLOOR)
    return float(np.mean(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)))


_REL_MISTAKES += (Mistake(_rel_mean, "the mean over the entries where the maximum belongs: one bad entry"
                                     " must show, however many good ones surround it."),)


def _rel_broadcast(inp):
    a, b = np.asarray(inp["a"], dtype=np.float64), np.asarray(inp["b"], dtype=np.float64)
    if a.shape == b.shape:
        raise ValueError("not modelled")
    return float(np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), DEFAULT_FLOOR)))


_REL_SHAPE_MISTAKES = _REL_MISTAKES + (
    Mistake(_rel_broadcast, "the shapes differ and numpy broadcast them: (n,) against (n, 1) compares every entry"
                            " with every other one. Raise ValueError when np.shape(a) != np.shape(b)."),
)


# --------------------------------------------------------------------------- numerical_gradient

def _exact_gradient(inp):
    import torch
    import autograd.numpy as anp
    name, C, x = inp["f"], inp["C"], np.asarray(inp["x"], dtype=np.float64)
    ag = autograd_grads(_ng_fn(name, anp, C), [x])[0]
    th = torch_grads(_ng_fn(name, torch, tensor(C)), [x])[0]
    return agreed(ag, th, "the gradient")


def _ref_numerical_gradient(inp):
    grad = _exact_gradient(inp)
    if inp["f"] == "sine":
        h = inp.get("h", DEFAULT_H)
        grad = grad * (np.sin(h) / h)   # the central difference of sin, exactly
    return {"grad": grad, "x_unchanged": True}


def _ng_case(rng, name, shape, integer=False, h=None):
    if integer:
        x = rng.integers(-2, 3, size=shape)
    else:
        x = rng.standard_normal(shape)
    if name == "tanh_quadratic":
        C = rng.standard_normal((int(rng.integers(2, 5)), shape[0])) / np.sqrt(shape[0])
    else:
        C = rng.uniform(0.3, 1.0, shape) * rng.choice([-1.0, 1.0], shape)
    inp = {"f": name, "x": x, "C": C}
    if h is not None:
        inp["h"] = float(h)
    what = f"{'integer ' if integer else ''}x of shape {shape}" + ("" if h is None else f", h={h:.3g}")
    return (f"{name}: {what}", inp)


def _ng_values_cases(rng):
    return [_ng_case(rng, "tanh_quadratic", (int(rng.integers(3, 6)),)),
            _ng_case(rng, "log_sum_exp", (2, 3)),
            _ng_case(rng, "log_sum_exp", (3, 2, 2)),
            _ng_case(rng, "sine", (4,))]


def _ng_step_cases(rng):
    return [_ng_case(rng, "sine", (int(rng.integers(3, 6)),), h=rng.uniform(0.2, 0.6)),
            _ng_case(rng, "sine", (2, 3), h=rng.uniform(0.05, 0.2)),
            _ng_case(rng, "sine", (3,), h=rng.uniform(0.005, 0.02))]


def _ng_integer_cases(rng):
    return [_ng_case(rng, "tanh_quadratic", (int(rng.integers(3, 6)),), integer=True),
            _ng_case(rng, "log_sum_exp", (2, 2), integer=True)]


def _forward(inp, h=DEFAULT_H):
    f = _ng_fn(inp["f"], np, inp["C"])
    x = np.asarray(inp["x"], dtype=np.float64)
    h = inp.get("h", h)
    g = np.empty(x.shape)
    for idx in np.ndindex(*x.shape):
        xp = x.copy()
        xp[idx] += h
        g[idx] = (f(xp) - f(x)) / h
    return {"grad": g, "x_unchanged": True}


def _step_ignored(inp):
    if "h" not in inp or inp["f"] != "sine":
        raise ValueError("not modelled")
    return {"grad": inp["C"] * np.cos(inp["x"]) * (np.sin(DEFAULT_H) / DEFAULT_H), "x_unchanged": True}


def _integer_truncated(inp):
    if np.asarray(inp["x"]).dtype.kind not in "iu":
        raise ValueError("not modelled")
    return {"grad": np.zeros(np.shape(inp["x"])), "x_unchanged": True}


_NG_MISTAKES = (
    Mistake(_forward, "a forward difference (f(x + h) - f(x)) / h has an error of order h; the central"
                      " difference (f(x + h) - f(x - h)) / (2h) has an error of order h^2."),
    Mistake(_step_ignored, "the step h passed to the function was not used: every difference must use that h."),
    Mistake(_integer_truncated, "x is an integer array, so x + h was stored back as an integer and no step was"
                                " taken: make a float64 copy first, np.array(x, dtype=np.float64)."),
)


# --------------------------------------------------------------------------- checks

def register(registry: Registry) -> None:
    registry.add("relative_error.values", cases=_rel_values_cases, reference=_ref_relative_error,
                 mistakes=_REL_MISTAKES)
    registry.add("relative_error.shapes", cases=_rel_shape_cases, reference=_ref_relative_error,
                 mistakes=_REL_SHAPE_MISTAKES)
    registry.add("numerical_gradient.values", cases=_ng_values_cases, reference=_ref_numerical_gradient,
                 mistakes=_NG_MISTAKES)
    registry.add("numerical_gradient.step", cases=_ng_step_cases, reference=_ref_numerical_gradient,
                 mistakes=_NG_MISTAKES)
    registry.add("numerical_gradient.integer_x", cases=_ng_integer_cases, reference=_ref_numerical_gradient,
                 mistakes=_NG_MISTAKES)
