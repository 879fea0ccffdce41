"""Grader half of the checks for the jacobians assignment (seeds 000, 001, 003, 004).

The student half (:mod:`dlgrade.hw.jacobians`) says how each check calls the
student's code; this module completes every check with its case generator, its
reference and its models of classic mistakes. It is never shipped to students.

Every reference is computed by automatic differentiation in float64: HIPS
``autograd`` (``jacobian`` / ``grad``) and ``torch.autograd``. Where both are
cheap they are both computed and must agree; a disagreement is a grader error,
which fails the case closed rather than guessing.

Case design: each function has a ``.values`` check whose shapes are all
different from each other, so a transposed or permuted answer fails on its
shape, and (where a transpose is a classic mistake) a ``.square`` check whose
equal sizes let the wrong answer broadcast, so only the values catch it.
"""
from __future__ import annotations

import numpy as np

from dlgrade.hw import jacobians as student

from ..checks import Mistake, Registry
from . import DEFAULT_FORBIDDEN
from ._torchref import tensor as _t
from ._torchref import to_numpy as _np

REGISTRY = Registry(student.SPECS)
# numerical differentiation would dodge the derivation as surely as autodiff
FORBIDDEN_IN_SOLUTIONS = set(DEFAULT_FORBIDDEN) | {
    "scipy.optimize", "scipy.differentiate", "scipy.misc", "numdifftools",
}

AGREE_RTOL, AGREE_ATOL = 1e-9, 1e-12


# --------------------------------------------------------------------------- references

def _agree(first, second, what):
    """Both autodiff engines must give the same answer; the grader trusts neither alone."""
    if isinstance(first, (list, tuple)):
        if len(first) != len(second):
            raise RuntimeError(f"autograd and torch disagree on the structure of {what}")
        return type(first)(_agree(a, b, what) for a, b in zip(first, second))
    a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    if a.shape != b.shape or not np.allclose(a, b, rtol=AGREE_RTOL, atol=AGREE_ATOL):
        raise RuntimeError(f"autograd and torch disagree on {what}")
    return a


def _ag_jacobian(f, x):
    from autograd import jacobian
    return np.asarray(jacobian(f)(np.asarray(x, dtype=np.float64)), dtype=np.float64)


def _torch_jacobian(f, x):
    from torch.autograd.functional import jacobian
    return _np(jacobian(f, _t(x)))


def _torch_grads(loss_fn, arrays, dout=1.0):
    """Gradients of ``dout * loss_fn(*tensors)`` with respect to every array."""
    import torch
    leaves = [_t(a).clone().requires_grad_(True) for a in arrays]
    loss = loss_fn(*leaves)
    grads = torch.autograd.grad(loss, leaves, grad_outputs=_t(dout))
    return [_np(g) for g in grads]


def _ag_grads(loss_fn, arrays, dout=1.0):
    from autograd import grad
    out = []
    for i in range(len(arrays)):
        def partial(v, i=i):
            args = list(arrays)
            args[i] = v
            return dout * loss_fn(*args)
        out.append(np.asarray(grad(partial)(np.asarray(arrays[i], dtype=np.float64)), dtype=np.float64))
    return out


# --- linear regression with multiple outputs (seed 000)

def _ref_jac_mse_wrt_pred(inp):
    import autograd.numpy as anp
    import torch
    Y = inp["Y"]
    a = _ag_jacobian(lambda Yh: anp.mean((Yh - Y) ** 2), inp["Y_hat"])
    b = _torch_jacobian(lambda Yh: torch.mean((Yh - _t(Y)) ** 2), inp["Y_hat"])
    return _agree(a, b, "dMSE/dY_hat")


