"""Part 2, losses with an upstream gradient (seed 003): mse_backward, mae_backward, bce_backward,
cross_entropy_backward, softmax_cross_entropy_backward."""
from __future__ import annotations

import numpy as np

from ...checks import Mistake, Registry
from .._torchref import tensor
from .autodiff import agreed, autograd_grads, autograd_logsumexp, softmax, torch_grads


# --------------------------------------------------------------------------- references

def _ref_pair_loss(inp, kind):
    import autograd.numpy as anp
    import torch.nn.functional as F
    p, t, dout = inp["pred"], inp["target"], inp["dout"]
    if kind == "mse":
        ag_loss, th_loss = (lambda a, b: anp.sum((a - b) ** 2)), (lambda a, b: F.mse_loss(a, b, reduction="sum"))
    else:
        ag_loss, th_loss = (lambda a, b: anp.sum(anp.abs(a - b))), (lambda a, b: F.l1_loss(a, b, reduction="sum"))
    return agreed(tuple(autograd_grads(ag_loss, [p, t], dout)), tuple(torch_grads(th_loss, [p, t], dout)),
                  f"the {kind} gradients")


def _ref_bce(inp):
    import autograd.numpy as anp
    import torch.nn.functional as F
    p, t, dout = inp["pred"], inp["target"], inp["dout"]
    ag = autograd_grads(lambda a: -anp.sum(t * anp.log(a) + (1 - t) * anp.log(1 - a)), [p], dout)[0]
    th = torch_grads(lambda a: F.binary_cross_entropy(a, tensor(t), reduction="sum"), [p], dout)[0]
    return agreed(ag, th, "dBCE/dpred")


def _ref_cross_entropy(inp):
    import autograd.numpy as anp
    import torch
    p, y, dout = inp["probs"], inp["onehot"], inp["dout"]
    ag = autograd_grads(lambda a: -anp.sum(y * anp.log(a)), [p], dout)[0]
    th = torch_grads(lambda a: -torch.sum(tensor(y) * torch.log(a)), [p], dout)[0]
    return agreed(ag, th, "dCE/dprobs")


def _ref_softmax_ce(inp):
    import autograd.numpy as anp
    import torch
    import torch.nn.functional as F
    logits, labels = inp["logits"], np.asarray(inp["labels"], dtype=np.int64)
    rows = np.arange(len(labels))

    def ag_loss(v):
        return anp.mean(autograd_logsumexp(v) - v[rows, labels])

    ag = autograd_grads(ag_loss, [logits])[0]
    th = torch_grads(lambda v: F.cross_entropy(v, torch.tensor(np.array(labels)), reduction="mean"), [logits])[0]
    return agreed(ag, th, "dCE/dlogits")


# --------------------------------------------------------------------------- cases

def _random_dout(rng):
    """An upstream gradient of random sign and size: an answer that leaves it out fails."""
    return float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 3.0))


def _pair_cases(with_ties=False):
    def cases(rng):
        out = []
        for shape in [(3, 4), (2, 3, 4), (5,)]:
            pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
            if with_ties:
                mask = rng.random(shape) < 0.4
                mask.flat[0] = True
                target = np.where(mask, pred, target)
            dout = _random_dout(rng)
            label = f"shape {shape}, dout={dout:.3g}" + (", some pred == target" if with_ties else "")
            out.append((label, {"pred": pred, "target": target, "dout": dout}))
        return out
    return cases


def _bce_cases(rng):
    out = []
    for n, soft in [(6, False), (4, False), (5, True)]:
        pred = rng.uniform(0.03, 0.97, n)
        target = rng.uniform(0, 1, n) if soft else rng.integers(0, 2, n).astype(np.float64)
        dout = _random_dout(rng)
        out.append((f"{n} samples, {'soft' if soft else '0/1'} targets, dout={dout:.3g}",
                    {"pred": pred, "target": target, "dout": dout}))
    # "each returned gradient has the shape of its input, whatever that shape is": 2- and 3-axis arrays
    for shape in [(3, 4), (2, 3, 2)]:
        pred = rng.uniform(0.03, 0.97, shape)
        target = rng.integers(0, 2, shape).astype(np.float64)
        dout = _random_dout(rng)
        out.append((f"shape {shape}, 0/1 targets, dout={dout:.3g}", {"pred": pred, "target": target, "dout": dout}))
    return out


