"""Checks for the vjp_autograd assignment, grader side: cases, references, mistake models.

How each check calls the student's code is declared once, in :mod:`dlgrade.hw.vjp_autograd`
(``SPECS``); this module binds each check id to its case generator, its reference and
its modelled mistakes.

Every reference is computed in float64 by torch.autograd. The per-op VJPs and
``unbroadcast`` are also recomputed with HIPS autograd (``make_vjp``); if the
two libraries disagree the reference raises, and the case fails closed rather
than being scored against a doubtful reference.

The Tensor checks write each expression once, against the assignment's Tensor
API (``student.EXPRS``). In the kernel the expression runs on the student's
``Tensor``; here it runs on :class:`_TorchTensor`, a thin wrapper that gives torch
tensors the same API, so the reference is torch's own backward pass.
"""
from __future__ import annotations

import numpy as np

from dlgrade.hw import vjp_autograd as student
from dlgrade.hw.vjp_autograd import (CHAIN_OPS, DIAMOND_LEVELS, EXPRS, _acc_graphs, _error_outcome,
                                     _nj_fn)

from ..checks import Mistake, Registry
from ._torchref import tensor as _tt
from ._torchref import to_numpy as _np
from ._torchref import torch as _torch

REGISTRY = Registry(student.SPECS)
FORBIDDEN_IN_SOLUTIONS = {"torch", "autograd", "jax", "functorch", "tensorflow"}


# --------------------------------------------------------------------------- references
def _torch_vjp(fn, primals, cot):
    """Gradient of <cot, fn(*primals)> with respect to each primal (torch, float64)."""
    torch = _torch()
    xs = [_tt(p, True) for p in primals]
    out = fn(*xs)
    grads = torch.autograd.grad(out, xs, grad_outputs=_tt(cot), allow_unused=True)
    return tuple(np.zeros(np.shape(p)) if g is None else _np(g) for p, g in zip(primals, grads))


def _autograd_vjp(fn, primals, cot):
    from autograd import make_vjp
    primals = [np.asarray(p, dtype=np.float64) for p in primals]
    out = []
    for i in range(len(primals)):
        vjp, _ = make_vjp(fn, argnum=i)(*primals)
        out.append(np.asarray(vjp(np.asarray(cot, dtype=np.float64)), dtype=np.float64))
    return tuple(out)


def _cross_checked(fns, primals, cot, what):
    """torch's VJP, refused unless HIPS autograd agrees (NaN where both give NaN)."""
    t_fn, a_fn = fns
    with np.errstate(all="ignore"):
        ref = _torch_vjp(t_fn, primals, cot)
        alt = _autograd_vjp(a_fn, primals, cot)
    for r, a in zip(ref, alt):
        if np.shape(r) != np.shape(a) or not np.allclose(r, a, rtol=1e-10, atol=1e-12, equal_nan=True):
            raise RuntimeError(f"torch and autograd disagree on the VJP of {what}")
    return ref


def _t_axes(x, axis):
    return tuple(range(x.dim())) if axis is None else axis


def _t_perm(x, axes):
    return tuple(reversed(range(x.dim()))) if axes is None else tuple(axes)


def _anp():
    import autograd.numpy as anp
    return anp


_OPS = {  # name -> (torch function, autograd.numpy function), both of the primals only
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "neg": (lambda x: -x, lambda x: -x),
    "pow": (lambda x, p: x ** p, lambda x, p: x ** p),
    "exp": (lambda x: x.exp(), lambda x: _anp().exp(x)),
    "log": (lambda x: x.log(), lambda x: _anp().log(x)),
    "tanh": (lambda x: x.tanh(), lambda x: _anp().tanh(x)),
    "matmul": (lambda a, b: a @ b, lambda a, b: _anp().matmul(a, b)),
    "maximum": (lambda a, b: _torch().maximum(a, b), lambda a, b: _anp().maximum(a, b)),
}


