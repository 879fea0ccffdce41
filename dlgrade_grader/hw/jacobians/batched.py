"""Part 5, batched Jacobians and per-sample losses (seed 004): dense_sigmoid_batched_jacobian, chain_batched,
squared_error_batched_jacobian, cross_entropy_batched_jacobian.

Each reference differentiates the *whole batch* with autograd and torch and keeps the diagonal blocks,
after checking that the blocks between different samples are zero: the batched shape (B, out, in) is then
a consequence of the maths, never an assumption of the grader.
"""
from __future__ import annotations

import numpy as np

from ...checks import Mistake, Registry
from .._torchref import tensor
from .activations import _per_sample_blocks
from .autodiff import agreed, autograd_jacobian, softmax, torch_jacobian


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# --------------------------------------------------------------------------- references

def _ref_dense_sigmoid(inp):
    import autograd.numpy as anp
    import torch
    W, b = inp["W"], inp["b"]
    a = autograd_jacobian(lambda X: 1.0 / (1.0 + anp.exp(-(anp.dot(X, W) + b))), inp["X"])
    t = torch_jacobian(lambda X: torch.sigmoid(X @ tensor(W) + tensor(b)), inp["X"])
    return _per_sample_blocks(agreed(a, t, "the dense-layer Jacobian"))


def _ref_chain_batched(inp):
    """Per sample, the Jacobian of u -> J_outer[b] (J_inner[b] . u): the chain rule done by autodiff,
    with each batched Jacobian used only as the linear map it stands for."""
    import autograd.numpy as anp
    import torch
    outer, inner = inp["J_outer"], inp["J_inner"]
    p_axes = inner.ndim - 2
    blocks = []
    for Jo, Ji in zip(outer, inner):
        u0 = np.zeros(Ji.shape[1:])
        a = autograd_jacobian(lambda u: anp.dot(Jo, anp.tensordot(Ji, u, axes=p_axes)), u0)
        t = torch_jacobian(lambda u: tensor(Jo) @ torch.tensordot(tensor(Ji), u, dims=p_axes), u0)
        blocks.append(agreed(a, t, "a chained per-sample Jacobian"))
    return np.stack(blocks)


def _per_sample_loss_jacobian(ag_loss, th_loss, wrt, what):
    """(B,) losses of a (B, D) input -> the batched Jacobian (B, 1, D)."""
    full = agreed(autograd_jacobian(ag_loss, wrt), torch_jacobian(th_loss, wrt), what)   # (B, B, D)
    B = full.shape[0]
    off = full.copy()
    off[np.arange(B), np.arange(B)] = 0.0
    if np.any(off != 0.0):
        raise RuntimeError("the per-sample losses interact")
    return full[np.arange(B), np.arange(B)][:, None, :]


def _ref_squared_error(inp):
    import autograd.numpy as anp
    import torch
    Y = inp["Y"]
    return _per_sample_loss_jacobian(lambda Yh: 0.5 * anp.sum((Y - Yh) ** 2, axis=1),
                                     lambda Yh: 0.5 * torch.sum((tensor(Y) - Yh) ** 2, dim=1),
                                     inp["Y_hat"], "the squared-error Jacobian")


def _ref_cross_entropy(inp):
    import autograd.numpy as anp
    import torch
    P = inp["P"]
    return _per_sample_loss_jacobian(lambda Ph: -anp.sum(P * anp.log(Ph), axis=1),
                                     lambda Ph: -torch.sum(tensor(P) * torch.log(Ph), dim=1),
                                     inp["P_hat"], "the cross-entropy Jacobian")


# --------------------------------------------------------------------------- cases

def _dense_cases(shapes):
    def cases(rng):
        out = []
        for B, n, k in shapes:
            out.append((f"B={B}, n={n}, k={k}", {"X": rng.standard_normal((B, n)),
                                                  "W": rng.standard_normal((n, k)) / np.sqrt(n),
                                                  "b": 0.5 * rng.standard_normal(k)}))
        return out
    return cases


def _seed_weight_jacobian(X, D):
    """Seed 004's dy_hat/dW for y_hat_b = W x_b, one sample at a time: (B, D, D, n), entries delta_ij x_bk."""
    return np.einsum("ij,bk->bijk", np.eye(D), X)


def _chain_cases(rng):
    out = []
    # a loss row (B, 1, D) after seed 004's weight Jacobian: the case its "bij,bjjk->bjk" gets right
    B, D, n = 4, 3, 5
    X = rng.standard_normal((B, n))
    out.append((f"dl/dy_hat (B, 1, D) with seed 004's dy_hat/dW (B, D, D, n), B={B}, D={D}, n={n}",
                {"J_outer": rng.standard_normal((B, 1, D)), "J_inner": _seed_weight_jacobian(X, D)}))
    # a general inner Jacobian with a two-axis parameter whose first size equals m: "bjjk" reads its diagonal
    B, k, m, n = 3, 2, 4, 3
    out.append((f"J_outer (B, k, m) and a general J_inner (B, m, m, n), B={B}, k={k}, m={m}, n={n}",
                {"J_outer": rng.standard_normal((B, k, m)), "J_inner": rng.standard_normal((B, m, m, n))}))
    # two layers' Jacobians, one input axis each
    for B, k, m, n in [(5, 2, 3, 4), (2, 4, 2, 3)]:
        out.append((f"J_outer (B, k, m), J_inner (B, m, n), B={B}, k={k}, m={m}, n={n}",
                    {"J_outer": rng.standard_normal((B, k, m)), "J_inner": rng.standard_normal((B, m, n))}))
    return out


