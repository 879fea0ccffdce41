"""torch_autograd, the grader half: cases, references, mistake models (seeds 001 and 002).

This is the one assignment whose kernel has torch: the student's code drives torch's
autograd, so the kernel runs in ``.venv-kernel-torch`` (``KERNEL_ENV``, built by
scripts/setup.sh and named for this assignment in nbgrader_config.py through
``GraderExecute.kernel_pythons``). Having torch in the kernel does not put any answer
there: every case is drawn here from the course key, every reference computed here,
in float64:

- gradients of the small losses come from torch's own autograd applied to the loss,
  built here from the case (never from anything the kernel returned);
- the Jacobians (and so the VJPs and JVPs) come from
  ``torch.autograd.functional.jacobian`` of the grader-drawn function;
- gradient descent and the running gradients follow from the autograd gradient,
  step by step;
- the cost counts come from multiplying the chain's Jacobians out, one matrix-vector
  product at a time, and counting.

What torch in the kernel does change is the by-hand question: a student could hand
the work to autograd there. ``mlp_backward`` is therefore asked from the saved
activations of a layer (X, H, W2 and the residual R), the way a layer's backward
receives them: the kernel never sees W1, b1, b2 or Y, so there is no forward pass to
call backward on, and a surrogate loss that autograd could differentiate already
needs the derivation. Beyond that, ``FORBIDDEN_IN_SOLUTIONS`` (a static audit that
reads names) reports the library Jacobian shortcuts; a method call such as
``y.backward()`` has no name it could recognise.
"""
from __future__ import annotations

import glob
import os

import numpy as np

from dlgrade.hw import torch_autograd as student

from ..checks import Mistake, Registry
from . import DEFAULT_FORBIDDEN
from ._torchref import tensor, to_numpy
from ._torchref import torch as lazy_torch

REGISTRY = Registry(student.SPECS)
# torch is the subject here, so it is allowed; what stays forbidden are the calls that would answer a
# question outright: torch's Jacobian/JVP/VJP functions and the other autodiff libraries
FORBIDDEN_IN_SOLUTIONS = (DEFAULT_FORBIDDEN - {"torch"}) | {
    "torch.autograd.functional", "torch.func", "torch.autograd.gradcheck", "torch.vmap"}

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KERNEL_ENV = os.path.join(REPO, ".venv-kernel-torch")


def kernel_python() -> str:
    return os.path.join(KERNEL_ENV, "bin", "python")


def kernel_libraries() -> list:
    """The folders the torch kernel's .pth files add (.venv-kernel's site-packages): the sandbox
    binds only the kernel's own venv and base Python by itself, so these must be named to it.
    Empty before scripts/setup.sh has built the environment."""
    out = []
    for pth in sorted(glob.glob(os.path.join(KERNEL_ENV, "lib", "python*", "site-packages", "*.pth"))):
        with open(pth, encoding="utf-8") as fh:
            # a .pth line starting with "import" is code, not a folder
            out += [line.strip() for line in fh if line.strip() and not line.startswith(("#", "import"))]
    return [p for p in dict.fromkeys(out) if os.path.isabs(p)]


def _loss_grads(loss, *leaves):
    """Gradients of the scalar ``loss(*tensors)`` at ``leaves`` (numpy arrays), float64 numpy."""
    torch = lazy_torch()
    ts = [tensor(a, grad=True) for a in leaves]
    grads = torch.autograd.grad(loss(*ts), ts)
    return [to_numpy(g) for g in grads]


# ----------------------------------------------------------------------------- mse_weight_grad

def _mse_loss(W, x, y):
    return ((W @ x - y) ** 2).mean()


def _mse_cases(rng, near_fit=False):
    out = []
    for m, n in ((int(rng.integers(3, 6)), int(rng.integers(6, 9))), (int(rng.integers(6, 9)), 2)):
        W, x = rng.standard_normal((m, n)), rng.standard_normal(n)
        if near_fit:
            y = W @ x + 1e-5 * rng.standard_normal(m)
            label = f"W {(m, n)}, residuals of about 1e-5"
        else:
            y = rng.standard_normal(m)
            label = f"W {(m, n)}"
        out.append((label, {"W": W, "x": x, "y": y}))
    return out


def _mse_reference(inp):
    x, y = tensor(inp["x"]), tensor(inp["y"])
    return _loss_grads(lambda W: _mse_loss(W, x, y), inp["W"])[0]