def _kw_op(op, kwargs):
    """(torch fn, autograd fn) of one primal for ops that take keyword arguments."""
    torch = _torch()
    if op == "sum":
        ax, kd = kwargs.get("axis"), kwargs.get("keepdims", False)
        return (lambda x: torch.sum(x, dim=_t_axes(x, ax), keepdim=kd),
                lambda x: _anp().sum(x, axis=ax, keepdims=kd))
    if op == "mean":
        ax, kd = kwargs.get("axis"), kwargs.get("keepdims", False)
        return (lambda x: torch.mean(x, dim=_t_axes(x, ax), keepdim=kd),
                lambda x: _anp().mean(x, axis=ax, keepdims=kd))
    if op == "transpose":
        axes = kwargs.get("axes")
        return (lambda x: x.permute(*_t_perm(x, axes)), lambda x: _anp().transpose(x, axes))
    if op == "reshape":
        shape = kwargs["shape"]
        return (lambda x: x.reshape(shape), lambda x: _anp().reshape(x, shape))
    raise KeyError(op)


def _vjp_reference(inp):
    op, args, cot, kwargs = inp["op"], inp["args"], inp["g"], inp.get("kwargs", {})
    fns = _OPS[op] if op in _OPS else _kw_op(op, kwargs)
    ref = _cross_checked(fns, args, cot, op)
    return ref[: inp.get("graded", len(ref))]


def _unbroadcast_reference(inp):
    shape = np.shape(inp["g"])
    ref = _torch_vjp(lambda t: t.expand(*shape), [inp["target"]], inp["g"])[0]
    alt = _autograd_vjp(lambda t: t + _anp().zeros(shape), [inp["target"]], inp["g"])[0]  # autograd unbroadcasts
    if ref.shape != alt.shape or not np.allclose(ref, alt, rtol=1e-10, atol=1e-12):
        raise RuntimeError("torch and autograd disagree on unbroadcast")
    return ref


# --------------------------------------------------------------------------- case builders
def _sizes(rng, n, lo=2, hi=5):
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
            out_shape = np.shape(_forward(op, args, kwargs or {}))
    case = {"op": op, "args": args, "g": rng.standard_normal(out_shape), "kwargs": dict(kwargs or {})}
    if graded is not None:
        case["graded"] = graded
    return case


def _forward(op, args, kwargs):
    fns = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "neg": np.negative,
           "pow": np.power, "exp": np.exp, "log": np.log, "tanh": np.tanh, "matmul": np.matmul,
           "maximum": np.maximum}
    if op in fns:
        return fns[op](*args)
    x = args[0]
    if op == "sum":
        return np.sum(x, **kwargs)
    if op == "mean":
        return np.mean(x, **kwargs)
    if op == "transpose":
        return np.transpose(x, kwargs.get("axes"))
    if op == "reshape":
        return np.reshape(x, kwargs["shape"])
    raise KeyError(op)


def _label(case):
    shapes = " and ".join(str(np.shape(a)) for a in case["args"])
    kw = ", ".join(f"{k}={v!r}" for k, v in case["kwargs"].items())
    return f"{case['op']}_vjp on {shapes}" + (f" with {kw}" if kw else "")


def _labelled(cases):
    return [(_label(c), c) for c in cases]


def _unbroadcast_cases(pairs):
    def make(rng):
        a, b, c, d = _sizes(rng, 4)
        out = []
        for t, g in pairs(a, b, c, d):
            out.append((f"target {t} from g {g}", {"target": rng.standard_normal(t), "g": rng.standard_normal(g)}))
        return out
    return make


# --------------------------------------------------------------------------- mistake models
def _sum_leading(target, g):
    g = np.asarray(g)
    while g.ndim > np.ndim(target):
        g = g.sum(axis=0)
    return g


def _ub(target, g):
    shape = np.shape(target)
    g = np.asarray(g, dtype=np.float64)
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1)
    return np.sum(g, axis=axes, keepdims=True).reshape(shape)


def _model(fn):
    """A Mistake answer from a numpy function of (g, *args, **kwargs)."""
    def answer(inp):
        with np.errstate(all="ignore"):
            out = fn(inp["g"], *inp["args"], **inp.get("kwargs", {}))
        return out[: inp["graded"]] if "graded" in inp else out
    return answer


def _when(op, fn):
    def answer(inp):
        if inp["op"] != op:
            raise KeyError("model does not apply")
        return _model(fn)(inp)
    return answer


