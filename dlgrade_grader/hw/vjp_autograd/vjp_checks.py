"""unbroadcast and the per-op VJP checks: cases, and references derived from the op table.

Every reference is computed in float64 by torch.autograd and recomputed with HIPS autograd
(``make_vjp``); if the two libraries disagree the reference raises, and the case fails closed
rather than being scored against a doubtful reference.
"""
from __future__ import annotations

import numpy as np

from ...checks import Mistake
from .._torchref import tensor as torch_tensor
from .._torchref import to_numpy
from .._torchref import torch as torch_module
from .ops import OPS, autograd_numpy, mistakes_of


# --------------------------------------------------------------------------- references
def torch_vjp(fn, primals, cot):
    """Gradient of <cot, fn(*primals)> with respect to each primal (torch, float64)."""
    torch = torch_module()
    xs = [torch_tensor(p, True) for p in primals]
    out = fn(*xs)
    grads = torch.autograd.grad(out, xs, grad_outputs=torch_tensor(cot), allow_unused=True)
    return tuple(np.zeros(np.shape(p)) if g is None else to_numpy(g) for p, g in zip(primals, grads))


def autograd_vjp(fn, primals, cot):
    from autograd import make_vjp
    primals = [np.asarray(p, dtype=np.float64) for p in primals]
    out = []
    for i in range(len(primals)):
        vjp, _ = make_vjp(fn, argnum=i)(*primals)
        out.append(np.asarray(vjp(np.asarray(cot, dtype=np.float64)), dtype=np.float64))
    return tuple(out)


def _cross_checked(torch_fn, autograd_fn, primals, cot, what):
    """torch's VJP, refused unless HIPS autograd agrees (NaN where both give NaN)."""
    with np.errstate(all="ignore"):
        ref = torch_vjp(torch_fn, primals, cot)
        alt = autograd_vjp(autograd_fn, primals, cot)
    for r, a in zip(ref, alt):
        if np.shape(r) != np.shape(a) or not np.allclose(r, a, rtol=1e-10, atol=1e-12, equal_nan=True):
            raise RuntimeError(f"torch and autograd disagree on the VJP of {what}")
    return ref


def vjp_reference(inp):
    op, kwargs = OPS[inp["op"]], inp.get("kwargs", {})
    ref = _cross_checked(lambda *xs: op.torch(*xs, **kwargs), lambda *xs: op.autograd(*xs, **kwargs),
                         inp["args"], inp["g"], op.name)
    return ref[: inp.get("graded", len(ref))]


def _unbroadcast_reference(inp):
    shape = np.shape(inp["g"])
    ref = torch_vjp(lambda t: t.expand(*shape), [inp["target"]], inp["g"])[0]
    # autograd unbroadcasts the gradient of a broadcasting add
    alt = autograd_vjp(lambda t: t + autograd_numpy().zeros(shape), [inp["target"]], inp["g"])[0]
    if ref.shape != alt.shape or not np.allclose(ref, alt, rtol=1e-10, atol=1e-12):
        raise RuntimeError("torch and autograd disagree on unbroadcast")
    return ref


# --------------------------------------------------------------------------- case builders
def distinct_sizes(rng, n, lo=2, hi=5):
    """n distinct sizes, so a transposed or swapped axis always changes the shape."""
    return [int(v) for v in rng.choice(np.arange(lo, hi + 3), size=n, replace=False)]


def _vjp_case(rng, op, shapes, out_shape=None, kwargs=None, positive=(), away_from_zero=(), graded=None,
              args=None):
    if args is None:
        args = []
        for i, s in enumerate(shapes):
            x = rng.standard_normal(s)
            if i in positive:
                x = rng.uniform(0.5, 2.0, size=s)
            elif i in away_from_zero:
                x = rng.choice([-1.0, 1.0], size=s) * rng.uniform(0.5, 2.0, size=s)
            args.append(np.asarray(x, dtype=np.float64))
    if out_shape is None:
        with np.errstate(all="ignore"):
            out_shape = np.shape(OPS[op].numpy(*args, **(kwargs or {})))
    case = {"op": op, "args": args, "g": rng.standard_normal(out_shape), "kwargs": dict(kwargs or {})}
    if graded is not None:
        case["graded"] = graded
    return case


def _label(case):
    shapes = " and ".join(str(np.shape(a)) for a in case["args"])
    kw = ", ".join(f"{k}={v!r}" for k, v in case["kwargs"].items())
    return f"{case['op']}_vjp on {shapes}" + (f" with {kw}" if kw else "")


def _labelled(cases):
    return [(_label(c), c) for c in cases]


# --------------------------------------------------------------------------- unbroadcast
def _unbroadcast_cases(pairs, number_target=False):
    def make(rng):
        a, b, c, d = distinct_sizes(rng, 4)
        out = []
        for t, g in pairs(a, b, c, d):
            out.append((f"target {t} from g {g}", {"target": rng.standard_normal(t), "g": rng.standard_normal(g)}))
        if number_target:  # "target can be ... a Python number (shape ())": it has no .shape or .ndim
            out.append((f"target a Python float from g {(c, d)}",
                        {"target": float(rng.standard_normal()), "g": rng.standard_normal((c, d))}))
        return out
    return make