_MSE_MISTAKES = (
    Mistake(lambda i: 2 * np.outer(i["W"] @ i["x"] - i["y"], i["x"]),
            "this is the gradient of the sum of squares: the loss is a mean over the m outputs (a factor 1/m)."),
    Mistake(lambda i: 2 / len(i["y"]) * np.outer(i["y"] - i["W"] @ i["x"], i["x"]), "the sign is flipped."),
    Mistake(lambda i: 2 / len(i["y"]) * ((i["W"] @ i["x"] - i["y"]) @ i["W"]),
            "this is the gradient with respect to x (x.grad), not W."),
)


# ----------------------------------------------------------------------------- gradient descent

def _ls_loss(X, y):
    return lambda w: ((X @ w - y) ** 2).mean()


def _gd_cases(rng):
    out = []
    for N, n, steps, frac in ((8, 3, 12, 0.5), (12, 4, 20, 0.8), (6, 2, 8, 0.3)):
        X = rng.standard_normal((N, n))
        L = 2 * np.linalg.norm(X, 2) ** 2 / N
        out.append((f"X {(N, n)}, {steps} steps", {"w0": rng.standard_normal(n), "X": X,
                                                   "y": rng.standard_normal(N), "lr": frac / L,
                                                   "steps": steps}))
    return out


def _gd_run(inp, accumulate=False):
    torch = lazy_torch()
    X, y = tensor(inp["X"]), tensor(inp["y"])
    loss = _ls_loss(X, y)
    w = np.array(inp["w0"], dtype=np.float64)
    total = np.zeros_like(w)
    losses = []
    for _ in range(int(inp["steps"])):
        t = tensor(w, grad=True)
        value = loss(t)
        losses.append(float(value.detach()))
        (g,) = torch.autograd.grad(value, t)
        total = total + to_numpy(g) if accumulate else to_numpy(g)
        w = w - inp["lr"] * total
    losses.append(float(loss(tensor(w))))
    return {"w": w, "losses": np.array(losses)}


_GD_MISTAKES = (
    Mistake(lambda i: _gd_run(i, accumulate=True),
            "w.grad was never zeroed (or `w.grad.zero_` was written without its parentheses, which does"
            " nothing): each step used the sum of every gradient so far."),
)


# ----------------------------------------------------------------------------- running gradients

def _chunk_cases(rng, equal):
    out = []
    for n in (3, 2):
        if equal:
            k = int(rng.integers(2, 4))
            size = int(rng.integers(2, 5))
            chunks = [size] * k
        else:
            chunks = [int(rng.integers(1, 3)), int(rng.integers(5, 8)), int(rng.integers(2, 4))]
        N = sum(chunks)
        out.append((f"chunks {chunks}, n = {n}", {"w": rng.standard_normal(n), "X": rng.standard_normal((N, n)),
                                                  "y": rng.standard_normal(N), "chunks": chunks}))
    return out


def _per_sample_grads(inp):
    X, y, w = (np.asarray(inp[k], dtype=np.float64) for k in ("X", "y", "w"))
    return np.stack([_loss_grads(lambda t, xi=xi, yi=yi: (xi @ t - yi) ** 2, w)[0]
                     for xi, yi in zip(tensor(X), tensor(y))])


def _chunk_sums(inp, weight):
    """Row k: the sum over chunk k of its per-sample gradients, times weight(chunk size, N, K)."""
    g = _per_sample_grads(inp)
    chunks = [int(c) for c in inp["chunks"]]
    N, K = sum(chunks), len(chunks)
    rows, start = [], 0
    for size in chunks:
        rows.append(g[start:start + size].sum(axis=0) * weight(size, N, K))
        start += size
    return np.stack(rows)


def _running_reference(inp):
    return np.cumsum(_chunk_sums(inp, lambda size, N, K: 1.0 / N), axis=0)


_RUNNING_MISTAKES = (
    Mistake(lambda i: np.cumsum(_chunk_sums(i, lambda size, N, K: 1.0 / size), axis=0),
            "each chunk's mean loss was backpropagated as it is: the sum of the chunk means is not the"
            " mean over all samples; weight chunk k by n_k / N."),
    Mistake(lambda i: np.cumsum(_chunk_sums(i, lambda size, N, K: 1.0 / (size * K)), axis=0),
            "dividing each chunk's mean by the number of chunks is right only when all chunks have the"
            " same size; the mean over all N samples weights chunk k by n_k / N."),
    Mistake(lambda i: _chunk_sums(i, lambda size, N, K: 1.0 / N),
            "w.grad was zeroed between chunks: each row holds one chunk's contribution, not the running sum."),
    Mistake(lambda i: np.repeat(_running_reference(i)[-1:], len(i["chunks"]), axis=0),
            "every row is the final gradient: the snapshots are w.grad itself, which backward() keeps"
            " updating in place; store w.grad.clone()."),
)