UNBROADCAST_MISTAKES = (
    Mistake(lambda x: x["g"], "no unbroadcast at all: the gradient keeps the broadcast shape."),
    Mistake(lambda x: _sum_leading(x["target"], x["g"]),
            "only the added leading axes are summed; axes where the target has size 1 must be summed"
            " too (with keepdims)."),
)
ARITH_MISTAKES = (
    Mistake(_when("div", lambda g, a, b: (_ub(a, g / b), _ub(b, g * a / b ** 2))),
            "the gradient of a/b with respect to b is -g*a/b**2 (the sign is missing)."),
    Mistake(_when("sub", lambda g, a, b: (_ub(a, g), _ub(b, g))),
            "the gradient of a-b with respect to b is -g."),
    Mistake(_when("add", lambda g, a, b: (g, g)), "the gradients were not unbroadcast to the input shapes."),
    Mistake(_when("mul", lambda g, a, b: (g * b, g * a)), "the gradients were not unbroadcast to the input shapes."),
)
UNARY_MISTAKES = (
    Mistake(_when("log", lambda g, x: (g * x,)), "d log(x)/dx is 1/x, so the VJP is g / x, not g * x."),
    Mistake(_when("tanh", lambda g, x: (g * (1 - np.tanh(x)),)), "d tanh(x)/dx is 1 - tanh(x)**2 (squared)."),
    Mistake(_when("exp", lambda g, x: (np.exp(x),)), "the incoming gradient g must multiply exp(x)."),
)
MAXIMUM_MISTAKES = (
    Mistake(_model(lambda g, a, b: (_ub(a, g * (a > b)), _ub(b, g * (a <= b)))),
            "on ties the whole gradient went to b; torch and autograd give g/2 to each side."),
    Mistake(_model(lambda g, a, b: (_ub(a, g * (a >= b)), _ub(b, g * (a < b)))),
            "on ties the whole gradient went to a; torch and autograd give g/2 to each side."),
    Mistake(_model(lambda g, a, b: (_ub(a, g * (a >= b)), _ub(b, g * (a <= b)))),
            "on ties both sides got the whole gradient; torch and autograd give g/2 to each side."),
)
MATMUL_MISTAKES = (
    Mistake(_model(lambda g, a, b: (np.swapaxes(a, -1, -2) @ g, g @ np.swapaxes(b, -1, -2))),
            "the two gradients are swapped: dL/dA = G B^T and dL/dB = A^T G."),
)
MEAN_MISTAKES = (
    Mistake(_when("mean", lambda g, x, axis=None, keepdims=False: (
        np.broadcast_to(g if keepdims or axis is None else np.expand_dims(g, axis), np.shape(x)).copy(),)),
        "the mean's VJP is the sum's VJP divided by the number of averaged entries (the 1/n is missing)."),
)
TRANSPOSE_MISTAKES = (
    Mistake(_when("transpose", lambda g, x, axes=None: (np.transpose(g, axes),)),
            "the VJP of a permutation applies the *inverse* permutation, np.argsort(axes), to g."),
)
POW_MISTAKES = (
    Mistake(_model(lambda g, x, p: (_ub(x, g * p * np.exp((p - 1) * np.log(x))),
                                    _ub(p, g * x ** p * np.log(x)))),
            "x**p written as exp(p*log(x)) gives NaN for negative x; use p * x**(p-1)."),
)


# --------------------------------------------------------------------------- unbroadcast
REGISTRY.add(
    "unbroadcast.leading_axes",
    cases=_unbroadcast_cases(lambda a, b, c, d: [((b,), (a, b)), ((b, c), (d, b, c)), ((), (a, b)),
                                                  ((c,), (a, d, c))]),
    reference=_unbroadcast_reference,
    mistakes=UNBROADCAST_MISTAKES,
)
REGISTRY.add(
    "unbroadcast.size_one_axes",
    cases=_unbroadcast_cases(lambda a, b, c, d: [((a, 1), (a, b)), ((1, b), (c, a, b)), ((a, 1, c), (d, a, b, c)),
                                                  ((1, 1), (a, b)), ((a, 1), (a, 1))]),
    reference=_unbroadcast_reference,
    mistakes=UNBROADCAST_MISTAKES,
)


# --------------------------------------------------------------------------- elementwise VJPs
def _arith_same(rng):
    a, b, c = _sizes(rng, 3)
    return _labelled([
        _vjp_case(rng, "add", [(a, b), (a, b)]),
        _vjp_case(rng, "sub", [(b, c), (b, c)]),
        _vjp_case(rng, "mul", [(a, c), (a, c)]),
        _vjp_case(rng, "div", [(c, a), (c, a)], away_from_zero=(1,)),
        _vjp_case(rng, "neg", [(a, b, c)]),
    ])


