"""torch_autograd, the student half: how each check calls the student's code (seeds 001, 002).

This assignment's kernel has torch (its environment is declared per assignment: see
``dlgrade_grader.hw.torch_autograd``), so the checks hand the student's functions torch
tensors and torch functions, and turn what comes back into numpy arrays before it is
recorded. They use the torch the notebook's setup cell imported (``ns.torch``): this
package never imports torch itself, so it installs and imports where torch is missing.
Nothing here computes an answer: the functions a Jacobian question differentiates are
described by plain data (a kind and its matrices) and built here with torch's ordinary
operations; their Jacobians are computed in the grader only.
"""
from __future__ import annotations

import numpy as np

from ..checks import Spec, Specs, make_check
from ..compare import Mismatch

SPECS = Specs("torch_autograd")
# the kinds of map R^n -> R^m a Jacobian question is asked about
FUNCTION_KINDS = ("tanh_layer", "product", "softmax")


def make_function(spec: dict, torch):
    """The torch function R^n -> R^m that ``spec`` describes (plain data, so it can travel)."""
    kind = spec["kind"]
    A, B, c = (tensor(spec[k], torch) for k in ("A", "B", "c"))
    if kind == "tanh_layer":   # A (m, h), B (h, n), c (h,)
        return lambda x: A @ torch.tanh(B @ x + c)
    if kind == "product":      # A, B (m, n), c (m,)
        return lambda x: (A @ x) * (B @ x) + c
    if kind == "softmax":      # A (m, n), c (m,); B unused
        return lambda x: torch.softmax(A @ x + c, dim=0)
    raise ValueError(f"unknown function kind {kind!r}")


def tensor(a, torch):
    """A float64 tensor copy of a case's array: no graph, no requires_grad."""
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64)