def _sum_leading(target, g):
    g = np.asarray(g)
    while g.ndim > np.ndim(target):
        g = g.sum(axis=0)
    return g


UNBROADCAST_MISTAKES = (
    Mistake(lambda x: x["g"], "no unbroadcast at all: the gradient keeps the broadcast shape."),
    Mistake(lambda x: _sum_leading(x["target"], x["g"]),
            "only the added leading axes are summed; axes where the target has size 1 must be summed"
            " too (with keepdims)."),
)


# --------------------------------------------------------------------------- elementwise VJPs
def _arith_same(rng):
    a, b, c = distinct_sizes(rng, 3)
    return _labelled([
        _vjp_case(rng, "add", [(a, b), (a, b)]),
        _vjp_case(rng, "sub", [(b, c), (b, c)]),
        _vjp_case(rng, "mul", [(a, c), (a, c)]),
        _vjp_case(rng, "div", [(c, a), (c, a)], away_from_zero=(1,)),
        _vjp_case(rng, "neg", [(a, b, c)]),
    ])


def _arith_broadcast(rng):
    a, b, c, d = distinct_sizes(rng, 4)
    return _labelled([
        _vjp_case(rng, "add", [(a, 1), (b,)]),
        _vjp_case(rng, "sub", [(d, a, b), (a, 1)]),
        _vjp_case(rng, "mul", [(), (a, b)]),
        _vjp_case(rng, "div", [(c, 1, a), (b, 1)], away_from_zero=(1,)),
        _vjp_case(rng, "mul", [(1, b), (c, a, 1)]),
    ])


def _pow_cases(rng):
    a, b, c = distinct_sizes(rng, 3)
    neg = lambda s: rng.standard_normal(s) - 0.3  # noqa: E731  (mostly negative bases)
    cases = [
        _vjp_case(rng, "pow", None, args=[neg((a, b)), np.array(2.0)], graded=1),
        _vjp_case(rng, "pow", None, args=[neg((b,)), np.array(3.0)], graded=1),
        _vjp_case(rng, "pow", None, args=[rng.choice([-1.0, 1.0], (a, c)) * rng.uniform(0.5, 2, (a, c)),
                                          np.array(-1.0)], graded=1),
        _vjp_case(rng, "pow", [(a, b), ()], positive=(0,), args=[rng.uniform(0.5, 2, (a, b)),
                                                                  np.array(rng.uniform(0.3, 0.8))]),
        _vjp_case(rng, "pow", None, args=[rng.uniform(0.5, 2, (c, b)), rng.uniform(-1.5, 2.5, (b,))]),
    ]
    out = []
    for case in cases:
        x, p = case["args"]
        what = "x-gradient only, negative bases" if "graded" in case else "both gradients, positive bases"
        out.append((f"pow_vjp on x {x.shape}, p {p.shape} ({what})", case))
    # x = 0 in the base: the exponent's gradient is 0 there, and p = 0 must not compute 0 ** -1
    zeros_in = lambda s: rng.uniform(0.5, 2, s) * (rng.uniform(size=s) < 0.6)  # noqa: E731
    for p, what in ((np.array(0.0), "p = 0"), (np.array(float(rng.integers(2, 4))), "integer p")):
        x = zeros_in((b, a))
        x.flat[rng.integers(x.size)] = 0.0  # at least one zero
        out.append((f"pow_vjp on x {x.shape} with zeros, {what} (both gradients)",
                    _vjp_case(rng, "pow", None, args=[x, p])))
    return out


def _unary_cases(rng):
    a, b, c = distinct_sizes(rng, 3)
    return _labelled([
        _vjp_case(rng, "exp", [(a, b)]),
        _vjp_case(rng, "log", [(b, c)], positive=(0,)),
        _vjp_case(rng, "tanh", [(c, a, 1)]),
        _vjp_case(rng, "exp", [()]),
    ])


def _maximum_distinct(rng):
    a, b, c = distinct_sizes(rng, 3)
    return _labelled([
        _vjp_case(rng, "maximum", [(a, b), (a, b)]),
        _vjp_case(rng, "maximum", [(a, 1), (b,)]),
        _vjp_case(rng, "maximum", [(c, a, b), ()]),
    ])


def _maximum_ties(rng):
    a, b, c = distinct_sizes(rng, 3)
    ints = lambda s: rng.integers(-2, 3, size=s).astype(np.float64)  # noqa: E731  (ties are frequent)
    return [
        (f"maximum_vjp on {(a, b)} and {(a, b)} with ties",
         _vjp_case(rng, "maximum", None, args=[ints((a, b)), ints((a, b))])),
        (f"maximum_vjp on {(a, 1)} and {(b,)} with ties and broadcasting",
         _vjp_case(rng, "maximum", None, args=[ints((a, 1)), ints((b,))])),
        (f"maximum_vjp of x against 0.0 (a ReLU) with zeros in x {(c,)}",
         _vjp_case(rng, "maximum", None, args=[ints((c,)), np.array(0.0)])),
    ]