# ----------------------------------------------------------------------------- Jacobians

def _function_spec(rng, kind, m, n):
    if kind == "tanh_layer":
        h = int(rng.integers(3, 6))
        return {"kind": kind, "A": rng.standard_normal((m, h)), "B": rng.standard_normal((h, n)) / np.sqrt(n),
                "c": rng.normal(0, 0.5, h)}
    if kind == "product":
        return {"kind": kind, "A": rng.standard_normal((m, n)), "B": rng.standard_normal((m, n)),
                "c": rng.standard_normal(m)}
    return {"kind": kind, "A": rng.standard_normal((m, n)), "B": np.zeros((1, 1)), "c": rng.normal(0, 0.5, m)}


def _shapes(rng, shape):
    if shape == "wide":
        m = int(rng.integers(2, 4))
        return m, m + int(rng.integers(2, 4))
    if shape == "tall":
        n = int(rng.integers(2, 4))
        return n + int(rng.integers(2, 4)), n
    n = int(rng.integers(3, 5))
    return n, n


def _function_cases(shape, with_vector=""):
    def cases(rng):
        out = []
        for kind in student.FUNCTION_KINDS:
            m, n = _shapes(rng, shape)
            inp = {"f": _function_spec(rng, kind, m, n), "x": rng.standard_normal(n)}
            if with_vector == "u":
                inp["u"] = rng.standard_normal(m)
            elif with_vector == "v":
                inp["v"] = rng.standard_normal(n)
            out.append((f"{kind}, R^{n} -> R^{m}", inp))
        return out
    return cases


def jacobian(inp) -> np.ndarray:
    torch = lazy_torch()
    f = student.make_function(inp["f"], torch)
    return to_numpy(torch.autograd.functional.jacobian(f, tensor(inp["x"])))


_VJP_JAC_MISTAKES = (
    Mistake(lambda i: np.cumsum(jacobian(i), axis=0),
            "row i holds the sum of rows 0..i: the same leaf's .grad accumulated over the backward passes"
            " and was not zeroed (or cleared) between them."),
    Mistake(lambda i: np.repeat(jacobian(i).sum(axis=0, keepdims=True), jacobian(i).shape[0], axis=0),
            "every row is the sum of the Jacobian's rows, the gradient of sum(f(x)) (seed 001's compute_jac):"
            " a unit vector e_i picks out row i."),
    Mistake(lambda i: jacobian(i).T, "rows and columns are swapped: row i of J is e_i^T J, the VJP with e_i."),
    Mistake(lambda i: jacobian(i).sum(axis=0), "this is the gradient of sum(f(x)), not the Jacobian."),
)


# ----------------------------------------------------------------------------- costs

def _cost_cases(rng):
    out = []
    for label, first, last in (("a scalar loss, d_L = 1", int(rng.integers(20, 200)), 1),
                               ("d_0 < d_L", int(rng.integers(2, 6)), int(rng.integers(50, 120))),
                               ("d_0 == d_L", None, None)):
        inner = [int(v) for v in rng.integers(5, 60, int(rng.integers(1, 4)))]
        if first is None:
            first = last = int(rng.integers(5, 40))
        out.append((label, {"widths": [first, *inner, last]}))
    out.append(("one layer", {"widths": [int(rng.integers(3, 30)), int(rng.integers(3, 30))]}))
    return out


def _cost_reference(inp):
    """Push every unit tangent forward and every unit cotangent backward through random layer Jacobians,
    counting the multiplications of each matrix-vector product."""
    d = [int(v) for v in inp["widths"]]
    rng = np.random.default_rng(0)
    J = [rng.standard_normal((d[k + 1], d[k])) for k in range(len(d) - 1)]
    forward = reverse = 0
    for j in range(d[0]):
        t = np.eye(d[0])[j]
        for Jk in J:
            t = Jk @ t
            forward += Jk.size
    for i in range(d[-1]):
        c = np.eye(d[-1])[i]
        for Jk in reversed(J):
            c = c @ Jk
            reverse += Jk.size
    cheaper = "forward" if forward < reverse else "reverse" if reverse < forward else "either"
    return {"forward": forward, "reverse": reverse, "cheaper": cheaper}