def _squared_error_cases(rng):
    return [(f"B={B}, D={D}", {"Y": rng.standard_normal((B, D)), "Y_hat": rng.standard_normal((B, D))})
            for B, D in [(4, 3), (2, 5), (3, 1)]]


def _cross_entropy_cases(rng):
    out = []
    for B, N, hard in [(4, 3, False), (3, 5, True), (2, 4, False)]:
        # softmax rows are strictly positive: normalised randn rows can be negative and log gives NaN
        P_hat = softmax(1.5 * rng.standard_normal((B, N)))
        P = np.eye(N)[rng.integers(0, N, B)] if hard else softmax(rng.standard_normal((B, N)))
        out.append((f"B={B}, N={N}, {'one-hot' if hard else 'soft'} targets", {"P": P, "P_hat": P_hat}))
    return out


# --------------------------------------------------------------------------- mistakes

def _dense_untransposed(x):
    s = _sigmoid(x["X"] @ x["W"] + x["b"])
    return np.einsum("bq,qs->bqs", s * (1 - s), x["W"])


def _dense_no_derivative(x):
    return np.broadcast_to(x["W"].T, (len(x["X"]),) + x["W"].T.shape).copy()


def _dense_sigma_not_derivative(x):
    return np.einsum("bq,sq->bqs", _sigmoid(x["X"] @ x["W"] + x["b"]), x["W"])


def _seed_diagonal_contraction(x):
    return np.einsum("bij,bjjk->bjk", x["J_outer"], x["J_inner"])


def _crossed_batches(x):
    return np.tensordot(x["J_outer"], x["J_inner"], axes=([2], [1]))


def _batch_summed(x):
    return np.einsum("bij,bj...->i...", x["J_outer"], x["J_inner"])


def _ones_outer(v):
    """Seed 004's einsum("i,bj->bij", np.ones(N), v): every per-sample row repeated N times."""
    return np.einsum("i,bj->bij", np.ones(v.shape[1]), v)


_SEED_ONES = ("an outer product with np.ones(D) (seed 004's \"i,bj->bij\") repeats the row D times; the"
              " per-sample loss is one number, so its batched Jacobian has shape (B, 1, D).")


# --------------------------------------------------------------------------- checks

def register(registry: Registry) -> None:
    registry.add("dense_sigmoid_batched_jacobian.values",
                 cases=_dense_cases([(4, 3, 2), (3, 2, 5), (2, 3, 3), (3, 4, 4)]),
                 reference=_ref_dense_sigmoid, mistakes=(
        Mistake(_dense_untransposed, "W used where its transpose belongs: d a_bq / d x_bs = s'(z_bq) w_sq,"
                                     " einsum(\"bq,sq->bqs\", s * (1 - s), W)."),
        Mistake(_dense_no_derivative, "the sigmoid's derivative is missing: each block is diag(s(1 - s)) W^T,"
                                      " not W^T."),
        Mistake(_dense_sigma_not_derivative, "s where its derivative s(1 - s) belongs."),
    ))
    registry.add("chain_batched.values", cases=_chain_cases, reference=_ref_chain_batched, mistakes=(
        Mistake(_seed_diagonal_contraction,
                "seed 004's \"bij,bjjk->bjk\" reads only the diagonal j == j of the inner Jacobian and drops the"
                " output index i; it is right only for an inner Jacobian that holds an identity. Keep every"
                " index: \"bij,bj...->bi...\"."),
        Mistake(_crossed_batches, "every sample was combined with every other sample (B twice in the result):"
                                  " the batch index must be shared, as in \"bij,bjk->bik\"."),
        Mistake(_batch_summed, "the batch index was summed away: a batched Jacobian keeps b in the result."),
    ))
    registry.add("squared_error_batched_jacobian.values", cases=_squared_error_cases, reference=_ref_squared_error,
                 mistakes=(
        Mistake(lambda x: -_ones_outer(x["Y"] - x["Y_hat"]), _SEED_ONES),
        Mistake(lambda x: (x["Y"] - x["Y_hat"])[:, None, :],
                "sign flipped: the derivative of 1/2 (y - y_hat)^2 with respect to y_hat is y_hat - y."),
        Mistake(lambda x: -np.einsum("bi,ij->bij", x["Y"] - x["Y_hat"], np.eye(x["Y"].shape[1])),
                "this (B, D, D) diagonal is the Jacobian of the element-wise 0.5 * (y - y_hat)^2 of shape (B, D);"
                " the per-sample loss sums over d, so its Jacobian is (B, 1, D)."),
    ))
    registry.add("cross_entropy_batched_jacobian.values", cases=_cross_entropy_cases, reference=_ref_cross_entropy,
                 mistakes=(
        Mistake(lambda x: -_ones_outer(x["P"] / x["P_hat"]), _SEED_ONES.replace("D", "N")),
        Mistake(lambda x: _ones_outer(x["P"] / x["P_hat"]),
                _SEED_ONES.replace("D", "N") + " The sign is lost too: the loss is -sum_i p_i log phat_i."),
        Mistake(lambda x: (x["P"] / x["P_hat"])[:, None, :],
                "sign flipped: the loss is -sum_i p_i log phat_i (seed 004 drops the minus sign)."),
        Mistake(lambda x: -(x["P"] * np.log(x["P_hat"]))[:, None, :],
                "p log phat is the loss term, not its derivative p / phat."),
    ))