def _arith_broadcast(rng):
    a, b, c, d = _sizes(rng, 4)
    return _labelled([
        _vjp_case(rng, "add", [(a, 1), (b,)]),
        _vjp_case(rng, "sub", [(d, a, b), (a, 1)]),
        _vjp_case(rng, "mul", [(), (a, b)]),
        _vjp_case(rng, "div", [(c, 1, a), (b, 1)], away_from_zero=(1,)),
        _vjp_case(rng, "mul", [(1, b), (c, a, 1)]),
    ])


def _pow_cases(rng):
    a, b, c = _sizes(rng, 3)
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
    return out


def _unary_cases(rng):
    a, b, c = _sizes(rng, 3)
    return _labelled([
        _vjp_case(rng, "exp", [(a, b)]),
        _vjp_case(rng, "log", [(b, c)], positive=(0,)),
        _vjp_case(rng, "tanh", [(c, a, 1)]),
        _vjp_case(rng, "exp", [()]),
    ])


def _maximum_distinct(rng):
    a, b, c = _sizes(rng, 3)
    return _labelled([
        _vjp_case(rng, "maximum", [(a, b), (a, b)]),
        _vjp_case(rng, "maximum", [(a, 1), (b,)]),
        _vjp_case(rng, "maximum", [(c, a, b), ()]),
    ])


def _maximum_ties(rng):
    a, b, c = _sizes(rng, 3)
    ints = lambda s: rng.integers(-2, 3, size=s).astype(np.float64)  # noqa: E731  (ties are frequent)
    return [
        (f"maximum_vjp on {(a, b)} and {(a, b)} with ties",
         _vjp_case(rng, "maximum", None, args=[ints((a, b)), ints((a, b))])),
        (f"maximum_vjp on {(a, 1)} and {(b,)} with ties and broadcasting",
         _vjp_case(rng, "maximum", None, args=[ints((a, 1)), ints((b,))])),
        (f"maximum_vjp of x against 0.0 (a ReLU) with zeros in x {(c,)}",
         _vjp_case(rng, "maximum", None, args=[ints((c,)), np.array(0.0)])),
    ]


def _vjp_check(id, cases, mistakes=()):
    REGISTRY.add(id, cases=cases, reference=_vjp_reference, mistakes=mistakes)


_vjp_check("elementwise.arith", _arith_same, ARITH_MISTAKES)
_vjp_check("elementwise.arith_broadcast", _arith_broadcast, ARITH_MISTAKES)
_vjp_check("elementwise.pow", _pow_cases, POW_MISTAKES)
_vjp_check("elementwise.unary", _unary_cases, UNARY_MISTAKES)
_vjp_check("maximum.distinct", _maximum_distinct, MAXIMUM_MISTAKES)
_vjp_check("maximum.ties", _maximum_ties, MAXIMUM_MISTAKES)


# --------------------------------------------------------------------------- matmul
def _matmul_matrix(rng):
    m, n, p, q = _sizes(rng, 4)
    return _labelled([_vjp_case(rng, "matmul", [(m, n), (n, p)]), _vjp_case(rng, "matmul", [(q, m), (m, n)]),
                      _vjp_case(rng, "matmul", [(p, 1), (1, q)])])


def _matmul_vector(rng):
    m, n, p = _sizes(rng, 3)
    return _labelled([_vjp_case(rng, "matmul", [(n,), (n,)]), _vjp_case(rng, "matmul", [(m, n), (n,)]),
                      _vjp_case(rng, "matmul", [(n,), (n, p)])])


def _matmul_batched(rng):
    m, n, p, k = _sizes(rng, 4)
    return _labelled([_vjp_case(rng, "matmul", [(k, m, n), (k, n, p)]),
                      _vjp_case(rng, "matmul", [(3, 1, m, n), (k, n, p)]),
                      _vjp_case(rng, "matmul", [(k, m, n), (n, p)]),
                      _vjp_case(rng, "matmul", [(m, n), (2, k, n, p)])])


def _matmul_vector_nd(rng):
    m, n, p, k = _sizes(rng, 4)
    return _labelled([_vjp_case(rng, "matmul", [(n,), (k, n, p)]), _vjp_case(rng, "matmul", [(k, m, n), (n,)]),
                      _vjp_case(rng, "matmul", [(m,), (2, k, m, p)]), _vjp_case(rng, "matmul", [(2, k, m, n), (n,)])])