def _per_pass(d):
    return sum(a * b for a, b in zip(d[:-1], d[1:]))


def _cost(forward, reverse):
    return {"forward": forward, "reverse": reverse,
            "cheaper": "forward" if forward < reverse else "reverse" if reverse < forward else "either"}


_COST_MISTAKES = (
    Mistake(lambda i: _cost(i["widths"][-1] * _per_pass(i["widths"]), i["widths"][0] * _per_pass(i["widths"])),
            "forward and reverse are swapped: forward mode needs one JVP per *input* (d_0 of them),"
            " reverse mode one VJP per *output* (d_L)."),
    Mistake(lambda i: _cost(i["widths"][0], i["widths"][-1]),
            "these are the numbers of passes; the question asks for multiplications: passes times the"
            " cost of one pass, sum_k d_k d_(k-1)."),
    Mistake(lambda i: _cost(int(np.prod(i["widths"])), int(np.prod(i["widths"]))),
            "one pass costs a matrix-vector product per layer, sum_k d_k d_(k-1), not the product of all widths."),
)


# ----------------------------------------------------------------------------- the tanh network

def _net_loss(X, Y):
    torch = lazy_torch()
    return lambda W1, b1, W2, b2: 0.5 * ((torch.tanh(X @ W1.T + b1) @ W2.T + b2 - Y) ** 2).sum() / X.shape[0]


def _net_cases(rng, square=False, near_fit=False):
    out = []
    sizes = [(3, 3, 3, 3)] * 2 if square else [(int(rng.integers(5, 8)), 4, 5, 2), (3, 2, 6, 4)]
    for B, n, h, m in sizes:
        W1, b1 = rng.standard_normal((h, n)) / np.sqrt(n), rng.normal(0, 0.3, h)
        W2, b2 = rng.standard_normal((m, h)) / np.sqrt(h), rng.normal(0, 0.3, m)
        X = rng.standard_normal((B, n))
        H = np.tanh(X @ W1.T + b1)
        noise = 1e-5 if near_fit else 1.0
        Y = H @ W2.T + b2 + noise * rng.standard_normal((B, m))
        label = f"B = {B}, n = {n}, h = {h}, m = {m}" + (", residuals of about 1e-5" if near_fit else "")
        out.append((label, {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "X": X, "Y": Y}))
    return out


def _net_reference(inp):
    loss = _net_loss(tensor(inp["X"]), tensor(inp["Y"]))
    return tuple(_loss_grads(loss, inp["W1"], inp["b1"], inp["W2"], inp["b2"]))


def _saved(case):
    """What a layer's backward receives: inputs, saved activations, W2 and the residual; no W1, b1, b2, Y."""
    X, W1, b1, W2, b2, Y = (np.asarray(case[k], dtype=np.float64) for k in ("X", "W1", "b1", "W2", "b2", "Y"))
    H = np.tanh(X @ W1.T + b1)
    return {"X": X, "H": H, "W2": W2, "R": H @ W2.T + b2 - Y}


def _backward_cases(square):
    return lambda rng: [(label, _saved(case)) for label, case in _net_cases(rng, square=square)]


def _backward_reference(inp):
    """torch's autograd through a network rebuilt from the saved quantities alone: leaves W1, b1
    (any value: only how Z depends on them matters) enter Z with the value artanh(H), and leaves
    W2, b2 give the output the value of the residual R; the loss 1/(2B) ||R||^2 then has the
    network's gradients."""
    torch = lazy_torch()
    X, H, W2, R = (tensor(inp[k]) for k in ("X", "H", "W2", "R"))
    W1, b1 = tensor(np.zeros((H.shape[1], X.shape[1])), grad=True), tensor(np.zeros(H.shape[1]), grad=True)
    W2v, b2v = tensor(inp["W2"], grad=True), tensor(np.zeros(W2.shape[0]), grad=True)
    linear = X @ W1.T + b1
    Z = torch.atanh(H) + linear - linear.detach()
    out = torch.tanh(Z) @ W2v.T + b2v + (R - H @ W2.T)
    loss = 0.5 * (out ** 2).sum() / X.shape[0]
    return tuple(to_numpy(g) for g in torch.autograd.grad(loss, (W1, b1, W2v, b2v)))


