"""Student half of the checks for the jacobians assignment (seeds 000, 001, 003, 004).

This module runs in the student's kernel and may be read by anyone: it only says
how each check calls the student's code (``run``), which functions it exercises,
how answers are compared and what hint a failure shows. Case generators, the
reference Jacobians and gradients, and the models of classic mistakes live in the
grader package (``dlgrade_grader.hw.jacobians``), which is never shipped.
"""
from __future__ import annotations

import numpy as np

from ..checks import Spec, Specs, make_check, outcome
from ..compare import Mismatch, compare

SPECS = Specs("jacobians")


def _spec(id, title, run, functions, hint="", **tolerances):
    SPECS.add(Spec(id=id, title=title, run=run, functions=tuple(functions), hint=hint, **tolerances))


def _run_deep(ns, x):
    out = ns.deep_linear_grads(x["Ws"], x["x"], x["y"])
    return list(out) if isinstance(out, (list, tuple)) else out


_WGRAD_HINT = "near a fit the residual Y_hat - Y is small; compute it in float64."
_WX_HINT = "a Jacobian keeps the output axis i: entry [i, k, l] is d(Wx)_i / dW_kl."

# --- linear regression with multiple outputs (seed 000)
_spec("jac_mse_wrt_pred.values", "dMSE/dY_hat has Y_hat's shape and the 2/(m n_o) factor",
      lambda ns, x: ns.jac_mse_wrt_pred(x["Y_hat"], x["Y"]), ("jac_mse_wrt_pred",))
_spec("jac_linear_wrt_bias.values", "dY_hat/db is (m, n_o, n_o) with a Kronecker delta per row",
      lambda ns, x: ns.jac_linear_wrt_bias(x["X"], x["W"], x["b"]), ("jac_linear_wrt_bias",))
_spec("jac_linear_wrt_weight.values", "dY_hat/dW has shape (m, n_o, n, n_o) and entries x_pr delta_qs",
      lambda ns, x: ns.jac_linear_wrt_weight(x["X"], x["W"], x["b"]), ("jac_linear_wrt_weight",))
_spec("jac_linear_wrt_weight.square", "dY_hat/dW when n == n_o, where swapped axes still fit",
      lambda ns, x: ns.jac_linear_wrt_weight(x["X"], x["W"], x["b"]), ("jac_linear_wrt_weight",))
_spec("jac_linear_wrt_input.values", "dY_hat/dX has shape (m, n_o, m, n) and entries delta_pr w_sq",
      lambda ns, x: ns.jac_linear_wrt_input(x["X"], x["W"], x["b"]), ("jac_linear_wrt_input",))
_spec("jac_linear_wrt_input.square", "dY_hat/dX when n == n_o, where W and its transpose have the same shape",
      lambda ns, x: ns.jac_linear_wrt_input(x["X"], x["W"], x["b"]), ("jac_linear_wrt_input",))
_spec("chain_contract.values", "chain_contract sums dL/dY * dY/dP over every axis of Y",
      lambda ns, x: ns.chain_contract(x["dL_dY"], x["dY_dP"]), ("chain_contract",),
      hint="the result has the shape of P, i.e. dY_dP.shape[dL_dY.ndim:].")
_spec("chain_contract.square", "chain_contract when input and output axes have the same sizes",
      lambda ns, x: ns.chain_contract(x["dL_dY"], x["dY_dP"]), ("chain_contract",))
_spec("grad_mse_wrt_bias.values", "dMSE/db for the mean over all m*n_o entries, shape (n_o,)",
      lambda ns, x: ns.grad_mse_wrt_bias(x["X"], x["Y"], x["W"], x["b"]), ("grad_mse_wrt_bias",))
_spec("grad_mse_wrt_weight.values", "dMSE/dW for the mean over all m*n_o entries, shape (n, n_o), accurate near a fit",
      lambda ns, x: ns.grad_mse_wrt_weight(x["X"], x["Y"], x["W"], x["b"]), ("grad_mse_wrt_weight",),
      hint=_WGRAD_HINT)
_spec("grad_mse_wrt_weight.square", "dMSE/dW when n == n_o, where a transposed gradient still fits",
      lambda ns, x: ns.grad_mse_wrt_weight(x["X"], x["Y"], x["W"], x["b"]), ("grad_mse_wrt_weight",),
      hint=_WGRAD_HINT)

# --- losses with an upstream gradient (seed 003)
_spec("mse_backward.values", "mse_backward returns (dpred, dtarget) = (2 dout (p - t), 2 dout (t - p))",
      lambda ns, x: tuple(ns.mse_backward(x["pred"], x["target"], x["dout"])), ("mse_backward",))
_spec("mae_backward.values", "mae_backward returns (dpred, dtarget) for the summed absolute error",
      lambda ns, x: tuple(ns.mae_backward(x["pred"], x["target"], x["dout"])), ("mae_backward",))