def _linear_ref(inp, wrt):
    import autograd.numpy as anp
    X, W, b = inp["X"], inp["W"], inp["b"]
    ag = {"b": lambda v: anp.dot(X, W) + v, "W": lambda v: anp.dot(X, v) + b, "X": lambda v: anp.dot(v, W) + b}
    th = {"b": lambda v: _t(X) @ _t(W) + v, "W": lambda v: _t(X) @ v + _t(b), "X": lambda v: v @ _t(W) + _t(b)}
    x0 = {"b": b, "W": W, "X": X}[wrt]
    return _agree(_ag_jacobian(ag[wrt], x0), _torch_jacobian(th[wrt], x0), f"dY_hat/d{wrt}")


def _ref_chain_contract(inp):
    """The chain rule as a vector-Jacobian product of the linear map P -> J . P."""
    import autograd.numpy as anp
    import torch
    G, J = np.asarray(inp["dL_dY"], dtype=np.float64), inp["dY_dP"]
    p_shape = J.shape[G.ndim:]
    p0 = np.zeros(p_shape)
    _, vjp = torch.autograd.functional.vjp(lambda P: torch.tensordot(_t(J), P, dims=len(p_shape)),
                                           _t(p0), _t(G))
    from autograd import grad
    ag = grad(lambda P: anp.sum(G * anp.tensordot(J, P, axes=len(p_shape))))(p0)
    return _agree(np.asarray(ag), _np(vjp), "dL/dP")


def _mse_linear(inp, wrt):
    import autograd.numpy as anp
    import torch
    X, Y, W, b = inp["X"], inp["Y"], inp["W"], inp["b"]
    idx = {"W": 0, "b": 1}[wrt]
    ag = _ag_grads(lambda W_, b_: anp.mean((anp.dot(X, W_) + b_ - Y) ** 2), [W, b])[idx]
    th = _torch_grads(lambda W_, b_: torch.mean((_t(X) @ W_ + b_ - _t(Y)) ** 2), [W, b])[idx]
    return _agree(ag, th, f"dMSE/d{wrt}")


# --- losses with an upstream gradient (seed 003)

def _ref_pair_loss(inp, kind):
    import autograd.numpy as anp
    import torch.nn.functional as F
    p, t, dout = inp["pred"], inp["target"], inp["dout"]
    if kind == "mse":
        ag_loss, th_loss = (lambda a, b: anp.sum((a - b) ** 2)), (lambda a, b: F.mse_loss(a, b, reduction="sum"))
    else:
        ag_loss, th_loss = (lambda a, b: anp.sum(anp.abs(a - b))), (lambda a, b: F.l1_loss(a, b, reduction="sum"))
    return _agree(tuple(_ag_grads(ag_loss, [p, t], dout)), tuple(_torch_grads(th_loss, [p, t], dout)),
                  f"the {kind} gradients")


def _ref_bce(inp):
    import autograd.numpy as anp
    import torch.nn.functional as F
    p, t, dout = inp["pred"], inp["target"], inp["dout"]
    ag = _ag_grads(lambda a: -anp.sum(t * anp.log(a) + (1 - t) * anp.log(1 - a)), [p], dout)[0]
    th = _torch_grads(lambda a: F.binary_cross_entropy(a, _t(t), reduction="sum"), [p], dout)[0]
    return _agree(ag, th, "dBCE/dpred")


def _ref_cross_entropy(inp):
    import autograd.numpy as anp
    import torch
    p, y, dout = inp["probs"], inp["onehot"], inp["dout"]
    ag = _ag_grads(lambda a: -anp.sum(y * anp.log(a)), [p], dout)[0]
    th = _torch_grads(lambda a: -torch.sum(_t(y) * torch.log(a)), [p], dout)[0]
    return _agree(ag, th, "dCE/dprobs")


def _ag_logsumexp(v, keepdims=False):
    """Stable log-sum-exp over the last axis in autograd.numpy (autograd.scipy needs scipy)."""
    import autograd.numpy as anp
    top = anp.max(v, axis=-1, keepdims=True)
    out = top + anp.log(anp.sum(anp.exp(v - top), axis=-1, keepdims=True))
    return out if keepdims else out[..., 0]


