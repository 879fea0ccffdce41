"""Part 1, linear regression with several outputs (seed 000): jac_mse_wrt_pred, jac_linear_wrt_bias,
jac_linear_wrt_weight, jac_linear_wrt_input, chain_contract, grad_mse_wrt_bias, grad_mse_wrt_weight."""
from __future__ import annotations

import numpy as np

from ...checks import Mistake, Registry
from .._torchref import tensor, to_numpy
from .autodiff import agreed, autograd_grads, autograd_jacobian, torch_grads, torch_jacobian


# --------------------------------------------------------------------------- references

def _ref_jac_mse_wrt_pred(inp):
    import autograd.numpy as anp
    import torch
    Y = inp["Y"]
    a = autograd_jacobian(lambda Yh: anp.mean((Yh - Y) ** 2), inp["Y_hat"])
    b = torch_jacobian(lambda Yh: torch.mean((Yh - tensor(Y)) ** 2), inp["Y_hat"])
    return agreed(a, b, "dMSE/dY_hat")


def _ref_jac_linear(inp, wrt):
    import autograd.numpy as anp
    X, W, b = inp["X"], inp["W"], inp["b"]
    ag = {"b": lambda v: anp.dot(X, W) + v, "W": lambda v: anp.dot(X, v) + b, "X": lambda v: anp.dot(v, W) + b}
    th = {"b": lambda v: tensor(X) @ tensor(W) + v, "W": lambda v: tensor(X) @ v + tensor(b),
          "X": lambda v: v @ tensor(W) + tensor(b)}
    x0 = {"b": b, "W": W, "X": X}[wrt]
    return agreed(autograd_jacobian(ag[wrt], x0), torch_jacobian(th[wrt], x0), f"dY_hat/d{wrt}")


def _ref_chain_contract(inp):
    """The chain rule as a vector-Jacobian product of the linear map P -> J . P."""
    import autograd.numpy as anp
    import torch
    from autograd import grad
    G, J = np.asarray(inp["dL_dY"], dtype=np.float64), inp["dY_dP"]
    p_shape = J.shape[G.ndim:]
    p0 = np.zeros(p_shape)
    _, vjp = torch.autograd.functional.vjp(lambda P: torch.tensordot(tensor(J), P, dims=len(p_shape)),
                                           tensor(p0), tensor(G))
    ag = grad(lambda P: anp.sum(G * anp.tensordot(J, P, axes=len(p_shape))))(p0)
    return agreed(np.asarray(ag), to_numpy(vjp), "dL/dP")


def _ref_grad_mse_linear(inp, wrt):
    import autograd.numpy as anp
    import torch
    X, Y, W, b = inp["X"], inp["Y"], inp["W"], inp["b"]
    idx = {"W": 0, "b": 1}[wrt]
    ag = autograd_grads(lambda W_, b_: anp.mean((anp.dot(X, W_) + b_ - Y) ** 2), [W, b])[idx]
    th = torch_grads(lambda W_, b_: torch.mean((tensor(X) @ W_ + b_ - tensor(Y)) ** 2), [W, b])[idx]
    return agreed(ag, th, f"dMSE/d{wrt}")


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


# --------------------------------------------------------------------------- mistakes

def _predictions(x):
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
    Mistake(lambda x: 2 * (_predictions(x) - x["Y"]).T @ x["X"] / x["Y"].size,
            "transposed: dMSE/dW = 2/(m n_o) X^T (Y_hat - Y)."),
    Mistake(lambda x: 2 * x["X"].T @ (_predictions(x) - x["Y"]) / len(x["X"]), "divided by m instead of m*n_o."),
]


# --------------------------------------------------------------------------- checks

def register(registry: Registry) -> None:
    registry.add("jac_mse_wrt_pred.values", cases=_pred_cases, reference=_ref_jac_mse_wrt_pred, mistakes=(
        Mistake(lambda x: 2 * (x["Y_hat"] - x["Y"]), "the 1/(m n_o) of the mean is missing."),
        Mistake(lambda x: 2 * (x["Y_hat"] - x["Y"]) / len(x["Y"]),
                "divided by m only; the mean runs over all m*n_o entries."),
        Mistake(lambda x: (x["Y_hat"] - x["Y"]) / x["Y"].size, "the factor 2 from the square is missing."),
        Mistake(lambda x: 2 * (x["Y"] - x["Y_hat"]) / x["Y"].size, "sign flipped: differentiate (y_hat - y)^2."),
    ))
    registry.add("jac_linear_wrt_bias.values", cases=_random_shapes_group(3),
                 reference=lambda x: _ref_jac_linear(x, "b"), mistakes=(
        Mistake(lambda x: np.ones((len(x["X"]), len(x["b"]), len(x["b"]))),
                "every entry set to 1: output q depends on b_r only when q == r."),
    ))
    registry.add("jac_linear_wrt_weight.values", cases=_linear_group([(4, 3, 2), (3, 2, 5), (2, 4, 3)]),
                 reference=lambda x: _ref_jac_linear(x, "W"), mistakes=_WEIGHT_MISTAKES)
    registry.add("jac_linear_wrt_weight.square", cases=_linear_group([(3, 3, 3), (4, 2, 2)]),
                 reference=lambda x: _ref_jac_linear(x, "W"), mistakes=_WEIGHT_MISTAKES)
    registry.add("jac_linear_wrt_input.values", cases=_linear_group([(4, 3, 2), (3, 2, 5), (2, 4, 3)]),
                 reference=lambda x: _ref_jac_linear(x, "X"), mistakes=_INPUT_MISTAKES)
    registry.add("jac_linear_wrt_input.square", cases=_linear_group([(3, 3, 3), (2, 4, 4)]),
                 reference=lambda x: _ref_jac_linear(x, "X"), mistakes=_INPUT_MISTAKES)
    registry.add("chain_contract.values",
                 cases=_chain_cases([((3,), (4,)), ((2, 3), (4, 2)), ((2, 3, 4), (5,)), ((), (3,))]),
                 reference=_ref_chain_contract, mistakes=_CHAIN_MISTAKES)
    registry.add("chain_contract.square", cases=_chain_cases([((3, 3), (3, 3)), ((2, 2), (2,))]),
                 reference=_ref_chain_contract, mistakes=_CHAIN_MISTAKES)
    registry.add("grad_mse_wrt_bias.values", cases=_linear_group([(5, 3, 2), (4, 2, 3), (6, 4, 4)]),
                 reference=lambda x: _ref_grad_mse_linear(x, "b"), mistakes=(
        Mistake(lambda x: 2 * (_predictions(x) - x["Y"]).sum(0) / len(x["X"]),
                "divided by m; the mean is over all m*n_o entries."),
        Mistake(lambda x: 2 * (_predictions(x) - x["Y"]).mean(1),
                "summed over the wrong axis (outputs instead of samples)."),
    ))
    registry.add("grad_mse_wrt_weight.values", cases=_linear_group([(6, 3, 2), (5, 2, 4)], near_fit=True),
                 reference=lambda x: _ref_grad_mse_linear(x, "W"), mistakes=_WGRAD_MISTAKES)
    registry.add("grad_mse_wrt_weight.square", cases=_linear_group([(5, 3, 3), (4, 2, 2)], near_fit=True),
                 reference=lambda x: _ref_grad_mse_linear(x, "W"), mistakes=_WGRAD_MISTAKES)