def _by_hand(inp, dtanh=lambda H: 1 - H ** 2, scale=None, batch_bias=False):
    X, H, W2, R = (np.asarray(inp[k], dtype=np.float64) for k in ("X", "H", "W2", "R"))
    B = X.shape[0]
    s = 1.0 / B if scale is None else scale(inp)
    delta = (R @ W2) * dtanh(H)
    db1 = s * delta if batch_bias else s * delta.sum(axis=0)
    return (s * delta.T @ X, db1, s * R.T @ H, s * R.sum(axis=0))


_BACKWARD_MISTAKES = (
    Mistake(lambda i: _by_hand(i, dtanh=lambda H: H * (1 - H)),
            "H (1 - H) is the sigmoid's derivative; for tanh it is 1 - H^2."),
    Mistake(lambda i: _by_hand(i, dtanh=lambda H: np.ones_like(H)),
            "the derivative of tanh is missing: the hidden layer's local Jacobian is diag(1 - H^2)."),
    Mistake(lambda i: _by_hand(i, scale=lambda i: 1.0),
            "the loss is 1/(2B) times the sum of squares: every gradient carries a factor 1/B."),
    Mistake(lambda i: _by_hand(i, scale=lambda i: 1.0 / (i["X"].shape[0] * i["R"].shape[1])),
            "the loss averages over the batch only (1/B), not over the outputs too."),
)


# ----------------------------------------------------------------------------- bindings, by check id

REGISTRY.add("mse_weight_grad.values", cases=_mse_cases, reference=_mse_reference, mistakes=_MSE_MISTAKES)
REGISTRY.add("mse_weight_grad.float64", cases=lambda rng: _mse_cases(rng, near_fit=True),
             reference=_mse_reference, mistakes=_MSE_MISTAKES)
REGISTRY.add("gd_with_autograd.trajectory", cases=_gd_cases, reference=_gd_run, mistakes=_GD_MISTAKES)
REGISTRY.add("running_gradients.equal_chunks", cases=lambda rng: _chunk_cases(rng, True),
             reference=_running_reference, mistakes=_RUNNING_MISTAKES)
REGISTRY.add("running_gradients.unequal_chunks", cases=lambda rng: _chunk_cases(rng, False),
             reference=_running_reference, mistakes=_RUNNING_MISTAKES)
REGISTRY.add("vjp.values", cases=lambda rng: [c for s in ("wide", "tall") for c in _function_cases(s, "u")(rng)],
             reference=lambda i: i["u"] @ jacobian(i), mistakes=(
    Mistake(lambda i: jacobian(i).sum(axis=0), "u is ignored: this is the gradient of sum(f(x)), the VJP with"
                                               " a vector of ones."),
    Mistake(lambda i: -(i["u"] @ jacobian(i)), "the sign is flipped."),
))
for _shape in ("wide", "tall", "square"):
    REGISTRY.add(f"jacobian_from_vjps.{_shape}", cases=_function_cases(_shape), reference=jacobian,
                 mistakes=_VJP_JAC_MISTAKES)
REGISTRY.add("jvp.values", cases=lambda rng: [c for s in ("wide", "tall") for c in _function_cases(s, "v")(rng)],
             reference=lambda i: jacobian(i) @ i["v"], mistakes=(
    Mistake(lambda i: jacobian(i).sum(axis=1), "v is ignored: this is J times a vector of ones."),
    Mistake(lambda i: student.make_function(i["f"], lazy_torch())(tensor(i["x"])).numpy(),
            "this is f(x), the primal output; the JVP is the tangent of the output."),
))
for _shape in ("wide", "tall"):
    REGISTRY.add(f"jacobian_from_jvps.{_shape}", cases=_function_cases(_shape), reference=jacobian, mistakes=(
        Mistake(lambda i: jacobian(i).T, "the JVP with e_j is column j of J, not row j."),
    ))
REGISTRY.add("jacobian_cost.values", cases=_cost_cases, reference=_cost_reference, mistakes=_COST_MISTAKES,
             grader_judge=student.cost_judge)
for _id, _square in (("mlp_backward.values", False), ("mlp_backward.square", True)):
    REGISTRY.add(_id, cases=_backward_cases(_square), reference=_backward_reference, mistakes=_BACKWARD_MISTAKES)
REGISTRY.add("mlp_grads_autograd.values", cases=_net_cases, reference=_net_reference)
REGISTRY.add("mlp_grads_autograd.float64", cases=lambda rng: _net_cases(rng, near_fit=True),
             reference=_net_reference)
REGISTRY.complete()