def _ref_softmax_ce(inp):
    import autograd.numpy as anp
    import torch
    import torch.nn.functional as F
    logsumexp = _ag_logsumexp
    logits, labels = inp["logits"], np.asarray(inp["labels"], dtype=np.int64)
    rows = np.arange(len(labels))

    def ag_loss(v):
        return anp.mean(logsumexp(v) - v[rows, labels])

    ag = _ag_grads(ag_loss, [logits])[0]
    th = _torch_grads(lambda v: F.cross_entropy(v, torch.tensor(np.array(labels)), reduction="mean"), [logits])[0]
    return _agree(ag, th, "dCE/dlogits")


# --- batched activation Jacobians (seed 004)

def _batched(full):
    """(B, D, B, D) Jacobian of a row-wise map -> the per-sample blocks (B, D, D)."""
    B = full.shape[0]
    blocks = full[np.arange(B), :, np.arange(B), :]
    off = full.copy()
    off[np.arange(B), :, np.arange(B), :] = 0.0
    if np.any(off != 0.0):
        raise RuntimeError("the activation is not row-wise: samples interact")
    return blocks


def _ref_sigmoid_jacobian(inp):
    import autograd.numpy as anp
    import torch
    H = inp["H"]
    a = _ag_jacobian(lambda h: 1.0 / (1.0 + anp.exp(-h)), H)
    b = _torch_jacobian(torch.sigmoid, H)
    return _batched(_agree(a, b, "the sigmoid Jacobian"))


def _ref_softmax_jacobian(inp):
    import autograd.numpy as anp
    import torch
    V = inp["V"]
    a = _ag_jacobian(lambda v: anp.exp(v - _ag_logsumexp(v, keepdims=True)), V)
    b = _torch_jacobian(lambda v: torch.softmax(v, dim=1), V)
    return _batched(_agree(a, b, "the softmax Jacobian"))


# --- matrix-vector models (seeds 001, 004)

def _ref_grad_wx_wrt_w(inp):
    import autograd.numpy as anp
    x = inp["x"]
    return _agree(_ag_jacobian(lambda W: anp.dot(W, x), inp["W"]),
                  _torch_jacobian(lambda W: W @ _t(x), inp["W"]), "d(Wx)/dW")


def _ref_grad_mse_wrt_w(inp):
    import autograd.numpy as anp
    import torch
    x, y = inp["x"], inp["y"]
    ag = _ag_grads(lambda W: anp.mean((anp.dot(W, x) - y) ** 2), [inp["W"]])[0]
    th = _torch_grads(lambda W: torch.mean((W @ _t(x) - _t(y)) ** 2), [inp["W"]])[0]
    return _agree(ag, th, "dMSE/dW")


def _ref_two_layer(inp):
    import autograd.numpy as anp
    import torch
    x, y = inp["x"], inp["y"]
    ag = _ag_grads(lambda W1, W2: anp.mean((anp.dot(W2, anp.dot(W1, x)) - y) ** 2), [inp["W1"], inp["W2"]])
    th = _torch_grads(lambda W1, W2: torch.mean((W2 @ (W1 @ _t(x)) - _t(y)) ** 2), [inp["W1"], inp["W2"]])
    return _agree(tuple(ag), tuple(th), "(dW1, dW2)")


def _ref_deep_linear(inp):
    import autograd.numpy as anp
    import torch
    from autograd import grad
    Ws, x, y = inp["Ws"], inp["x"], inp["y"]

    def ag_loss(mats):
        h = x
        for W in mats:
            h = anp.dot(W, h)
        return 0.5 * anp.sum((y - h) ** 2)

    def th_loss(*mats):
        h = _t(x)
        for W in mats:
            h = W @ h
        return 0.5 * torch.sum((_t(y) - h) ** 2)

    ag = [np.asarray(g, dtype=np.float64) for g in grad(ag_loss)(list(Ws))]
    return _agree(ag, _torch_grads(th_loss, list(Ws)), "the deep linear gradients")


