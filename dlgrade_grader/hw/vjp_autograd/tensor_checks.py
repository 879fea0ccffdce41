"""The Tensor and backward checks: expressions from ``student.EXPRS``, referenced by torch's backward."""
from __future__ import annotations

import numpy as np

from dlgrade.hw.vjp_autograd import CHAIN_OPS, DIAMOND_LEVELS, EXPRS, _acc_graphs, _error_outcome

from .._torchref import tensor as torch_tensor
from .._torchref import to_numpy
from .tensor_ref import TorchTensor, output_shape
from .vjp_checks import distinct_sizes


def _expr_case(rng, expr, leaves, consts=None, cot=True, positive=(), budget=None):
    values = []
    for i, s in enumerate(leaves):
        values.append(rng.uniform(0.5, 2.0, size=s) if i in positive else rng.standard_normal(s))
    consts = consts or {}
    case = {"expr": expr, "leaves": values, "consts": consts}
    if cot:
        case["cot"] = rng.standard_normal(output_shape(expr, values, consts))
    if budget:
        case["budget"] = budget
    return case


def _torch_leaves(inp):
    return [TorchTensor.leaf(v) for v in inp["leaves"]]


def _expr_reference(inp):
    leaves = _torch_leaves(inp)
    out = EXPRS[inp["expr"]](*leaves, dict(inp["consts"]))
    out.data.backward(torch_tensor(inp["cot"]))
    return {"value": out.value, "grads": tuple(to_numpy(t.data.grad) for t in leaves)}


def _cases(*specs):
    """Cases from (expr, leaf shapes as a function of sizes, consts maker, positive leaves)."""
    def make(rng):
        s = distinct_sizes(rng, 4)
        out = []
        for expr, shapes, consts, positive in specs:
            case = _expr_case(rng, expr, shapes(*s), consts(rng, *s) if consts else {}, positive=positive)
            out.append((f"{expr} on leaves " + ", ".join(str(np.shape(v)) for v in case["leaves"]), case))
        return out
    return make


def _level_consts(rng, n):
    return {"c": rng.uniform(0.5, 1.0, n), "d": rng.uniform(0.3, 0.6, n)}


# --------------------------------------------------------------------------- backward
def _accumulate_cases(rng):
    a, b, c, d = distinct_sizes(rng, 4)
    out = []
    for shape_a, shape_b in (((a, b), (a, b)), ((c,), (c,))):
        x = rng.standard_normal(shape_a)
        y = rng.standard_normal(shape_b)
        out.append((f"three backward passes through leaves {shape_a}, {shape_b}", {
            "leaves": [x, y], "cots": [rng.standard_normal(shape_a), rng.standard_normal(shape_a),
                                       rng.standard_normal(shape_a)]}))
    return out


def _accumulate_reference(inp):
    a, b = _torch_leaves({"leaves": inp["leaves"]})
    snaps = []
    for k in range(2):
        _acc_graphs(a, b, k).data.backward(torch_tensor(inp["cots"][k]))
        snaps.append((to_numpy(a.data.grad), to_numpy(b.data.grad)))
    for t in (a, b):
        t.data.grad.zero_()
    zeroed = (to_numpy(a.data.grad), to_numpy(b.data.grad))
    _acc_graphs(a, b, 2).data.backward(torch_tensor(inp["cots"][2]))
    snaps.append((to_numpy(a.data.grad), to_numpy(b.data.grad)))
    return {"after_first": snaps[0], "after_second": snaps[1], "after_zero_grad": zeroed,
            "after_third": snaps[2]}


def _seed_cases(rng):
    a, b, c, d = distinct_sizes(rng, 4)
    return [
        (f"backward() on a scalar built from {(a, b)} leaves",
         _expr_case(rng, "seed1", [(a, b), (a, b)], cot=False) | {"mode": "none"}),
        (f"backward() on the scalar mean of a {(c, a)} @ {(a, d)} product",
         _expr_case(rng, "seed2", [(c, a), (a, d)], cot=False) | {"mode": "none"}),
        (f"backward() with no gradient on a non-scalar output of shape {(c, a)}",
         _expr_case(rng, "mm1", [(c, b), (b, a)], cot=False) | {"mode": "error"}),
    ]


def _seed_reference(inp):
    leaves = _torch_leaves(inp)
    out = EXPRS[inp["expr"]](*leaves, dict(inp["consts"]))
    if inp["mode"] == "error":  # torch refuses to invent a gradient for a non-scalar output
        return _error_outcome(out.data.backward, (ValueError, RuntimeError))
    out.data.backward()
    return tuple(to_numpy(t.data.grad) for t in leaves)


