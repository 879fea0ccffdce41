"""Part 4, matrix-vector models (seeds 001, 004): grad_wx_wrt_w, grad_mse_wrt_w, two_layer_linear_grads,
deep_linear_grads, and the deep affine network seed 004 left a stub: deep_affine_grads,
deep_affine_input_jacobian."""
from __future__ import annotations

import numpy as np

from ...checks import Mistake, Registry
from .._torchref import tensor
from .autodiff import agreed, autograd_grads, autograd_jacobian, torch_grads, torch_jacobian


# --------------------------------------------------------------------------- references

def _ref_grad_wx_wrt_w(inp):
    import autograd.numpy as anp
    x = inp["x"]
    return agreed(autograd_jacobian(lambda W: anp.dot(W, x), inp["W"]),
                  torch_jacobian(lambda W: W @ tensor(x), inp["W"]), "d(Wx)/dW")


def _ref_grad_mse_wrt_w(inp):
    import autograd.numpy as anp
    import torch
    x, y = inp["x"], inp["y"]
    ag = autograd_grads(lambda W: anp.mean((anp.dot(W, x) - y) ** 2), [inp["W"]])[0]
    th = torch_grads(lambda W: torch.mean((W @ tensor(x) - tensor(y)) ** 2), [inp["W"]])[0]
    return agreed(ag, th, "dMSE/dW")


def _ref_two_layer(inp):
    import autograd.numpy as anp
    import torch
    x, y = inp["x"], inp["y"]
    ag = autograd_grads(lambda W1, W2: anp.mean((anp.dot(W2, anp.dot(W1, x)) - y) ** 2), [inp["W1"], inp["W2"]])
    th = torch_grads(lambda W1, W2: torch.mean((W2 @ (W1 @ tensor(x)) - tensor(y)) ** 2), [inp["W1"], inp["W2"]])
    return agreed(tuple(ag), tuple(th), "(dW1, dW2)")


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
        h = tensor(x)
        for W in mats:
            h = W @ h
        return 0.5 * torch.sum((tensor(y) - h) ** 2)

    ag = [np.asarray(g, dtype=np.float64) for g in grad(ag_loss)(list(Ws))]
    return agreed(ag, torch_grads(th_loss, list(Ws)), "the deep linear gradients")


def _ref_deep_affine(inp):
    import autograd.numpy as anp
    import torch
    from autograd import grad
    Ws, bs, x, y = inp["Ws"], inp["bs"], inp["x"], inp["y"]

    def ag_loss(params):
        mats, biases = params
        h = x
        for W, b in zip(mats, biases):
            h = anp.dot(W, h) + b
        return 0.5 * anp.sum((y - h) ** 2)

    def th_loss(*leaves):
        h = tensor(x)
        for W, b in zip(leaves[:len(Ws)], leaves[len(Ws):]):
            h = W @ h + b
        return 0.5 * torch.sum((tensor(y) - h) ** 2)

    dW, db = grad(ag_loss)((list(Ws), list(bs)))
    ag = [np.asarray(g, dtype=np.float64) for g in list(dW) + list(db)]
    both = agreed(ag, torch_grads(th_loss, list(Ws) + list(bs)), "the deep affine gradients")
    return {"dW": list(both[:len(Ws)]), "db": list(both[len(Ws):])}


def _ref_deep_affine_input(inp):
    import autograd.numpy as anp
    Ws, bs = inp["Ws"], inp["bs"]

    def ag_net(x):
        for W, b in zip(Ws, bs):
            x = anp.dot(W, x) + b
        return x

    def th_net(x):
        for W, b in zip(Ws, bs):
            x = tensor(W) @ x + tensor(b)
        return x

    return agreed(autograd_jacobian(ag_net, inp["x"]), torch_jacobian(th_net, inp["x"]), "dy_hat/dx")


# --------------------------------------------------------------------------- cases

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


def _affine_cases(width_lists, with_target=True):
    def cases(rng):
        out = []
        for widths in width_lists:
            Ws = [rng.standard_normal((widths[i + 1], widths[i])) / np.sqrt(widths[i])
                  for i in range(len(widths) - 1)]
            bs = [rng.standard_normal(w) for w in widths[1:]]
            inp = {"Ws": Ws, "bs": bs, "x": rng.standard_normal(widths[0])}
            if with_target:
                inp["y"] = rng.standard_normal(widths[-1])
            out.append((f"L={len(Ws)}, widths {widths}", inp))
        return out
    return cases


# --------------------------------------------------------------------------- mistakes

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


def _two_layer_w2_untransposed(x):
    residual = x["W2"] @ x["W1"] @ x["x"] - x["y"]
    return (2 / len(x["y"]) * np.outer(x["W2"] @ residual, x["x"]),
            2 / len(x["y"]) * np.outer(residual, x["W1"] @ x["x"]))