_spec("mae_backward.ties", "mae_backward uses the subgradient 0 where pred == target",
      lambda ns, x: tuple(ns.mae_backward(x["pred"], x["target"], x["dout"])), ("mae_backward",))
_spec("bce_backward.values", "bce_backward returns dE/dpred for the summed binary cross-entropy",
      lambda ns, x: ns.bce_backward(x["pred"], x["target"], x["dout"]), ("bce_backward",))
_spec("cross_entropy_backward.values", "cross_entropy_backward returns dE/dprobs for the summed cross-entropy",
      lambda ns, x: ns.cross_entropy_backward(x["probs"], x["onehot"], x["dout"]), ("cross_entropy_backward",))
_spec("softmax_cross_entropy_backward.moderate", "dL/dlogits of the batch-mean softmax cross-entropy on moderate logits",
      lambda ns, x: ns.softmax_cross_entropy_backward(x["logits"], x["labels"]),
      ("softmax_cross_entropy_backward",))
_spec("softmax_cross_entropy_backward.extreme", "dlogits stays finite and exact for logits up to +-1e3",
      lambda ns, x: ns.softmax_cross_entropy_backward(x["logits"], x["labels"]),
      ("softmax_cross_entropy_backward",),
      hint="exp(1000) overflows; subtract each row's maximum before exponentiating.")

# --- batched activation Jacobians (seed 004)
_spec("sigmoid_jacobian.values", "sigmoid_jacobian is (B, D, D) with s(1 - s) on each diagonal",
      lambda ns, x: ns.sigmoid_jacobian(x["H"]), ("sigmoid_jacobian",))
_spec("softmax_jacobian.values", "softmax_jacobian is the (B, D, D) batched Jacobian of the row-wise softmax",
      lambda ns, x: ns.softmax_jacobian(x["V"]), ("softmax_jacobian",))

# --- matrix-vector models (seeds 001, 004)
_spec("grad_wx_wrt_w.values", "d(Wx)/dW has shape (m, m, n) and entries delta_ik x_l",
      lambda ns, x: ns.grad_wx_wrt_w(x["W"], x["x"]), ("grad_wx_wrt_w",), hint=_WX_HINT)
_spec("grad_wx_wrt_w.square", "d(Wx)/dW when W is square, where mixed-up axes still fit",
      lambda ns, x: ns.grad_wx_wrt_w(x["W"], x["x"]), ("grad_wx_wrt_w",), hint=_WX_HINT)
_spec("grad_mse_wrt_w.values", "dMSE/dW for pred = Wx has the shape (m, n) of W",
      lambda ns, x: ns.grad_mse_wrt_w(x["W"], x["x"], x["y"]), ("grad_mse_wrt_w",))
_spec("two_layer_linear_grads.values", "(dW1, dW2) for pred = W2 W1 x and the MSE",
      lambda ns, x: tuple(ns.two_layer_linear_grads(x["W1"], x["W2"], x["x"], x["y"])),
      ("two_layer_linear_grads",))
_spec("two_layer_linear_grads.square", "(dW1, dW2) when every layer has the same width",
      lambda ns, x: tuple(ns.two_layer_linear_grads(x["W1"], x["W2"], x["x"], x["y"])),
      ("two_layer_linear_grads",))
_spec("deep_linear_grads.values", "the gradient for every W_i of 1/2 ||y - W_L ... W_1 x||^2",
      _run_deep, ("deep_linear_grads",),
      hint="store the activations on the way forward, then carry the error back from the output layer.")
_spec("deep_linear_grads.square", "deep linear gradients when all widths are equal, where a wrong order still fits",
      _run_deep, ("deep_linear_grads",))

# --- a deep affine network: biases in every layer (seed 004 left it a stub)
def _run_deep_affine(ns, x):
    dWs, dbs = ns.deep_affine_grads(x["Ws"], x["bs"], x["x"], x["y"])
    return {"dW": list(dWs), "db": list(dbs)}


_spec("deep_affine_grads.values", "(dW_i, db_i) for every layer of 1/2 ||y - y_hat||^2 with biases",
      _run_deep_affine, ("deep_affine_grads",),
      hint="store the activations on the way forward; the error at a layer is also that layer's bias gradient.")
_spec("deep_affine_input_jacobian.values", "dy_hat/dx of a deep affine network, shape (n_L, n_0)",
      lambda ns, x: ns.deep_affine_input_jacobian(x["Ws"], x["bs"], x["x"]), ("deep_affine_input_jacobian",),
      hint="each layer's Jacobian with respect to its input, multiplied in the order the chain rule gives.")

# --- batched Jacobians of shape (B, out, in) (seed 004)
_spec("dense_sigmoid_batched_jacobian.values", "per-sample Jacobian da_b/dx_b of sigmoid(X W + b), shape (B, k, n)",
      lambda ns, x: ns.dense_sigmoid_batched_jacobian(x["X"], x["W"], x["b"]),
      ("dense_sigmoid_batched_jacobian",),
      hint="entry [b, q, s] is d a_bq / d x_bs; write it in index notation before choosing the einsum.")