def _softmax_rows(rng, B, K, scale=1.5):
    v = scale * rng.standard_normal((B, K))
    e = np.exp(v - v.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _ce_cases(rng):
    out = []
    for B, K in [(4, 3), (3, 5), (6, 2)]:
        probs = _softmax_rows(rng, B, K)  # strictly positive rows summing to 1
        onehot = np.eye(K)[rng.integers(0, K, B)]
        dout = _random_dout(rng)
        out.append((f"B={B}, K={K}, dout={dout:.3g}", {"probs": probs, "onehot": onehot, "dout": dout}))
    return out


def _softmax_ce_moderate(rng):
    out = []
    for B, K in [(4, 3), (3, 5), (5, 4)]:
        out.append((f"B={B}, K={K}, moderate logits",
                    {"logits": 2.0 * rng.standard_normal((B, K)), "labels": rng.integers(0, K, B)}))
    return out


def _softmax_ce_extreme(rng):
    B, K = 4, 5
    uniform = 1e3 * rng.uniform(-1.0, 1.0, (B, K))
    labels = rng.integers(0, K, B)
    near = rng.standard_normal((3, 4))
    near[0] = [1e3, 1e3 - 0.5, -1e3, 0.0]        # two large logits close together
    near[1] = [-1e3, -1e3 + 1.0, -1e3 + 2.0, -1e3]  # all very negative
    near[2] = [1e3, -1e3, 1e3, 1e3]                  # ties at the top
    return [(f"B={B}, K={K}, logits up to +-1e3", {"logits": uniform, "labels": labels}),
            ("B=3, K=4, logits near +-1e3 with near-ties", {"logits": near, "labels": rng.integers(0, 4, 3)})]


# --------------------------------------------------------------------------- mistakes

def _softmax_minus_onehot(inp):
    q = softmax(inp["logits"])
    q[np.arange(len(inp["labels"])), inp["labels"]] -= 1.0
    return q


def _naive_softmax_ce(inp):
    """exp of the raw logits: inf for logits above ~709, then inf/inf = NaN."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(inp["logits"])
        q = e / e.sum(axis=1, keepdims=True)
    q[np.arange(len(inp["labels"])), inp["labels"]] -= 1.0
    return q / len(inp["labels"])


_SOFTMAX_CE_MISTAKES = [
    Mistake(_softmax_minus_onehot, "no 1/B: the loss is the mean over the batch."),
    Mistake(lambda x: -_softmax_minus_onehot(x) / len(x["labels"]), "sign flipped: it is softmax - onehot."),
    Mistake(_naive_softmax_ce, "softmax of the raw logits: exp overflows to inf for large logits;"
                               " subtract each row's maximum first (the result does not change)."),
]


# --------------------------------------------------------------------------- checks

def register(registry: Registry) -> None:
    registry.add("mse_backward.values", cases=_pair_cases(), reference=lambda x: _ref_pair_loss(x, "mse"),
                 mistakes=(
        Mistake(lambda x: (2 * x["dout"] * (x["pred"] - x["target"]),) * 2,
                "dtarget has the sign of dpred; the target enters as -t."),
        Mistake(lambda x: (2 * (x["pred"] - x["target"]), 2 * (x["target"] - x["pred"])),
                "the upstream gradient dout is not multiplied in."),
    ))
    registry.add("mae_backward.values", cases=_pair_cases(), reference=lambda x: _ref_pair_loss(x, "mae"),
                 mistakes=(
        Mistake(lambda x: (x["dout"] * np.abs(x["pred"] - x["target"]), x["dout"] * np.abs(x["target"] - x["pred"])),
                "abs where sign belongs: d|u|/du = sign(u)."),
    ))
    registry.add("mae_backward.ties", cases=_pair_cases(with_ties=True),
                 reference=lambda x: _ref_pair_loss(x, "mae"), mistakes=(
        Mistake(lambda x: (x["dout"] * np.where(x["pred"] > x["target"], 1.0, -1.0),
                           x["dout"] * np.where(x["pred"] > x["target"], -1.0, 1.0)),
                "at pred == target the convention (torch, autograd, np.sign) is 0, not +-1."),
    ))
    registry.add("bce_backward.values", cases=_bce_cases, reference=_ref_bce, mistakes=(
        Mistake(lambda x: x["dout"] * (x["pred"] - x["target"]),
                "the denominator p(1 - p) is missing (that shortcut holds only after a sigmoid)."),
    ))
    registry.add("cross_entropy_backward.values", cases=_ce_cases, reference=_ref_cross_entropy, mistakes=(
        Mistake(lambda x: x["dout"] * x["onehot"] / x["probs"], "sign flipped: the loss is -sum y log p."),
        Mistake(lambda x: -x["onehot"] / x["probs"], "the upstream gradient dout is not multiplied in."),
    ))
    registry.add("softmax_cross_entropy_backward.moderate", cases=_softmax_ce_moderate, reference=_ref_softmax_ce,
                 mistakes=_SOFTMAX_CE_MISTAKES)
    registry.add("softmax_cross_entropy_backward.extreme", cases=_softmax_ce_extreme, reference=_ref_softmax_ce,
                 mistakes=_SOFTMAX_CE_MISTAKES)