# --------------------------------------------------------------------------- cases

def _linear_case(rng, m, n, n_o, near_fit=False):
    X = rng.standard_normal((m, n))
    W = rng.standard_normal((n, n_o))
    b = rng.standard_normal(n_o)
    if near_fit:
        # a nearly fitted model: the residual is small, so float32 round-off shows
        Y = X @ W + b + 1e-2 * rng.standard_normal((m, n_o))
    else:
        Y = 2.0 * rng.standard_normal((m, n_o))
    return {"X": X, "W": W, "b": b, "Y": Y}


def _linear_group(shapes, near_fit=False):
    def cases(rng):
        return [(f"m={m}, n={n}, n_o={k}" + (", near a fit" if near_fit else ""),
                 _linear_case(rng, m, n, k, near_fit)) for m, n, k in shapes]
    return cases


def _random_shapes_group(count, near_fit=False):
    """Like _linear_group with (m, n, n_o) drawn too: for answers that depend on the shapes only."""
    def cases(rng):
        shapes = [(int(rng.integers(2, 7)), int(rng.integers(2, 5)), int(rng.integers(2, 7))) for _ in range(count)]
        return _linear_group(shapes, near_fit)(rng)
    return cases


def _pred_cases(rng):
    out = []
    for m, k in [(4, 3), (2, 5), (3, 2)]:
        out.append((f"Y_hat {m}x{k}", {"Y_hat": rng.standard_normal((m, k)), "Y": rng.standard_normal((m, k))}))
    return out


def _chain_cases(shapes):
    def cases(rng):
        out = []
        for g_shape, p_shape in shapes:
            G = np.asarray(rng.standard_normal(g_shape))
            J = rng.standard_normal(tuple(g_shape) + tuple(p_shape))
            out.append((f"dL_dY {tuple(g_shape)}, dY_dP {J.shape}", {"dL_dY": G, "dY_dP": J}))
        return out
    return cases


def _pair_cases(with_ties=False):
    def cases(rng):
        out = []
        for shape in [(3, 4), (2, 3, 4), (5,)]:
            pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
            if with_ties:
                mask = rng.random(shape) < 0.4
                mask.flat[0] = True
                target = np.where(mask, pred, target)
            dout = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 3.0))
            label = f"shape {shape}, dout={dout:.3g}" + (", some pred == target" if with_ties else "")
            out.append((label, {"pred": pred, "target": target, "dout": dout}))
        return out
    return cases


def _bce_cases(rng):
    out = []
    for n, soft in [(6, False), (4, False), (5, True)]:
        pred = rng.uniform(0.03, 0.97, n)
        target = rng.uniform(0, 1, n) if soft else rng.integers(0, 2, n).astype(np.float64)
        dout = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 3.0))
        out.append((f"{n} samples, {'soft' if soft else '0/1'} targets, dout={dout:.3g}",
                    {"pred": pred, "target": target, "dout": dout}))
    return out


def _softmax_rows(rng, B, K, scale=1.5):
    v = scale * rng.standard_normal((B, K))
    e = np.exp(v - v.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _ce_cases(rng):
    out = []
    for B, K in [(4, 3), (3, 5), (6, 2)]:
        probs = _softmax_rows(rng, B, K)  # strictly positive rows summing to 1
        onehot = np.eye(K)[rng.integers(0, K, B)]
        dout = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 3.0))
        out.append((f"B={B}, K={K}, dout={dout:.3g}", {"probs": probs, "onehot": onehot, "dout": dout}))
    return out


def _softmax_ce_moderate(rng):
    out = []
    for B, K in [(4, 3), (3, 5), (5, 4)]:
        out.append((f"B={B}, K={K}, moderate logits",
                    {"logits": 2.0 * rng.standard_normal((B, K)), "labels": rng.integers(0, K, B)}))
    return out


