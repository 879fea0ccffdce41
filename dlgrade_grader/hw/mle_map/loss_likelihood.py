"""Part 1, from a loss to a likelihood: loss_to_log_likelihood."""
from __future__ import annotations

import numpy as np

from ...checks import Mistake, Registry
from .._torchref import tensor
from .._torchref import torch as lazy_torch


def _loss_cases(rng):
    n = int(rng.integers(4, 7))
    y, y_hat = rng.normal(0, 2, n), rng.normal(0, 2, n)
    s, b, g = rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0)
    labels = (rng.uniform(size=n) < 0.5).astype(np.float64)
    p = rng.uniform(0.1, 0.9, n)
    r = y - y_hat
    return [
        ("squared error / (2 s^2)", {"dist": "normal", "y": y, "y_hat": y_hat, "scale": s,
                                     "loss_values": r ** 2 / (2 * s ** 2),
                                     "log_Z": 0.5 * np.log(2 * np.pi * s ** 2)}),
        ("absolute error / b", {"dist": "laplace", "y": y, "y_hat": y_hat, "scale": b,
                                "loss_values": np.abs(r) / b, "log_Z": float(np.log(2 * b))}),
        ("binary cross-entropy", {"dist": "bernoulli", "y": labels, "y_hat": p, "scale": 1.0,
                                  "loss_values": -(labels * np.log(p) + (1 - labels) * np.log(1 - p)),
                                  "log_Z": 0.0}),
        ("log(1 + r^2 / g^2)", {"dist": "cauchy", "y": y, "y_hat": y_hat, "scale": g,
                                "loss_values": np.log1p(r ** 2 / g ** 2), "log_Z": float(np.log(np.pi * g))}),
    ]


def _loss_reference(inp):
    torch = lazy_torch()
    d = torch.distributions
    y, m, s = tensor(inp["y"]), tensor(inp["y_hat"]), tensor(inp["scale"])
    dist = {"normal": lambda: d.Normal(m, s), "laplace": lambda: d.Laplace(m, s),
            "cauchy": lambda: d.Cauchy(m, s), "bernoulli": lambda: d.Bernoulli(probs=m)}[inp["dist"]]()
    return dist.log_prob(y).numpy()


def register(registry: Registry) -> None:
    registry.add(
        "loss_to_log_likelihood.values",
        cases=_loss_cases,
        reference=_loss_reference,
        mistakes=(
            Mistake(lambda x: -np.asarray(x["loss_values"]) + x["log_Z"],
                    "log Z was added; dividing by Z subtracts it."),
            Mistake(lambda x: -np.asarray(x["loss_values"]), "the normaliser log Z is missing."),
            Mistake(lambda x: np.asarray(x["loss_values"]) - x["log_Z"],
                    "the sign of the loss is flipped: P is exp(-l)/Z."),
        ),
    )
