"""The two autodiff engines behind every jacobians reference, and the check that they agree.

HIPS autograd and torch.autograd are both imported on first use, so importing the
checks does not wait for torch.
"""
from __future__ import annotations

import numpy as np

from .._torchref import tensor, to_numpy

AGREE_RTOL, AGREE_ATOL = 1e-9, 1e-12


def agreed(first, second, what):
    """Both autodiff engines must give the same answer; the grader trusts neither alone."""
    if isinstance(first, (list, tuple)):
        if len(first) != len(second):
            raise RuntimeError(f"autograd and torch disagree on the structure of {what}")
        return type(first)(agreed(a, b, what) for a, b in zip(first, second))
    a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    if a.shape != b.shape or not np.allclose(a, b, rtol=AGREE_RTOL, atol=AGREE_ATOL):
        raise RuntimeError(f"autograd and torch disagree on {what}")
    return a


def autograd_jacobian(f, x):
    from autograd import jacobian
    return np.asarray(jacobian(f)(np.asarray(x, dtype=np.float64)), dtype=np.float64)


def torch_jacobian(f, x):
    from torch.autograd.functional import jacobian
    return to_numpy(jacobian(f, tensor(x)))


def torch_grads(loss_fn, arrays, dout=1.0):
    """Gradients of ``dout * loss_fn(*tensors)`` with respect to every array."""
    import torch
    leaves = [tensor(a).clone().requires_grad_(True) for a in arrays]
    loss = loss_fn(*leaves)
    grads = torch.autograd.grad(loss, leaves, grad_outputs=tensor(dout))
    return [to_numpy(g) for g in grads]


def autograd_grads(loss_fn, arrays, dout=1.0):
    """Gradients of ``dout * loss_fn(*arrays)`` with respect to every array."""
    from autograd import grad
    out = []
    for i in range(len(arrays)):
        def partial(v, i=i):
            args = list(arrays)
            args[i] = v
            return dout * loss_fn(*args)
        out.append(np.asarray(grad(partial)(np.asarray(arrays[i], dtype=np.float64)), dtype=np.float64))
    return out


def autograd_logsumexp(v, keepdims=False):
    """Stable log-sum-exp over the last axis in autograd.numpy (autograd.scipy needs scipy)."""
    import autograd.numpy as anp
    top = anp.max(v, axis=-1, keepdims=True)
    out = top + anp.log(anp.sum(anp.exp(v - top), axis=-1, keepdims=True))
    return out if keepdims else out[..., 0]


def softmax(v):
    """Row-wise softmax in numpy, for the mistake models (never a reference)."""
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