def _softmax_ce_extreme(rng):
    B, K = 4, 5
    uniform = 1e3 * rng.uniform(-1.0, 1.0, (B, K))
    labels = rng.integers(0, K, B)
    near = rng.standard_normal((3, 4))
    near[0] = [1e3, 1e3 - 0.5, -1e3, 0.0]        # two large logits close together
    near[1] = [-1e3, -1e3 + 1.0, -1e3 + 2.0, -1e3]  # all very negative
    near[2] = [1e3, -1e3, 1e3, 1e3]                  # ties at the top
    return [(f"B={B}, K={K}, logits up to +-1e3", {"logits": uniform, "labels": labels}),
            ("B=3, K=4, logits near +-1e3 with near-ties", {"logits": near, "labels": rng.integers(0, 4, 3)})]


def _activation_cases(key, scale):
    def cases(rng):
        return [(f"{key} of shape {shape}", {key: scale * rng.standard_normal(shape)})
                for shape in [(3, 4), (4, 4), (2, 5)]]
    return cases


def _wx_cases(shapes):
    def cases(rng):
        return [(f"W {m}x{n}", {"W": rng.standard_normal((m, n)), "x": rng.standard_normal(n)})
                for m, n in shapes]
    return cases


def _mse_w_cases(rng):
    out = []
    for m, n in [(4, 3), (2, 5), (3, 3)]:
        out.append((f"W {m}x{n}", {"W": rng.standard_normal((m, n)), "x": rng.standard_normal(n),
                                   "y": rng.standard_normal(m)}))
    return out


def _two_layer_cases(shapes):
    def cases(rng):
        out = []
        for n, h, k in shapes:
            out.append((f"x in R^{n}, W1 {h}x{n}, W2 {k}x{h}",
                        {"W1": rng.standard_normal((h, n)) / np.sqrt(n), "W2": rng.standard_normal((k, h)) / np.sqrt(h),
                         "x": rng.standard_normal(n), "y": rng.standard_normal(k)}))
        return out
    return cases


def _deep_cases(width_lists):
    def cases(rng):
        out = []
        for widths in width_lists:
            Ws = [rng.standard_normal((widths[i + 1], widths[i])) / np.sqrt(widths[i])
                  for i in range(len(widths) - 1)]
            out.append((f"L={len(Ws)}, widths {widths}",
                        {"Ws": Ws, "x": rng.standard_normal(widths[0]), "y": rng.standard_normal(widths[-1])}))
        return out
    return cases


# --------------------------------------------------------------------------- mistakes

def _sigmoid(h):
    return 1.0 / (1.0 + np.exp(-h))


def _softmax(v):
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_minus_onehot(inp):
    q = _softmax(inp["logits"])
    q[np.arange(len(inp["labels"])), inp["labels"]] -= 1.0
    return q