# --------------------------------------------------------------------------- matmul
def _matmul_matrix(rng):
    m, n, p, q = distinct_sizes(rng, 4)
    return _labelled([_vjp_case(rng, "matmul", [(m, n), (n, p)]), _vjp_case(rng, "matmul", [(q, m), (m, n)]),
                      _vjp_case(rng, "matmul", [(p, 1), (1, q)])])


def _matmul_vector(rng):
    m, n, p = distinct_sizes(rng, 3)
    return _labelled([_vjp_case(rng, "matmul", [(n,), (n,)]), _vjp_case(rng, "matmul", [(m, n), (n,)]),
                      _vjp_case(rng, "matmul", [(n,), (n, p)])])


def _matmul_batched(rng):
    m, n, p, k = distinct_sizes(rng, 4)
    return _labelled([_vjp_case(rng, "matmul", [(k, m, n), (k, n, p)]),
                      _vjp_case(rng, "matmul", [(3, 1, m, n), (k, n, p)]),
                      _vjp_case(rng, "matmul", [(k, m, n), (n, p)]),
                      _vjp_case(rng, "matmul", [(m, n), (2, k, n, p)])])


def _matmul_vector_nd(rng):
    m, n, p, k = distinct_sizes(rng, 4)
    return _labelled([_vjp_case(rng, "matmul", [(n,), (k, n, p)]), _vjp_case(rng, "matmul", [(k, m, n), (n,)]),
                      _vjp_case(rng, "matmul", [(m,), (2, k, m, p)]), _vjp_case(rng, "matmul", [(2, k, m, n), (n,)])])


# --------------------------------------------------------------------------- reductions and shapes
def _reduction_cases(op):
    def make(rng):
        a, b, c = distinct_sizes(rng, 3)
        return _labelled([
            _vjp_case(rng, op, [(a, b)]),
            _vjp_case(rng, op, [(a, b)], kwargs={"axis": 1}),
            _vjp_case(rng, op, [(a, b, c)], kwargs={"axis": -1}),
            _vjp_case(rng, op, [(a, b, c)], kwargs={"axis": (0, 2)}),
            _vjp_case(rng, op, [(a, b, c)], kwargs={"axis": (0, -1), "keepdims": True}),
            _vjp_case(rng, op, [(b, a)], kwargs={"axis": None, "keepdims": True}),
        ])
    return make


def _transpose_cases(rng):
    a, b, c = distinct_sizes(rng, 3)
    return _labelled([
        _vjp_case(rng, "transpose", [(a, b)]),
        _vjp_case(rng, "transpose", [(a, b, c)]),
        _vjp_case(rng, "transpose", [(a, b, c)], kwargs={"axes": (1, 2, 0)}),
        _vjp_case(rng, "transpose", [(c, a, b, 2)], kwargs={"axes": (2, 0, 3, 1)}),
    ])


def _reshape_cases(rng):
    a, b, c = distinct_sizes(rng, 3)
    return _labelled([
        _vjp_case(rng, "reshape", [(a, b, c)], kwargs={"shape": (a * b, c)}),
        _vjp_case(rng, "reshape", [(a, b)], kwargs={"shape": (-1,)}),
        _vjp_case(rng, "reshape", [()], kwargs={"shape": (1, 1)}),
    ])


# The ops of a per-op check are the NAME_vjp functions its spec calls; their mistakes come from the table.
VJP_CASES = {
    "elementwise.arith": _arith_same,
    "elementwise.arith_broadcast": _arith_broadcast,
    "elementwise.pow": _pow_cases,
    "elementwise.unary": _unary_cases,
    "maximum.distinct": _maximum_distinct,
    "maximum.ties": _maximum_ties,
    "matmul.matrix": _matmul_matrix,
    "matmul.vector": _matmul_vector,
    "matmul.batched": _matmul_batched,
    "matmul.vector_nd": _matmul_vector_nd,
    "reduce.sum": _reduction_cases("sum"),
    "reduce.mean": _reduction_cases("mean"),
    "shape.transpose": _transpose_cases,
    "shape.reshape": _reshape_cases,
}


def register(registry):
    registry.add("unbroadcast.leading_axes",
                 cases=_unbroadcast_cases(lambda a, b, c, d: [((b,), (a, b)), ((b, c), (d, b, c)), ((), (a, b)),
                                                              ((c,), (a, d, c))], number_target=True),
                 reference=_unbroadcast_reference, mistakes=UNBROADCAST_MISTAKES)
    registry.add("unbroadcast.size_one_axes",
                 cases=_unbroadcast_cases(lambda a, b, c, d: [((a, 1), (a, b)), ((1, b), (c, a, b)),
                                                              ((a, 1, c), (d, a, b, c)), ((1, 1), (a, b)),
                                                              ((a, 1), (a, 1))]),
                 reference=_unbroadcast_reference, mistakes=UNBROADCAST_MISTAKES)
    for check_id, cases in VJP_CASES.items():
        registry.add(check_id, cases=cases, reference=vjp_reference, mistakes=mistakes_of(registry.specs[check_id]))