_vjp_check("matmul.matrix", _matmul_matrix, MATMUL_MISTAKES)
_vjp_check("matmul.vector", _matmul_vector, MATMUL_MISTAKES)
_vjp_check("matmul.batched", _matmul_batched, MATMUL_MISTAKES)
_vjp_check("matmul.vector_nd", _matmul_vector_nd, MATMUL_MISTAKES)


# --------------------------------------------------------------------------- reductions and shapes
def _sum_cases(op):
    def make(rng):
        a, b, c = _sizes(rng, 3)
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
    a, b, c = _sizes(rng, 3)
    return _labelled([
        _vjp_case(rng, "transpose", [(a, b)]),
        _vjp_case(rng, "transpose", [(a, b, c)]),
        _vjp_case(rng, "transpose", [(a, b, c)], kwargs={"axes": (1, 2, 0)}),
        _vjp_case(rng, "transpose", [(c, a, b, 2)], kwargs={"axes": (2, 0, 3, 1)}),
    ])


def _reshape_cases(rng):
    a, b, c = _sizes(rng, 3)
    return _labelled([
        _vjp_case(rng, "reshape", [(a, b, c)], kwargs={"shape": (a * b, c)}),
        _vjp_case(rng, "reshape", [(a, b)], kwargs={"shape": (-1,)}),
        _vjp_case(rng, "reshape", [()], kwargs={"shape": (1, 1)}),
    ])


_vjp_check("reduce.sum", _sum_cases("sum"))
_vjp_check("reduce.mean", _sum_cases("mean"), MEAN_MISTAKES)
_vjp_check("shape.transpose", _transpose_cases, TRANSPOSE_MISTAKES)
_vjp_check("shape.reshape", _reshape_cases)


# --------------------------------------------------------------------------- Tensor
def _normalise_axes(args):
    if len(args) == 1 and (args[0] is None or isinstance(args[0], (tuple, list))):
        return None if args[0] is None else tuple(args[0])
    return tuple(args) or None


class _TorchTensor:
    """torch tensors behind the assignment's Tensor API (grader side only)."""
    __array_ufunc__ = None

    def __init__(self, t):
        self.t = t

    @staticmethod
    def _u(x):
        if isinstance(x, _TorchTensor):
            return x.t
        if isinstance(x, float):  # a constant enters as a number: no tensor built per operation
            return x
        return _tt(x)

    value = property(lambda self: _np(self.t))
    T = property(lambda self: self.transpose())

    def __add__(self, o): return _TorchTensor(self.t + self._u(o))
    def __radd__(self, o): return _TorchTensor(self._u(o) + self.t)
    def __sub__(self, o): return _TorchTensor(self.t - self._u(o))
    def __rsub__(self, o): return _TorchTensor(self._u(o) - self.t)
    def __mul__(self, o): return _TorchTensor(self.t * self._u(o))
    def __rmul__(self, o): return _TorchTensor(self._u(o) * self.t)
    def __truediv__(self, o): return _TorchTensor(self.t / self._u(o))
    def __rtruediv__(self, o): return _TorchTensor(self._u(o) / self.t)
    def __matmul__(self, o): return _TorchTensor(self.t @ self._u(o))
    def __rmatmul__(self, o): return _TorchTensor(self._u(o) @ self.t)
    def __pow__(self, o): return _TorchTensor(self.t ** self._u(o))
    def __neg__(self): return _TorchTensor(-self.t)
    def exp(self): return _TorchTensor(self.t.exp())
    def log(self): return _TorchTensor(self.t.log())
    def tanh(self): return _TorchTensor(self.t.tanh())
    def relu(self): return _TorchTensor(self.t.relu())

    def sum(self, axis=None, keepdims=False):
        return _TorchTensor(_torch().sum(self.t, dim=_t_axes(self.t, axis), keepdim=keepdims))

    def mean(self, axis=None, keepdims=False):
        return _TorchTensor(_torch().mean(self.t, dim=_t_axes(self.t, axis), keepdim=keepdims))

    def maximum(self, o): return _TorchTensor(_torch().maximum(self.t, self._u(o)))
    def transpose(self, *axes): return _TorchTensor(self.t.permute(*_t_perm(self.t, _normalise_axes(axes))))
    def reshape(self, *shape): return _TorchTensor(self.t.reshape(_normalise_axes(shape)))