_WX_MISTAKES = [Mistake(lambda x: np.einsum("ij,k->ikj", np.eye(len(x["W"])), x["x"]),
                        "axes mixed up: dy_i/dW_kl = delta_ik x_l, so the x index goes last."),
                Mistake(lambda x: np.outer(np.ones(len(x["W"])), x["x"]),
                        "the output axis was summed away: 1 x^T is the gradient of the scalar 1^T W x,"
                        " not the Jacobian of W x.")]
_TWO_LAYER_MISTAKES = [Mistake(_two_layer_w2_untransposed,
                               "W2 used where W2^T belongs when the error flows back to the hidden layer.")]
_DEEP_MISTAKES = [Mistake(_deep_forward_order, "the layers are walked in the wrong order: the error"
                                               " starts at the output and flows back to W_1.")]


def _affine_forward(inp, biases=True):
    acts = [inp["x"]]
    for W, b in zip(inp["Ws"], inp["bs"]):
        acts.append(W @ acts[-1] + (b if biases else 0.0))
    return acts


def _affine_backward(inp, acts, bias_from=lambda g, g_below: g):
    g = acts[-1] - inp["y"]
    dW, db = [None] * len(inp["Ws"]), [None] * len(inp["Ws"])
    for i in reversed(range(len(inp["Ws"]))):
        dW[i] = np.outer(g, acts[i])
        g_below = inp["Ws"][i].T @ g
        db[i] = bias_from(g, g_below)
        g = g_below
    return {"dW": dW, "db": db}


def _affine_biases_left_out(inp):
    return _affine_backward(inp, _affine_forward(inp, biases=False))


def _affine_bias_from_layer_below(inp):
    return _affine_backward(inp, _affine_forward(inp), bias_from=lambda g, g_below: g_below)


def _product(mats):
    P = mats[0]
    for M in mats[1:]:
        P = M @ P
    return P


_AFFINE_MISTAKES = [
    Mistake(_affine_biases_left_out, "the forward pass leaves the biases out: y_hat and every activation a_i"
                                     " include b_i, so the error and every dW_i change with them."),
    Mistake(_affine_bias_from_layer_below, "db_i is the error at the output of layer i, the same vector that"
                                           " multiplies a_{i-1}^T in dW_i, not the error passed back below it."),
]
_AFFINE_INPUT_MISTAKES = [
    Mistake(lambda x: _product(x["Ws"][::-1]), "the product is in the wrong order: the chain rule gives"
                                               " W_L W_{L-1} ... W_1, the last layer on the left."),
    Mistake(lambda x: _product(x["Ws"]).T, "transposed: the Jacobian of y_hat (n_L entries) with respect to x"
                                           " (n_0 entries) has shape (n_L, n_0)."),
]


# --------------------------------------------------------------------------- checks

def register(registry: Registry) -> None:
    registry.add("grad_wx_wrt_w.values", cases=_wx_cases([(3, 2), (2, 4), (4, 3)]), reference=_ref_grad_wx_wrt_w,
                 mistakes=_WX_MISTAKES)
    registry.add("grad_wx_wrt_w.square", cases=_wx_cases([(3, 3), (2, 2)]), reference=_ref_grad_wx_wrt_w,
                 mistakes=_WX_MISTAKES)
    registry.add("grad_mse_wrt_w.values", cases=_mse_w_cases, reference=_ref_grad_mse_wrt_w, mistakes=(
        Mistake(lambda x: np.outer(x["W"] @ x["x"] - x["y"], x["x"]) / len(x["y"]), "the factor 2 is missing."),
        Mistake(lambda x: 2 * np.outer(x["W"] @ x["x"] - x["y"], x["x"]), "the 1/m of the mean is missing."),
    ))
    registry.add("two_layer_linear_grads.values", cases=_two_layer_cases([(4, 3, 2), (2, 5, 3)]),
                 reference=_ref_two_layer, mistakes=_TWO_LAYER_MISTAKES)
    registry.add("two_layer_linear_grads.square", cases=_two_layer_cases([(3, 3, 3), (2, 2, 2)]),
                 reference=_ref_two_layer, mistakes=_TWO_LAYER_MISTAKES)
    registry.add("deep_linear_grads.values", cases=_deep_cases([[3, 2], [4, 3, 2], [2, 5, 3, 4]]),
                 reference=_ref_deep_linear, mistakes=_DEEP_MISTAKES)
    registry.add("deep_linear_grads.square", cases=_deep_cases([[3, 3, 3, 3], [2, 2, 2, 2, 2]]),
                 reference=_ref_deep_linear, mistakes=_DEEP_MISTAKES)
    registry.add("deep_affine_grads.values",
                 cases=_affine_cases([[3, 2], [4, 3, 2], [2, 5, 3, 4], [3, 3, 3, 3]]),
                 reference=_ref_deep_affine, mistakes=_AFFINE_MISTAKES)
    registry.add("deep_affine_input_jacobian.values",
                 cases=_affine_cases([[3, 2], [4, 3, 2], [2, 5, 3, 4], [3, 3, 3, 3]], with_target=False),
                 reference=_ref_deep_affine_input, mistakes=_AFFINE_INPUT_MISTAKES)