def plain(value, torch):
    """A student's answer as plain data: tensors become numpy arrays of the tensor's own dtype
    (float32 stays float32, so the verdict can say so), tuples and lists stay sequences."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, (tuple, list)):
        return type(value)(plain(v, torch) for v in value)
    if isinstance(value, dict):
        return {k: plain(v, torch) for k, v in value.items()}
    return value


def _mse_grad(ns, x):
    return plain(ns.mse_weight_grad(x["W"], x["x"], x["y"]), ns.torch)


def _gd(ns, x):
    w, losses = ns.gd_with_autograd(x["w0"], x["X"], x["y"], x["lr"], x["steps"])
    return {"w": np.asarray(plain(w, ns.torch), dtype=np.float64) if w is not None else w,
            "losses": np.asarray([float(v) for v in plain(losses, ns.torch)], dtype=np.float64)}


def _accumulate(ns, x):
    out = plain(ns.running_gradients(x["w"], x["X"], x["y"], [int(k) for k in x["chunks"]]), ns.torch)
    if isinstance(out, (list, tuple)) and out and all(isinstance(row, np.ndarray) for row in out):
        return np.stack(out)  # a list of snapshots is as good as the stacked array
    return out


def _function_call(name):
    def run(ns, x):
        torch = ns.torch
        f = make_function(x["f"], torch)
        args = [tensor(x["x"], torch)] + [tensor(x[k], torch) for k in ("u", "v") if k in x]
        return plain(getattr(ns, name)(f, *args), torch)
    return run


def _as_tuple(out, torch):
    return tuple(plain(out, torch)) if isinstance(out, (tuple, list)) else plain(out, torch)


def _backward(ns, x):
    return _as_tuple(ns.mlp_backward(x["X"], x["H"], x["W2"], x["R"]), ns.torch)


def _autograd(ns, x):
    return _as_tuple(ns.mlp_grads_autograd(x["W1"], x["b1"], x["W2"], x["b2"], x["X"], x["Y"]), ns.torch)


def cost_judge(expected, got, inputs, reveal):
    """The three entries of a cost dict, exactly (multiplication counts are integers)."""
    if not isinstance(got, dict):
        return [Mismatch("", f"expected a dict with keys 'forward', 'reverse', 'cheaper', got {type(got).__name__}")]
    out = []
    for key in ("forward", "reverse", "cheaper"):
        if key not in got:
            out.append(Mismatch("", f"the key {key!r} is missing"))
            continue
        e, g = expected[key], got[key]
        if key == "cheaper":
            if g != e:
                out.append(Mismatch(f"[{key!r}]", f"expected {e!r}, got {g!r}" if reveal
                                    else f"wrong mode (got {g!r})"))
        elif isinstance(g, bool) or not isinstance(g, (int, float)) or float(g) != float(e):
            out.append(Mismatch(f"[{key!r}]", f"expected {e}, got {g!r}" if reveal
                                else f"wrong count (got {g!r})"))
    return out


_JAC_HINT = ("row i of the Jacobian is the VJP with the unit vector e_i (an m-vector): m backward"
             " passes for f: R^n -> R^m, each from a zeroed gradient.")
_JVP_JAC_HINT = "column j of the Jacobian is the JVP with the unit vector e_j (an n-vector)."

for _spec in (
    Spec(id="mse_weight_grad.values",
         title="mse_weight_grad: the gradient of mean((Wx - y)^2) with respect to W, from backward()",
         run=_mse_grad, functions=("mse_weight_grad",),
         hint="W.grad is filled only for the very tensor made with requires_grad=True: .double(), * 1.0 or"
              " .to(...) after creating it give a new, non-leaf tensor whose .grad stays None."),
    Spec(id="mse_weight_grad.float64",
         title="mse_weight_grad near a fit (residuals of 1e-5), where float32 has no correct digit left",
         run=_mse_grad, functions=("mse_weight_grad",),
         hint="torch.tensor(W) keeps numpy's float64; .float() or dtype=torch.float32 throws digits away."),
    Spec(id="gd_with_autograd.trajectory",
         title="gd_with_autograd follows gradient descent exactly (final w and the loss before every step"
               " and after the last)",
         run=_gd, functions=("gd_with_autograd",), rtol=1e-8, atol=1e-10,
         hint="backward() adds to w.grad: zero it (w.grad.zero_(), with the parentheses) before every"
              " backward, and update w inside torch.no_grad()."),
    Spec(id="running_gradients.equal_chunks",
         title="running_gradients: w.grad after each chunk's backward, accumulating to the full-batch"
               " gradient (chunks of equal size)",
         run=_accumulate, functions=("running_gradients",)),
    Spec(id="running_gradients.unequal_chunks",
         title="running_gradients with chunks of different sizes, where averaging chunk means is wrong",
         run=_accumulate, functions=("running_gradients",),
         hint="the full-batch loss is a mean over all N samples: chunk k contributes sum_i l_i / N,"
              " that is (n_k / N) times its own mean."),
    Spec(id="vjp.values", title="vjp(f, x, u) = u^T J_f(x) for grader-drawn f: R^n -> R^m (m != n)",
         run=_function_call("vjp"), functions=("vjp",)),
    Spec(id="jacobian_from_vjps.wide",
         title="jacobian_from_vjps: the (m, n) Jacobian of f: R^n -> R^m with m < n, one VJP per row",
         run=_function_call("jacobian_from_vjps"), functions=("jacobian_from_vjps",), hint=_JAC_HINT),
    Spec(id="jacobian_from_vjps.tall",
         title="jacobian_from_vjps with m > n (more outputs than inputs)",
         run=_function_call("jacobian_from_vjps"), functions=("jacobian_from_vjps",), hint=_JAC_HINT),
    Spec(id="jacobian_from_vjps.square",
         title="jacobian_from_vjps with m == n, where a transposed Jacobian still has the right shape",
         run=_function_call("jacobian_from_vjps"), functions=("jacobian_from_vjps",), hint=_JAC_HINT),
    Spec(id="jvp.values", title="jvp(f, x, v) = J_f(x) v for grader-drawn f: R^n -> R^m (m != n)",
         run=_function_call("jvp"), functions=("jvp",)),
    Spec(id="jacobian_from_jvps.wide",
         title="jacobian_from_jvps: the (m, n) Jacobian with m < n, one JVP per column",
         run=_function_call("jacobian_from_jvps"), functions=("jacobian_from_jvps",), uses=("jvp",),
         hint=_JVP_JAC_HINT),
    Spec(id="jacobian_from_jvps.tall",
         title="jacobian_from_jvps with m > n",
         run=_function_call("jacobian_from_jvps"), functions=("jacobian_from_jvps",), uses=("jvp",),
         hint=_JVP_JAC_HINT),
    Spec(id="jacobian_cost.values",
         title="jacobian_cost: multiplications of forward and reverse accumulation of a layer chain's"
               " Jacobian, and which is cheaper",
         run=lambda ns, x: ns.jacobian_cost(list(x["widths"])), functions=("jacobian_cost",),
         judge=cost_judge),
    Spec(id="mlp_backward.values",
         title="mlp_backward: (dW1, db1, dW2, db2) of the tanh network's loss from its saved activations,"
               " derived by hand",
         run=_backward, functions=("mlp_backward",),
         hint="the tanh layer's local derivative is 1 - H**2, taken from the saved activations H."),
    Spec(id="mlp_backward.square",
         title="mlp_backward when every layer and the batch have the same width, where transposes still fit",
         run=_backward, functions=("mlp_backward",)),
    Spec(id="mlp_grads_autograd.values",
         title="mlp_grads_autograd: the same four gradients from one backward pass in float64",
         run=_autograd, functions=("mlp_grads_autograd",)),
    Spec(id="mlp_grads_autograd.float64",
         title="mlp_grads_autograd near a fit (residuals of 1e-5), where a float32 network has no correct"
               " digit left",
         run=_autograd, functions=("mlp_grads_autograd",),
         hint="make every tensor with dtype=torch.float64 (torch.tensor of a float64 array keeps it)."),
):
    SPECS.add(_spec)

check = make_check(SPECS)