def _expr_case(rng, expr, leaves, consts=None, cot=True, positive=(), budget=None):
    vals = []
    for i, s in enumerate(leaves):
        vals.append(rng.uniform(0.5, 2.0, size=s) if i in positive else rng.standard_normal(s))
    consts = consts or {}
    case = {"expr": expr, "leaves": vals, "consts": consts}
    if cot:
        case["cot"] = rng.standard_normal(_output_shape(expr, vals, consts))
    if budget:
        case["budget"] = budget
    return case


_SHAPES: dict = {}


def _output_shape(expr, vals, consts) -> tuple:
    """The expression's output shape, which depends on the shapes of its inputs only: learnt once
    per shape (the deep chain is ten thousand operations long)."""
    key = (expr, tuple(np.shape(v) for v in vals), tuple(sorted((k, np.shape(v)) for k, v in consts.items())))
    if key not in _SHAPES:
        _SHAPES[key] = np.shape(EXPRS[expr](*[_NumpyLeaf(v) for v in vals], dict(consts)).value)
    return _SHAPES[key]


class _NumpyLeaf:
    """Forward-only stand-in used to learn an expression's output shape when building cases."""
    __array_ufunc__ = None

    def __init__(self, v):
        self.value = np.asarray(v, dtype=np.float64)

    @staticmethod
    def _v(x):
        return x.value if isinstance(x, _NumpyLeaf) else np.asarray(x, dtype=np.float64)

    def _b(op):  # noqa: N805
        return lambda self, o: _NumpyLeaf(op(self.value, self._v(o)))

    def _r(op):  # noqa: N805
        return lambda self, o: _NumpyLeaf(op(self._v(o), self.value))

    __add__, __radd__ = _b(np.add), _r(np.add)
    __sub__, __rsub__ = _b(np.subtract), _r(np.subtract)
    __mul__, __rmul__ = _b(np.multiply), _r(np.multiply)
    __truediv__, __rtruediv__ = _b(np.divide), _r(np.divide)
    __matmul__, __rmatmul__ = _b(np.matmul), _r(np.matmul)
    __pow__ = _b(np.power)
    maximum = _b(np.maximum)
    T = property(lambda self: _NumpyLeaf(self.value.T))

    def __neg__(self): return _NumpyLeaf(-self.value)
    def exp(self): return _NumpyLeaf(np.exp(self.value))
    def log(self): return _NumpyLeaf(np.log(self.value))
    def tanh(self): return _NumpyLeaf(np.tanh(self.value))
    def relu(self): return _NumpyLeaf(np.maximum(self.value, 0))
    del _b, _r
    def sum(self, axis=None, keepdims=False): return _NumpyLeaf(np.sum(self.value, axis=axis, keepdims=keepdims))
    def mean(self, axis=None, keepdims=False): return _NumpyLeaf(np.mean(self.value, axis=axis, keepdims=keepdims))
    def transpose(self, *axes): return _NumpyLeaf(np.transpose(self.value, _normalise_axes(axes)))
    def reshape(self, *shape): return _NumpyLeaf(self.value.reshape(_normalise_axes(shape)))


def _torch_leaves(inp):
    return [_TorchTensor(_tt(v, True)) for v in inp["leaves"]]


def _expr_reference(inp):
    leaves = _torch_leaves(inp)
    out = EXPRS[inp["expr"]](*leaves, dict(inp["consts"]))
    out.t.backward(_tt(inp["cot"]))
    return {"value": out.value, "grads": tuple(_np(t.t.grad) for t in leaves)}


def _tensor_check(id, cases, reference=_expr_reference):
    REGISTRY.add(id, cases=cases, reference=reference)


def _cases(*specs):
    """Cases from (expr, leaf shapes as a function of sizes, consts maker, positive leaves)."""
    def make(rng):
        s = _sizes(rng, 4)
        out = []
        for expr, shapes, consts, positive in specs:
            case = _expr_case(rng, expr, shapes(*s), consts(rng, *s) if consts else {}, positive=positive)
            out.append((f"{expr} on leaves " + ", ".join(str(np.shape(v)) for v in case["leaves"]), case))
        return out
    return make


