"""The numerical Jacobian and logistic regression checks."""
from __future__ import annotations

import numpy as np

from dlgrade.hw.vjp_autograd import _nj_fn as numjac_function

from ...checks import Mistake
from .._torchref import tensor as torch_tensor
from .._torchref import to_numpy
from .._torchref import torch as torch_module
from .ops import autograd_numpy
from .vjp_checks import distinct_sizes


# --------------------------------------------------------------------------- numerical Jacobian
def _numjac_cases(kinds):
    def make(rng):
        a, b, c, _ = distinct_sizes(rng, 4, lo=2, hi=3)
        out = []
        for kind in kinds:
            if kind == "tanh_linear":
                x, W = rng.standard_normal(b), rng.standard_normal((a, b)) * 0.7
            elif kind == "scalar":
                x, W = rng.standard_normal(c), np.zeros(0)
            elif kind == "scalar_int":  # an integer array x: the Jacobian is still computed in float64
                x, W = rng.integers(-2, 3, size=c + 1), np.zeros(0)
            elif kind == "matrix_in":
                x, W = rng.standard_normal((a, b)), rng.standard_normal((b, c)) * 0.7
            else:
                x, W = rng.standard_normal((a, a)), rng.standard_normal((a, a))
            f = kind.removesuffix("_int")
            what = f"integer-valued x of shape {x.shape}" if kind.endswith("_int") else f"x of shape {x.shape}"
            out.append((f"{f}: {what}", {"f": f, "x": x, "W": W}))
        return out
    return make


def _numjac_reference(inp):
    torch = torch_module()
    from autograd import jacobian
    f_torch = numjac_function(inp["f"], torch, torch_tensor(inp["W"]))
    ref = to_numpy(torch.autograd.functional.jacobian(f_torch, torch_tensor(inp["x"])))
    alt = jacobian(numjac_function(inp["f"], autograd_numpy(), inp["W"]))(np.asarray(inp["x"], dtype=np.float64))
    if ref.shape != alt.shape or not np.allclose(ref, alt, rtol=1e-10, atol=1e-12):
        raise RuntimeError("torch and autograd disagree on the Jacobian")
    return ref


def _forward_difference(inp, h=1e-6):
    f = numjac_function(inp["f"], np, inp["W"])
    x = np.asarray(inp["x"], dtype=np.float64)
    y0 = np.asarray(f(x))
    J = np.empty(y0.shape + x.shape)
    for idx in np.ndindex(*x.shape):
        xp = x.copy()
        xp[idx] += h
        J[(Ellipsis,) + idx] = (np.asarray(f(xp)) - y0) / h
    return J


NUMJAC_MISTAKES = (
    Mistake(_forward_difference, "a forward difference (f(x+h)-f(x))/h is only first-order accurate; use the"
                                 " central difference (f(x+h)-f(x-h))/(2h)."),
    Mistake(lambda inp: _forward_difference(inp, 1e-10),
            "a forward difference with h=1e-10 (the seed notes' version) loses most digits to cancellation;"
            " use the central difference with h=1e-6."),
)


# --------------------------------------------------------------------------- logistic regression
def _logreg_cases(rng):
    out = []
    for n, d, steps in ((24, 3, 20), (30, 4, 25)):
        X = rng.standard_normal((n, d))
        w_true = rng.standard_normal(d) * 1.5
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(X @ w_true - 0.3)))).astype(np.float64)
        out.append((f"{n} samples, {d} features, {steps} steps", {
            "X": X, "y": y, "lr": float(rng.uniform(0.3, 0.8)), "steps": steps,
            "w0": rng.standard_normal(d) * 0.1, "b0": float(rng.standard_normal() * 0.1)}))
    return out


def _logreg_reference(inp):
    torch = torch_module()
    X, y = torch_tensor(inp["X"]), torch_tensor(inp["y"])
    w, b = torch_tensor(inp["w0"], True), torch_tensor(inp["b0"], True)
    losses = []
    for _ in range(inp["steps"]):
        p = torch.sigmoid(X @ w + b)
        loss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
        losses.append(loss.item())
        gw, gb = torch.autograd.grad(loss, [w, b])
        with torch.no_grad():
            w = (w - inp["lr"] * gw).requires_grad_(True)
            b = (b - inp["lr"] * gb).requires_grad_(True)
    return {"w": to_numpy(w), "b": to_numpy(b), "losses": np.array(losses)}


def register(registry):
    for check_id, kinds in (("numjac.vector", ("tanh_linear", "scalar", "scalar_int")),
                            ("numjac.tensor", ("matrix_in", "matrix_out"))):
        registry.add(check_id, cases=_numjac_cases(kinds), reference=_numjac_reference, mistakes=NUMJAC_MISTAKES)
    registry.add("logreg.fit", cases=_logreg_cases, reference=_logreg_reference)