_spec("chain_batched.values", "chain_batched composes two batched Jacobians sample by sample",
      lambda ns, x: ns.chain_batched(x["J_outer"], x["J_inner"]), ("chain_batched",),
      hint="the batch index b appears in both operands and in the result; only the middle index is summed.")
_spec("squared_error_batched_jacobian.values",
      "batched Jacobian (B, 1, D) of the per-sample loss 1/2 ||y_b - y_hat_b||^2",
      lambda ns, x: ns.squared_error_batched_jacobian(x["Y"], x["Y_hat"]), ("squared_error_batched_jacobian",),
      hint="each sample's loss is one number, so each per-sample Jacobian is a (1, D) row.")
_spec("cross_entropy_batched_jacobian.values",
      "batched Jacobian (B, 1, N) of the per-sample cross-entropy -sum_i p_bi log phat_bi",
      lambda ns, x: ns.cross_entropy_batched_jacobian(x["P"], x["P_hat"]), ("cross_entropy_batched_jacobian",),
      hint="each sample's loss is one number, so each per-sample Jacobian is a (1, N) row.")

# --- a gradient check (CS231n style): central differences and the relative error
def _rel_run(ns, x):
    floor = {"floor": x["floor"]} if "floor" in x else {}
    return outcome(ns.relative_error, x["a"], x["b"], **floor)


_spec("relative_error.values", "relative_error is max_i |a_i - b_i| / max(|a_i|, |b_i|, floor)",
      _rel_run, ("relative_error",))
_spec("relative_error.shapes", "relative_error takes numbers and arrays of any rank and refuses mismatched shapes",
      _rel_run, ("relative_error",),
      hint="compare np.shape(a) with np.shape(b) before computing anything: (n,) against (n, 1) broadcasts.")


def _ng_fn(name, m, C):
    """The scalar functions whose gradients are estimated: ``m`` is numpy here (the grader passes its
    autodiff modules); C is a constant array of the case."""
    if name == "tanh_quadratic":   # x of shape (n,), C of shape (k, n)
        return lambda x: m.sum(m.tanh(m.matmul(C, x))) + 0.5 * m.sum(x * x) * x[0]
    if name == "log_sum_exp":      # x and C of the same shape
        return lambda x: m.log(m.sum(m.exp(C * x)))
    if name == "sine":             # sum_i C_i sin(x_i)
        return lambda x: m.sum(C * m.sin(x))
    raise KeyError(name)


def _ng_run(ns, x):
    f = _ng_fn(x["f"], np, x["C"])
    point = x["x"]
    before = np.array(point, copy=True)
    step = {"h": x["h"]} if "h" in x else {}
    grad = ns.numerical_gradient(lambda v: f(np.asarray(v)), point, **step)
    return {"grad": grad, "x_unchanged": bool(np.shape(point) == before.shape and np.array_equal(point, before))}


_NG_HINT = "perturb one entry at a time by +h and -h, in a float64 copy of x, and divide by 2h."
_NG_RTOL, _NG_ATOL = 1e-7, 1e-8
# compare's generic "an approximation where an exact formula belongs" does not fit an answer that is an
# approximation by design; a near miss here means the wrong difference, the wrong step, or a moved x
_NEAR_MISS = " Hint: the answer is close but not exact"


def _ng_judge(expected, got, inputs, reveal):
    if not isinstance(got, dict) or set(got) != {"grad", "x_unchanged"}:
        return compare(expected, got, _NG_RTOL, _NG_ATOL, "", "", reveal)
    out = []
    for m in compare(expected["grad"], got["grad"], _NG_RTOL, _NG_ATOL, "the gradient", "", reveal):
        if _NEAR_MISS in m.message:
            m = Mismatch(m.where, m.message.split(_NEAR_MISS)[0] + " The error is the size of a finite-difference"
                         " error: check the difference formula, the step h, and that every entry is moved back.")
        out.append(m)
    if got["x_unchanged"] is not True:
        out.append(Mismatch("x", "numerical_gradient changed the array x it was given: move entries of a float64"
                                 " copy, or put each entry back exactly after moving it."))
    return out
_spec("numerical_gradient.values", "central-difference gradient of a scalar function of a vector or a matrix",
      _ng_run, ("numerical_gradient",), hint=_NG_HINT, rtol=_NG_RTOL, atol=_NG_ATOL, judge=_ng_judge)
_spec("numerical_gradient.step", "numerical_gradient uses the step h it is given",
      _ng_run, ("numerical_gradient",), hint=_NG_HINT, rtol=_NG_RTOL, atol=_NG_ATOL, judge=_ng_judge)
_spec("numerical_gradient.integer_x", "numerical_gradient at an integer-valued x still steps by h in float64",
      _ng_run, ("numerical_gradient",), hint=_NG_HINT, rtol=_NG_RTOL, atol=_NG_ATOL, judge=_ng_judge)

check = make_check(SPECS)
