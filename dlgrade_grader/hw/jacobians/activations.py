"""Part 3, sigmoid and softmax Jacobians (seed 004): sigmoid_jacobian, softmax_jacobian."""
from __future__ import annotations

import numpy as np

from ...checks import Mistake, Registry
from .autodiff import agreed, autograd_jacobian, autograd_logsumexp, softmax, torch_jacobian


def _per_sample_blocks(full):
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
    a = autograd_jacobian(lambda h: 1.0 / (1.0 + anp.exp(-h)), H)
    b = torch_jacobian(torch.sigmoid, H)
    return _per_sample_blocks(agreed(a, b, "the sigmoid Jacobian"))


def _ref_softmax_jacobian(inp):
    import autograd.numpy as anp
    import torch
    V = inp["V"]
    a = autograd_jacobian(lambda v: anp.exp(v - autograd_logsumexp(v, keepdims=True)), V)
    b = torch_jacobian(lambda v: torch.softmax(v, dim=1), V)
    return _per_sample_blocks(agreed(a, b, "the softmax Jacobian"))


def _activation_cases(key, scale, extreme=False):
    def cases(rng):
        out = [(f"{key} of shape {shape}", {key: scale * rng.standard_normal(shape)})
               for shape in [(3, 4), (4, 4), (2, 5)]]
        if extreme:  # "logits as large as +-1e3, of either sign": exp overflows unless each row's max is subtracted
            V = np.stack([1e3 * rng.uniform(-1.0, 1.0, 4),            # spread over +-1e3
                          1e3 + rng.uniform(-2.0, 2.0, 4),            # all near +1e3
                          -1e3 + rng.uniform(-2.0, 2.0, 4)])          # all near -1e3
            out.append((f"{key} of shape {V.shape}, logits near +-1e3", {key: V}))
        return out
    return cases


def _sigmoid(h):
    return 1.0 / (1.0 + np.exp(-h))


def register(registry: Registry) -> None:
    registry.add("sigmoid_jacobian.values", cases=_activation_cases("H", 2.0), reference=_ref_sigmoid_jacobian,
                 mistakes=(
        Mistake(lambda x: np.repeat((_sigmoid(x["H"]) * (1 - _sigmoid(x["H"])))[:, None, :], x["H"].shape[1], 1),
                "s(1 - s) spread over every column: the sigmoid is element-wise, so the Jacobian is diagonal."),
        Mistake(lambda x: np.einsum("bi,ij->bij", _sigmoid(x["H"]), np.eye(x["H"].shape[1])),
                "used s instead of s(1 - s) on the diagonal."),
    ))
    registry.add("softmax_jacobian.values", cases=_activation_cases("V", 2.0, extreme=True),
                 reference=_ref_softmax_jacobian,
                 mistakes=(
        Mistake(lambda x: np.einsum("bi,ij->bij", softmax(x["V"]), np.eye(x["V"].shape[1])),
                "only diag(q): every output also depends on every other logit through the normaliser (- q q^T)."),
        Mistake(lambda x: -np.einsum("bi,bj->bij", softmax(x["V"]), softmax(x["V"])),
                "the diag(q) term is missing."),
    ))
