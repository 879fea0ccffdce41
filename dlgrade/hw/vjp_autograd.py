"""Checks for the vjp_autograd assignment (pilot: unbroadcast only)."""
from __future__ import annotations

import numpy as np

from ..checks import Check, Mistake, Registry, make_check

REGISTRY = Registry("vjp_autograd")
FORBIDDEN_IN_SOLUTIONS = {"torch", "autograd", "jax", "functorch", "tensorflow"}


def _torch_unbroadcast(inputs):
    import torch
    target = torch.tensor(inputs["target"], dtype=torch.float64, requires_grad=True)
    g = torch.tensor(inputs["g"], dtype=torch.float64)
    out = target.expand(g.shape) if target.dim() == g.dim() else target.expand(g.shape)
    (grad,) = torch.autograd.grad(out, target, grad_outputs=g)
    return grad.numpy()


def _unbroadcast_cases(rng):
    shapes = [((3, 1), (3, 4)), ((4,), (2, 3, 4)), ((1, 5), (2, 3, 5)), ((2, 1, 3), (4, 2, 5, 3)), ((), (3, 2))]
    return [(f"target {t} from g {g}", {"target": rng.standard_normal(t), "g": rng.standard_normal(g)})
            for t, g in shapes]


REGISTRY.add(Check(
    id="unbroadcast.all",
    title="unbroadcast sums away added leading axes and stretched size-1 axes",
    cases=_unbroadcast_cases,
    run=lambda ns, x: ns.unbroadcast(x["target"], x["g"]),
    reference=_torch_unbroadcast,
    functions=("unbroadcast",),
    mistakes=(Mistake(lambda x: x["g"], "no unbroadcast at all: the gradient keeps the broadcast shape."),),
))

check = make_check(REGISTRY)
