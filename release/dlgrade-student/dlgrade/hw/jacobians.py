"""Student half of the checks for the jacobians assignment (seeds 000, 001, 003, 004).

This module runs in the student's kernel and may be read by anyone: it only says
how each check calls the student's code (``run``), which functions it exercises,
how answers are compared and what hint a failure shows. Case generators, the
reference Jacobians and gradients, and the models of classic mistakes live in the
grader package (``dlgrade_grader.hw.jacobians``), which is never shipped.
"""
from __future__ import annotations

from ..checks import Spec, Specs, make_check

SPECS = Specs("jacobians")


def _spec(id, title, run, functions, hint=""):
    SPECS.add(Spec(id=id, title=title, run=run, functions=tuple(functions), hint=hint))


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
_spec("grad_mse_wrt_bias.values", "dMSE/db = 2/(m n_o) * column sums of (Y_hat - Y)",
      lambda ns, x: ns.grad_mse_wrt_bias(x["X"], x["Y"], x["W"], x["b"]), ("grad_mse_wrt_bias",))
_spec("grad_mse_wrt_weight.values", "dMSE/dW = 2/(m n_o) X^T (Y_hat - Y), accurate near a fit",
      lambda ns, x: ns.grad_mse_wrt_weight(x["X"], x["Y"], x["W"], x["b"]), ("grad_mse_wrt_weight",),
      hint=_WGRAD_HINT)
_spec("grad_mse_wrt_weight.square", "dMSE/dW when n == n_o, where a transposed gradient still fits",
      lambda ns, x: ns.grad_mse_wrt_weight(x["X"], x["Y"], x["W"], x["b"]), ("grad_mse_wrt_weight",),
      hint=_WGRAD_HINT)

# --- losses with an upstream gradient (seed 003)
_spec("mse_backward.values", "mse_backward returns (dpred, dtarget) = (2 dout (p - t), 2 dout (t - p))",
      lambda ns, x: tuple(ns.mse_backward(x["pred"], x["target"], x["dout"])), ("mse_backward",))
_spec("mae_backward.values", "mae_backward returns dout * sign(p - t) and its negative",
      lambda ns, x: tuple(ns.mae_backward(x["pred"], x["target"], x["dout"])), ("mae_backward",))
_spec("mae_backward.ties", "mae_backward uses the subgradient 0 where pred == target",
      lambda ns, x: tuple(ns.mae_backward(x["pred"], x["target"], x["dout"])), ("mae_backward",))
_spec("bce_backward.values", "bce_backward = dout (p - t) / (p (1 - p))",
      lambda ns, x: ns.bce_backward(x["pred"], x["target"], x["dout"]), ("bce_backward",))
_spec("cross_entropy_backward.values", "cross_entropy_backward = -dout * onehot / probs",
      lambda ns, x: ns.cross_entropy_backward(x["probs"], x["onehot"], x["dout"]), ("cross_entropy_backward",))
_spec("softmax_cross_entropy_backward.moderate", "dlogits = (softmax - onehot) / B on moderate logits",
      lambda ns, x: ns.softmax_cross_entropy_backward(x["logits"], x["labels"]),
      ("softmax_cross_entropy_backward",))
_spec("softmax_cross_entropy_backward.extreme", "dlogits stays finite and exact for logits up to +-1e3",
      lambda ns, x: ns.softmax_cross_entropy_backward(x["logits"], x["labels"]),
      ("softmax_cross_entropy_backward",),
      hint="exp(1000) overflows; subtract each row's maximum before exponentiating.")

# --- batched activation Jacobians (seed 004)
_spec("sigmoid_jacobian.values", "sigmoid_jacobian is (B, D, D) with s(1 - s) on each diagonal",
      lambda ns, x: ns.sigmoid_jacobian(x["H"]), ("sigmoid_jacobian",))
_spec("softmax_jacobian.values", "softmax_jacobian is (B, D, D) = diag(q) - q q^T per sample",
      lambda ns, x: ns.softmax_jacobian(x["V"]), ("softmax_jacobian",))

# --- matrix-vector models (seeds 001, 004)
_spec("grad_wx_wrt_w.values", "d(Wx)/dW has shape (m, m, n) and entries delta_ik x_l",
      lambda ns, x: ns.grad_wx_wrt_w(x["W"], x["x"]), ("grad_wx_wrt_w",), hint=_WX_HINT)
_spec("grad_wx_wrt_w.square", "d(Wx)/dW when W is square, where mixed-up axes still fit",
      lambda ns, x: ns.grad_wx_wrt_w(x["W"], x["x"]), ("grad_wx_wrt_w",), hint=_WX_HINT)
_spec("grad_mse_wrt_w.values", "dMSE/dW = 2/m (Wx - y) x^T for pred = Wx",
      lambda ns, x: ns.grad_mse_wrt_w(x["W"], x["x"], x["y"]), ("grad_mse_wrt_w",))
_spec("two_layer_linear_grads.values", "(dW1, dW2) for pred = W2 W1 x and the MSE",
      lambda ns, x: tuple(ns.two_layer_linear_grads(x["W1"], x["W2"], x["x"], x["y"])),
      ("two_layer_linear_grads",))
_spec("two_layer_linear_grads.square", "(dW1, dW2) when every layer has the same width",
      lambda ns, x: tuple(ns.two_layer_linear_grads(x["W1"], x["W2"], x["x"], x["y"])),
      ("two_layer_linear_grads",))
_spec("deep_linear_grads.values", "the gradient for every W_i of 1/2 ||y - W_L ... W_1 x||^2",
      _run_deep, ("deep_linear_grads",),
      hint="dL/dW_i = (W_L ... W_{i+1})^T (y_hat - y) (W_{i-1} ... W_1 x)^T.")
_spec("deep_linear_grads.square", "deep linear gradients when all widths are equal, where a wrong order still fits",
      _run_deep, ("deep_linear_grads",))

check = make_check(SPECS)