_tensor_check("tensor.operators",
              _cases(("ops1", lambda a, b, c, d: [(a, b), (b,), (a, 1)], None, ()),
                     ("ops2", lambda a, b, c, d: [(c, a), (c, a), (a,)], None, (1,)),
                     ("ops3", lambda a, b, c, d: [(b, d), (d,), (b, 1)],
                      lambda r, a, b, c, d: {"k": r.standard_normal((b, d))}, (2,))))
_tensor_check("tensor.reflected",
              _cases(("refl1", lambda a, b, c, d: [(a,), (a,), (c,)],
                      lambda r, a, b, c, d: {"A": r.standard_normal((a, c))}, (1,)),
                     ("refl2", lambda a, b, c, d: [(b, a), (b, a)],
                      lambda r, a, b, c, d: {"k": r.standard_normal((b, a)), "m": r.standard_normal((a,))}, ())))
_tensor_check("tensor.pow",
              _cases(("pow1", lambda a, b, c, d: [(a, b), (a, b)], None, ()),
                     ("pow3", lambda a, b, c, d: [(c,), (c,)], None, ()),
                     ("pow2", lambda a, b, c, d: [(b, c), (b, c), (b, c), (c,)], None, (0, 2))))
_tensor_check("tensor.methods",
              _cases(("meth1", lambda a, b, c, d: [(a, b), (a, b), (c,)], None, (2,)),
                     ("meth2", lambda a, b, c, d: [(a, b, c), (b, 1)], None, ()),
                     ("meth3", lambda a, b, c, d: [(a, b, c), (b, d)], None, ()),
                     ("meth4", lambda a, b, c, d: [(a, b), (b, 1)], None, ())))
_tensor_check("tensor.matmul",
              _cases(("mm1", lambda a, b, c, d: [(a, b), (b, c)], None, ()),
                     ("mm2", lambda a, b, c, d: [(a, b), (b, c), (c,)], None, ()),
                     ("mm3", lambda a, b, c, d: [(d, a, b), (b, c)], None, ()),
                     # stacks on both sides: where np.dot and matmul part ways
                     ("mm3", lambda a, b, c, d: [(d, a, b), (d, b, c)], None, ())))


# --------------------------------------------------------------------------- backward
def _level_consts(rng, n):
    return {"c": rng.uniform(0.5, 1.0, n), "d": rng.uniform(0.3, 0.6, n)}


_tensor_check("backward.shared",
              _cases(("shared1", lambda a, b, c, d: [(a, b)], None, ()),
                     ("shared2", lambda a, b, c, d: [(c,), (c,)], None, ()),
                     ("shared3", lambda a, b, c, d: [(a,)], lambda r, *s: _level_consts(r, 3), ())))


def _accumulate_cases(rng):
    a, b, c, d = _sizes(rng, 4)
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
        _acc_graphs(a, b, k).t.backward(_tt(inp["cots"][k]))
        snaps.append((_np(a.t.grad), _np(b.t.grad)))
    for t in (a, b):
        t.t.grad.zero_()
    zeroed = (_np(a.t.grad), _np(b.t.grad))
    _acc_graphs(a, b, 2).t.backward(_tt(inp["cots"][2]))
    snaps.append((_np(a.t.grad), _np(b.t.grad)))
    return {"after_first": snaps[0], "after_second": snaps[1], "after_zero_grad": zeroed,
            "after_third": snaps[2]}


_tensor_check("backward.accumulate", _accumulate_cases, reference=_accumulate_reference)


def _seed_cases(rng):
    a, b, c, d = _sizes(rng, 4)
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
        return _error_outcome(out.t.backward, (ValueError, RuntimeError))
    out.t.backward()
    return tuple(_np(t.t.grad) for t in leaves)


_tensor_check("backward.seed", _seed_cases, reference=_seed_reference)


def _chain_cases(rng):
    a, b, _, _ = _sizes(rng, 4)
    consts = lambda: {"c": rng.uniform(0.998, 1.002, 17), "d": rng.uniform(-1e-3, 1e-3, 13)}  # noqa: E731
    shape = (a,) if rng.uniform() < 0.5 else (b, 2)
    return [(f"{CHAIN_OPS}-op chain from a leaf of shape {shape}", _expr_case(rng, "chain", [shape], consts()))]


def _diamond_cases(rng):
    a, b, _, _ = _sizes(rng, 4)
    return [(f"{DIAMOND_LEVELS}-level diamond from a leaf of shape {(a,)}",
             _expr_case(rng, "diamond", [(a,)], _level_consts(rng, DIAMOND_LEVELS))),
            (f"{DIAMOND_LEVELS}-level diamond from a leaf of shape {(2, b)}",
             _expr_case(rng, "diamond", [(2, b)], _level_consts(rng, DIAMOND_LEVELS)))]


