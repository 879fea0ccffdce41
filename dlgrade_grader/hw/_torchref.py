"""torch for the references, imported on first use and always in float64.

Every notebook imports its check module, so the import of torch waits until a
reference is actually computed.
"""
from __future__ import annotations

import numpy as np


def torch():
    import torch as _torch
    return _torch


def tensor(a, grad: bool = False):
    """A float64 copy of ``a``: a reference never aliases a case's array."""
    t = torch()
    return t.tensor(np.asarray(a, dtype=np.float64), dtype=t.float64, requires_grad=grad)


def to_numpy(t) -> np.ndarray:
    """A float64 numpy copy of a tensor, detached from its graph."""
    return t.detach().numpy().astype(np.float64)