def _naive_softmax_ce(inp):
    """exp of the raw logits: inf for logits above ~709, then inf/inf = NaN."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(inp["logits"])
        q = e / e.sum(axis=1, keepdims=True)
    q[np.arange(len(inp["labels"])), inp["labels"]] -= 1.0
    return q / len(inp["labels"])


def _deep_forward_order(inp):
    """Walking the layers front to back when the backward pass needs back to front."""
    Ws, x, y = inp["Ws"], inp["x"], inp["y"]
    acts = [x]
    for W in Ws:
        acts.append(W @ acts[-1])
    g, out = acts[-1] - y, []
    for i in range(len(Ws)):
        out.append(np.outer(g, acts[i]))
        g = Ws[i].T @ g
    return out



def _yhat(x):
    return x["X"] @ x["W"] + x["b"]


_WEIGHT_MISTAKES = [Mistake(lambda x: np.einsum("ps,qr->pqrs", x["X"], np.eye(x["W"].shape[1])),
                            "einsum indices swapped: the delta pairs the output column q with the"
                            " weight column s, and x_pr carries the weight row r.")]
_INPUT_MISTAKES = [Mistake(lambda x: np.einsum("pr,qs->pqrs", np.eye(len(x["X"])), x["W"]),
                           "W used where its transpose belongs: dy_pq/dx_rs = delta_pr w_sq.")]
_CHAIN_MISTAKES = [
    Mistake(lambda x: np.tensordot(x["dY_dP"], x["dL_dY"], axes=np.ndim(x["dL_dY"])),
            "contracted the Jacobian's input (trailing) axes; the chain rule sums over its output (leading) axes."),
]
_WGRAD_MISTAKES = [
    Mistake(lambda x: 2 * (_yhat(x) - x["Y"]).T @ x["X"] / x["Y"].size, "transposed: dMSE/dW = 2/(m n_o) X^T (Y_hat - Y)."),
    Mistake(lambda x: 2 * x["X"].T @ (_yhat(x) - x["Y"]) / len(x["X"]), "divided by m instead of m*n_o."),
]
_SCE_MISTAKES = [
    Mistake(_softmax_minus_onehot, "no 1/B: the loss is the mean over the batch."),
    Mistake(lambda x: -_softmax_minus_onehot(x) / len(x["labels"]), "sign flipped: it is softmax - onehot."),
    Mistake(_naive_softmax_ce, "softmax of the raw logits: exp overflows to inf for large logits;"
                               " subtract each row's maximum first (the result does not change)."),
]
_WX_MISTAKES = [Mistake(lambda x: np.einsum("ij,k->ikj", np.eye(len(x["W"])), x["x"]),
                        "axes mixed up: dy_i/dW_kl = delta_ik x_l, so the x index goes last."),
                Mistake(lambda x: np.outer(np.ones(len(x["W"])), x["x"]),
                        "the output axis was summed away: 1 x^T is the gradient of the scalar 1^T W x,"
                        " not the Jacobian of W x.")]
_TWO_MISTAKES = [Mistake(lambda x: (2 / len(x["y"]) * np.outer(x["W2"] @ (x["W2"] @ x["W1"] @ x["x"] - x["y"]), x["x"]),
                                    2 / len(x["y"]) * np.outer(x["W2"] @ x["W1"] @ x["x"] - x["y"], x["W1"] @ x["x"])),
                         "W2 used where W2^T belongs when the error flows back to the hidden layer.")]
_DEEP_MISTAKES = [Mistake(_deep_forward_order, "the layers are walked in the wrong order: the error"
                                               " starts at the output and flows back to W_1.")]


# --------------------------------------------------------------------------- checks
# One entry per student-side spec, by the same id and in the same order.

# --- linear regression with multiple outputs (seed 000)
REGISTRY.add("jac_mse_wrt_pred.values", cases=_pred_cases, reference=_ref_jac_mse_wrt_pred, mistakes=(
    Mistake(lambda x: 2 * (x["Y_hat"] - x["Y"]), "the 1/(m n_o) of the mean is missing."),
    Mistake(lambda x: 2 * (x["Y_hat"] - x["Y"]) / len(x["Y"]),
            "divided by m only; the mean runs over all m*n_o entries."),
    Mistake(lambda x: (x["Y_hat"] - x["Y"]) / x["Y"].size, "the factor 2 from the square is missing."),
    Mistake(lambda x: 2 * (x["Y"] - x["Y_hat"]) / x["Y"].size, "sign flipped: differentiate (y_hat - y)^2."),
))
REGISTRY.add("jac_linear_wrt_bias.values", cases=_random_shapes_group(3),
             reference=lambda x: _linear_ref(x, "b"), mistakes=(
    Mistake(lambda x: np.ones((len(x["X"]), len(x["b"]), len(x["b"]))),
            "every entry set to 1: output q depends on b_r only when q == r."),
))
REGISTRY.add("jac_linear_wrt_weight.values", cases=_linear_group([(4, 3, 2), (3, 2, 5), (2, 4, 3)]),
             reference=lambda x: _linear_ref(x, "W"), mistakes=_WEIGHT_MISTAKES)
REGISTRY.add("jac_linear_wrt_weight.square", cases=_linear_group([(3, 3, 3), (4, 2, 2)]),
             reference=lambda x: _linear_ref(x, "W"), mistakes=_WEIGHT_MISTAKES)
REGISTRY.add("jac_linear_wrt_input.values", cases=_linear_group([(4, 3, 2), (3, 2, 5), (2, 4, 3)]),
             reference=lambda x: _linear_ref(x, "X"), mistakes=_INPUT_MISTAKES)
REGISTRY.add("jac_linear_wrt_input.square", cases=_linear_group([(3, 3, 3), (2, 4, 4)]),
             reference=lambda x: _linear_ref(x, "X"), mistakes=_INPUT_MISTAKES)
REGISTRY.add("chain_contract.values",
             cases=_chain_cases([((3,), (4,)), ((2, 3), (4, 2)), ((2, 3, 4), (5,)), ((), (3,))]),
             reference=_ref_chain_contract, mistakes=_CHAIN_MISTAKES)
REGISTRY.add("chain_contract.square", cases=_chain_cases([((3, 3), (3, 3)), ((2, 2), (2,))]),
             reference=_ref_chain_contract, mistakes=_CHAIN_MISTAKES)
REGISTRY.add("grad_mse_wrt_bias.values", cases=_linear_group([(5, 3, 2), (4, 2, 3), (6, 4, 4)]),
             reference=lambda x: _mse_linear(x, "b"), mistakes=(
    Mistake(lambda x: 2 * (_yhat(x) - x["Y"]).sum(0) / len(x["X"]),
            "divided by m; the mean is over all m*n_o entries."),
    Mistake(lambda x: 2 * (_yhat(x) - x["Y"]).mean(1), "summed over the wrong axis (outputs instead of samples)."),
))
REGISTRY.add("grad_mse_wrt_weight.values", cases=_linear_group([(6, 3, 2), (5, 2, 4)], near_fit=True),
             reference=lambda x: _mse_linear(x, "W"), mistakes=_WGRAD_MISTAKES)
REGISTRY.add("grad_mse_wrt_weight.square", cases=_linear_group([(5, 3, 3), (4, 2, 2)], near_fit=True),
             reference=lambda x: _mse_linear(x, "W"), mistakes=_WGRAD_MISTAKES)

# --- losses with an upstream gradient (seed 003)
REGISTRY.add("mse_backward.values", cases=_pair_cases(), reference=lambda x: _ref_pair_loss(x, "mse"), mistakes=(
    Mistake(lambda x: (2 * x["dout"] * (x["pred"] - x["target"]),) * 2,
            "dtarget has the sign of dpred; the target enters as -t."),
    Mistake(lambda x: (2 * (x["pred"] - x["target"]), 2 * (x["target"] - x["pred"])),
            "the upstream gradient dout is not multiplied in."),
))
REGISTRY.add("mae_backward.values", cases=_pair_cases(), reference=lambda x: _ref_pair_loss(x, "mae"), mistakes=(
    Mistake(lambda x: (x["dout"] * np.abs(x["pred"] - x["target"]), x["dout"] * np.abs(x["target"] - x["pred"])),
            "abs where sign belongs: d|u|/du = sign(u)."),
))
REGISTRY.add("mae_backward.ties", cases=_pair_cases(with_ties=True), reference=lambda x: _ref_pair_loss(x, "mae"),
             mistakes=(
    Mistake(lambda x: (x["dout"] * np.where(x["pred"] > x["target"], 1.0, -1.0),
                       x["dout"] * np.where(x["pred"] > x["target"], -1.0, 1.0)),
            "at pred == target the convention (torch, autograd, np.sign) is 0, not +-1."),
))
REGISTRY.add("bce_backward.values", cases=_bce_cases, reference=_ref_bce, mistakes=(
    Mistake(lambda x: x["dout"] * (x["pred"] - x["target"]),
            "the denominator p(1 - p) is missing (that shortcut holds only after a sigmoid)."),
))
REGISTRY.add("cross_entropy_backward.values", cases=_ce_cases, reference=_ref_cross_entropy, mistakes=(
    Mistake(lambda x: x["dout"] * x["onehot"] / x["probs"], "sign flipped: the loss is -sum y log p."),
    Mistake(lambda x: -x["onehot"] / x["probs"], "the upstream gradient dout is not multiplied in."),
))
REGISTRY.add("softmax_cross_entropy_backward.moderate", cases=_softmax_ce_moderate, reference=_ref_softmax_ce,
             mistakes=_SCE_MISTAKES)
REGISTRY.add("softmax_cross_entropy_backward.extreme", cases=_softmax_ce_extreme, reference=_ref_softmax_ce,
             mistakes=_SCE_MISTAKES)

# --- batched activation Jacobians (seed 004)
REGISTRY.add("sigmoid_jacobian.values", cases=_activation_cases("H", 2.0), reference=_ref_sigmoid_jacobian,
             mistakes=(
    Mistake(lambda x: np.repeat((_sigmoid(x["H"]) * (1 - _sigmoid(x["H"])))[:, None, :], x["H"].shape[1], 1),
            "s(1 - s) spread over every column: the sigmoid is element-wise, so the Jacobian is diagonal."),
    Mistake(lambda x: np.einsum("bi,ij->bij", _sigmoid(x["H"]), np.eye(x["H"].shape[1])),
            "used s instead of s(1 - s) on the diagonal."),
))
REGISTRY.add("softmax_jacobian.values", cases=_activation_cases("V", 2.0), reference=_ref_softmax_jacobian,
             mistakes=(
    Mistake(lambda x: np.einsum("bi,ij->bij", _softmax(x["V"]), np.eye(x["V"].shape[1])),
            "only diag(q): every output also depends on every other logit through the normaliser (- q q^T)."),
    Mistake(lambda x: -np.einsum("bi,bj->bij", _softmax(x["V"]), _softmax(x["V"])), "the diag(q) term is missing."),
))

# --- matrix-vector models (seeds 001, 004)
REGISTRY.add("grad_wx_wrt_w.values", cases=_wx_cases([(3, 2), (2, 4), (4, 3)]), reference=_ref_grad_wx_wrt_w,
             mistakes=_WX_MISTAKES)
REGISTRY.add("grad_wx_wrt_w.square", cases=_wx_cases([(3, 3), (2, 2)]), reference=_ref_grad_wx_wrt_w,
             mistakes=_WX_MISTAKES)
REGISTRY.add("grad_mse_wrt_w.values", cases=_mse_w_cases, reference=_ref_grad_mse_wrt_w, mistakes=(
    Mistake(lambda x: np.outer(x["W"] @ x["x"] - x["y"], x["x"]) / len(x["y"]), "the factor 2 is missing."),
    Mistake(lambda x: 2 * np.outer(x["W"] @ x["x"] - x["y"], x["x"]), "the 1/m of the mean is missing."),
))
REGISTRY.add("two_layer_linear_grads.values", cases=_two_layer_cases([(4, 3, 2), (2, 5, 3)]),
             reference=_ref_two_layer, mistakes=_TWO_MISTAKES)
REGISTRY.add("two_layer_linear_grads.square", cases=_two_layer_cases([(3, 3, 3), (2, 2, 2)]),
             reference=_ref_two_layer, mistakes=_TWO_MISTAKES)
REGISTRY.add("deep_linear_grads.values", cases=_deep_cases([[3, 2], [4, 3, 2], [2, 5, 3, 4]]),
             reference=_ref_deep_linear, mistakes=_DEEP_MISTAKES)
REGISTRY.add("deep_linear_grads.square", cases=_deep_cases([[3, 3, 3, 3], [2, 2, 2, 2, 2]]),
             reference=_ref_deep_linear, mistakes=_DEEP_MISTAKES)

REGISTRY.complete()