_tensor_check("backward.long_chain", _chain_cases)
_tensor_check("backward.diamond", _diamond_cases)


# --------------------------------------------------------------------------- numerical Jacobian
def _nj_cases(kinds):
    def make(rng):
        a, b, c, _ = _sizes(rng, 4, lo=2, hi=3)
        out = []
        for kind in kinds:
            if kind == "tanh_linear":
                x, W = rng.standard_normal(b), rng.standard_normal((a, b)) * 0.7
            elif kind == "scalar":
                x, W = rng.standard_normal(c), np.zeros(0)
            elif kind == "matrix_in":
                x, W = rng.standard_normal((a, b)), rng.standard_normal((b, c)) * 0.7
            else:
                x, W = rng.standard_normal((a, a)), rng.standard_normal((a, a))
            out.append((f"{kind}: x of shape {x.shape}", {"f": kind, "x": x, "W": W}))
        return out
    return make


def _nj_reference(inp):
    torch = _torch()
    from autograd import jacobian
    f_t = _nj_fn(inp["f"], torch, _tt(inp["W"]))
    ref = _np(torch.autograd.functional.jacobian(f_t, _tt(inp["x"])))
    alt = jacobian(_nj_fn(inp["f"], _anp(), inp["W"]))(np.asarray(inp["x"], dtype=np.float64))
    if ref.shape != alt.shape or not np.allclose(ref, alt, rtol=1e-10, atol=1e-12):
        raise RuntimeError("torch and autograd disagree on the Jacobian")
    return ref


def _forward_difference(inp, h=1e-6):
    f = _nj_fn(inp["f"], np, inp["W"])
    x = np.asarray(inp["x"], dtype=np.float64)
    y0 = np.asarray(f(x))
    J = np.empty(y0.shape + x.shape)
    for idx in np.ndindex(*x.shape):
        xp = x.copy()
        xp[idx] += h
        J[(Ellipsis,) + idx] = (np.asarray(f(xp)) - y0) / h
    return J


NJ_MISTAKES = (
    Mistake(_forward_difference, "a forward difference (f(x+h)-f(x))/h is only first-order accurate; use the"
                                 " central difference (f(x+h)-f(x-h))/(2h)."),
    Mistake(lambda inp: _forward_difference(inp, 1e-10),
            "a forward difference with h=1e-10 (the seed notes' version) loses most digits to cancellation;"
            " use the central difference with h=1e-6."),
)
for _cid, _kinds in (("numjac.vector", ("tanh_linear", "scalar")),
                     ("numjac.tensor", ("matrix_in", "matrix_out"))):
    REGISTRY.add(_cid, cases=_nj_cases(_kinds), reference=_nj_reference, mistakes=NJ_MISTAKES)


# --------------------------------------------------------------------------- logistic regression
def _logreg_cases(rng):
    out = []
    for n, d, steps in ((24, 3, 20), (30, 4, 25)):
        X = rng.standard_normal((n, d))
        w_true = rng.standard_normal(d) * 1.5
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(X @ w_true - 0.3)))).astype(np.float64)
        out.append((f"{n} samples, {d} features, {steps} steps", {
            "X": X, "y": y, "lr": float(rng.uniform(0.3, 0.8)), "steps": steps,
            "w0": rng.standard_normal(d) * 0.1, "b0": float(rng.standard_normal() * 0.1)}))
    return out


def _logreg_reference(inp):
    torch = _torch()
    X, y = _tt(inp["X"]), _tt(inp["y"])
    w, b = _tt(inp["w0"], True), _tt(inp["b0"], True)
    losses = []
    for _ in range(inp["steps"]):
        p = torch.sigmoid(X @ w + b)
        loss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
        losses.append(loss.item())
        gw, gb = torch.autograd.grad(loss, [w, b])
        with torch.no_grad():
            w = (w - inp["lr"] * gw).requires_grad_(True)
            b = (b - inp["lr"] * gb).requires_grad_(True)
    return {"w": _np(w), "b": _np(b), "losses": np.array(losses)}


REGISTRY.add("logreg.fit", cases=_logreg_cases, reference=_logreg_reference)

REGISTRY.complete()