def _chain_cases(rng):
    a, b, _, _ = distinct_sizes(rng, 4)
    consts = lambda: {"c": rng.uniform(0.998, 1.002, 17), "d": rng.uniform(-1e-3, 1e-3, 13)}  # noqa: E731
    shape = (a,) if rng.uniform() < 0.5 else (b, 2)
    return [(f"{CHAIN_OPS}-op chain from a leaf of shape {shape}", _expr_case(rng, "chain", [shape], consts()))]


def _diamond_cases(rng):
    a, b, _, _ = distinct_sizes(rng, 4)
    return [(f"{DIAMOND_LEVELS}-level diamond from a leaf of shape {(a,)}",
             _expr_case(rng, "diamond", [(a,)], _level_consts(rng, DIAMOND_LEVELS))),
            (f"{DIAMOND_LEVELS}-level diamond from a leaf of shape {(2, b)}",
             _expr_case(rng, "diamond", [(2, b)], _level_consts(rng, DIAMOND_LEVELS)))]


TENSOR_CASES = {
    "tensor.operators": _cases(("ops1", lambda a, b, c, d: [(a, b), (b,), (a, 1)], None, ()),
                               ("ops2", lambda a, b, c, d: [(c, a), (c, a), (a,)], None, (1,)),
                               ("ops3", lambda a, b, c, d: [(b, d), (d,), (b, 1)],
                                lambda r, a, b, c, d: {"k": r.standard_normal((b, d))}, (2,))),
    "tensor.reflected": _cases(("refl1", lambda a, b, c, d: [(a,), (a,), (c,)],
                                lambda r, a, b, c, d: {"A": r.standard_normal((a, c))}, (1,)),
                               ("refl2", lambda a, b, c, d: [(b, a), (b, a)],
                                lambda r, a, b, c, d: {"k": r.standard_normal((b, a)),
                                                       "m": r.standard_normal((a,))}, ()),
                               # a number and a numpy array as the base of **: __rpow__
                               ("refl3", lambda a, b, c, d: [(a,), (b, a)],
                                lambda r, a, b, c, d: {"k": r.uniform(0.5, 2.0, (b, a))}, ())),
    "tensor.pow": _cases(("pow1", lambda a, b, c, d: [(a, b), (a, b)], None, ()),
                         ("pow3", lambda a, b, c, d: [(c,), (c,)], None, ()),
                         ("pow2", lambda a, b, c, d: [(b, c), (b, c), (b, c), (c,)], None, (0, 2))),
    "tensor.methods": _cases(("meth1", lambda a, b, c, d: [(a, b), (a, b), (c,)], None, (2,)),
                             ("meth2", lambda a, b, c, d: [(a, b, c), (b, 1)], None, ()),
                             ("meth3", lambda a, b, c, d: [(a, b, c), (b, d)], None, ()),
                             ("meth4", lambda a, b, c, d: [(a, b), (b, 1)], None, ()),
                             # transpose and reshape given one tuple; maximum with a numpy array
                             ("meth5", lambda a, b, c, d: [(a, b, c), (c, 1)],
                              lambda r, a, b, c, d: {"m": r.standard_normal(a * b)}, ())),
    "tensor.matmul": _cases(("mm1", lambda a, b, c, d: [(a, b), (b, c)], None, ()),
                            ("mm2", lambda a, b, c, d: [(a, b), (b, c), (c,)], None, ()),
                            ("mm3", lambda a, b, c, d: [(d, a, b), (b, c)], None, ()),
                            # stacks on both sides: where np.dot and matmul part ways
                            ("mm3", lambda a, b, c, d: [(d, a, b), (d, b, c)], None, ())),
    "backward.shared": _cases(("shared1", lambda a, b, c, d: [(a, b)], None, ()),
                              ("shared2", lambda a, b, c, d: [(c,), (c,)], None, ()),
                              ("shared3", lambda a, b, c, d: [(a,)], lambda r, *s: _level_consts(r, 3), ())),
}


def register(registry):
    for check_id, cases in TENSOR_CASES.items():
        registry.add(check_id, cases=cases, reference=_expr_reference)
    registry.add("backward.accumulate", cases=_accumulate_cases, reference=_accumulate_reference)
    registry.add("backward.seed", cases=_seed_cases, reference=_seed_reference)
    registry.add("backward.long_chain", cases=_chain_cases, reference=_expr_reference)
    registry.add("backward.diamond", cases=_diamond_cases, reference=_expr_reference)
