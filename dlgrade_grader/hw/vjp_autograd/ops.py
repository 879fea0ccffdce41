"""The op table: one row per operation of the assignment's Tensor API.

Written in the style of HIPS autograd's ``numpy_vjps.py``: each row holds everything the grader
knows about one op, and the rest of the grader derives from the rows. That covers the per-op
reference VJP, the forward that learns a case's output shape, the torch-backed and numpy-backed
Tensors (:mod:`.tensor_ref`) and the mistake models of every check. Adding an op means adding a row.

A row's functions take the op's primals positionally and its keyword arguments spelt the numpy way
(``axis``/``keepdims``, ``axes``, ``shape``). Students' ``NAME_vjp`` functions get the same keywords,
so a case's ``kwargs`` go unchanged to numpy, torch, autograd and the student.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...checks import Mistake
from .._torchref import torch as torch_module


def autograd_numpy():
    """autograd.numpy, imported on first use like torch: every notebook imports the checks."""
    import autograd.numpy as anp
    return anp


# --------------------------------------------------------------------------- keyword arguments
def _torch_dims(x, axis):
    """numpy's axis for torch's dim: axis=None means every axis, which torch is given by number."""
    return tuple(range(x.dim())) if axis is None else axis


def _torch_permutation(x, axes):
    """np.transpose's axes for permute, which has no default: axes=None reverses them."""
    return tuple(reversed(range(x.dim()))) if axes is None else tuple(axes)


def _axes_argument(args):
    """The axes of t.transpose(1, 0), t.transpose((1, 0)) or t.transpose(): the Tensor contract takes all three."""
    if len(args) == 1 and (args[0] is None or isinstance(args[0], (tuple, list))):
        return None if args[0] is None else tuple(args[0])
    return tuple(args) or None


def _no_keywords():
    return {}


def _reduction_keywords(axis=None, keepdims=False):
    return {"axis": axis, "keepdims": keepdims}


def _transpose_keywords(*axes):
    return {"axes": _axes_argument(axes)}


def _reshape_keywords(*shape):
    return {"shape": _axes_argument(shape)}


# --------------------------------------------------------------------------- mistake models
def unbroadcast(target, g):
    """g summed back to target's shape: the correct half of a model that is wrong elsewhere."""
    shape = np.shape(target)
    g = np.asarray(g, dtype=np.float64)
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1)
    return np.sum(g, axis=axes, keepdims=True).reshape(shape)


@dataclass(frozen=True)
class WrongVJP:
    """A classic wrong NAME_vjp: a numpy function of (g, *primals, **kwargs), and what it gets wrong."""
    vjp: Callable
    message: str


def _answer_of(op_name, vjp):
    """A Mistake answer: the wrong VJP on a case of op_name, and no answer on any other op's case."""
    def answer(inp):
        if inp["op"] != op_name:
            raise KeyError("model does not apply")
        with np.errstate(all="ignore"):
            out = vjp(inp["g"], *inp["args"], **inp.get("kwargs", {}))
        return out[: inp["graded"]] if "graded" in inp else out
    return answer


# --------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Op:
    """One operation: how numpy, torch and autograd.numpy compute it, and how the Tensor spells it.

    ``tensor`` is the Tensor attribute: a binary ``__op__`` also gets its reflected ``__rop__``.
    ``keywords`` turns that method's extra arguments into the keyword arguments of NAME_vjp.
    """
    name: str
    arity: int
    numpy: Callable
    torch: Callable
    autograd: Callable
    tensor: str
    keywords: Callable = _no_keywords
    wrong_vjps: tuple = ()

    @property
    def mistakes(self) -> tuple:
        return tuple(Mistake(_answer_of(self.name, w.vjp), w.message) for w in self.wrong_vjps)


_NOT_UNBROADCAST = "the gradients were not unbroadcast to the input shapes."
_MAXIMUM_TIES = "torch and autograd give g/2 to each side."

# Columns: name, arity, numpy, torch, autograd.numpy, Tensor attribute, then the keyword mapping of
# the ops that take keywords and the wrong VJPs of the ops that have classic ones.
OPS = {op.name: op for op in (
    Op("add", 2, np.add, operator.add, operator.add, "__add__", wrong_vjps=(
        WrongVJP(lambda g, a, b: (g, g), _NOT_UNBROADCAST),)),
    Op("sub", 2, np.subtract, operator.sub, operator.sub, "__sub__", wrong_vjps=(
        WrongVJP(lambda g, a, b: (unbroadcast(a, g), unbroadcast(b, g)),
                 "the gradient of a-b with respect to b is -g."),)),
    Op("mul", 2, np.multiply, operator.mul, operator.mul, "__mul__", wrong_vjps=(
        WrongVJP(lambda g, a, b: (g * b, g * a), _NOT_UNBROADCAST),)),
    Op("div", 2, np.divide, operator.truediv, operator.truediv, "__truediv__", wrong_vjps=(
        WrongVJP(lambda g, a, b: (unbroadcast(a, g / b), unbroadcast(b, g * a / b ** 2)),
                 "the gradient of a/b with respect to b is -g*a/b**2 (the sign is missing)."),)),
    Op("neg", 1, np.negative, operator.neg, operator.neg, "__neg__"),
    Op("pow", 2, np.power, operator.pow, operator.pow, "__pow__", wrong_vjps=(
        WrongVJP(lambda g, x, p: (unbroadcast(x, g * p * np.exp((p - 1) * np.log(x))),
                                  unbroadcast(p, g * x ** p * np.log(x))),
                 "x**p written as exp(p*log(x)) gives NaN for negative x; use p * x**(p-1)."),)),
    Op("exp", 1, np.exp, lambda x: x.exp(), lambda x: autograd_numpy().exp(x), "exp", wrong_vjps=(
        WrongVJP(lambda g, x: (np.exp(x),), "the incoming gradient g must multiply exp(x)."),)),
    Op("log", 1, np.log, lambda x: x.log(), lambda x: autograd_numpy().log(x), "log", wrong_vjps=(
        WrongVJP(lambda g, x: (g * x,), "d log(x)/dx is 1/x, so the VJP is g / x, not g * x."),)),
    Op("tanh", 1, np.tanh, lambda x: x.tanh(), lambda x: autograd_numpy().tanh(x), "tanh", wrong_vjps=(
        WrongVJP(lambda g, x: (g * (1 - np.tanh(x)),), "d tanh(x)/dx is 1 - tanh(x)**2 (squared)."),)),
    Op("matmul", 2, np.matmul, operator.matmul, lambda a, b: autograd_numpy().matmul(a, b), "__matmul__",
       wrong_vjps=(
        WrongVJP(lambda g, a, b: (np.swapaxes(a, -1, -2) @ g, g @ np.swapaxes(b, -1, -2)),
                 "the two gradients are swapped: dL/dA = G B^T and dL/dB = A^T G."),)),
    Op("maximum", 2, np.maximum, lambda a, b: torch_module().maximum(a, b),
       lambda a, b: autograd_numpy().maximum(a, b), "maximum", wrong_vjps=(
        WrongVJP(lambda g, a, b: (unbroadcast(a, g * (a > b)), unbroadcast(b, g * (a <= b))),
                 "on ties the whole gradient went to b; " + _MAXIMUM_TIES),
        WrongVJP(lambda g, a, b: (unbroadcast(a, g * (a >= b)), unbroadcast(b, g * (a < b))),
                 "on ties the whole gradient went to a; " + _MAXIMUM_TIES),
        WrongVJP(lambda g, a, b: (unbroadcast(a, g * (a >= b)), unbroadcast(b, g * (a <= b))),
                 "on ties both sides got the whole gradient; " + _MAXIMUM_TIES))),
    Op("sum", 1, np.sum,
       lambda x, axis=None, keepdims=False: torch_module().sum(x, dim=_torch_dims(x, axis), keepdim=keepdims),
       lambda x, axis=None, keepdims=False: autograd_numpy().sum(x, axis=axis, keepdims=keepdims),
       "sum", _reduction_keywords),
    Op("mean", 1, np.mean,
       lambda x, axis=None, keepdims=False: torch_module().mean(x, dim=_torch_dims(x, axis), keepdim=keepdims),
       lambda x, axis=None, keepdims=False: autograd_numpy().mean(x, axis=axis, keepdims=keepdims),
       "mean", _reduction_keywords, wrong_vjps=(
        WrongVJP(lambda g, x, axis=None, keepdims=False: (np.broadcast_to(
                     g if keepdims or axis is None else np.expand_dims(g, axis), np.shape(x)).copy(),),
                 "the mean's VJP is the sum's VJP divided by the number of averaged entries"
                 " (the 1/n is missing)."),)),
    Op("transpose", 1, lambda x, axes=None: np.transpose(x, axes),
       lambda x, axes=None: x.permute(*_torch_permutation(x, axes)),
       lambda x, axes=None: autograd_numpy().transpose(x, axes),
       "transpose", _transpose_keywords, wrong_vjps=(
        WrongVJP(lambda g, x, axes=None: (np.transpose(g, axes),),
                 "the VJP of a permutation applies the *inverse* permutation, np.argsort(axes), to g."),)),
    Op("reshape", 1, lambda x, shape: np.reshape(x, shape), lambda x, shape: x.reshape(shape),
       lambda x, shape: autograd_numpy().reshape(x, shape), "reshape", _reshape_keywords),
    # Students write no relu_vjp (a Tensor may build relu from other ops), so no check reads this
    # row's autograd column; it is kept right all the same: gradient 0 at 0, like torch's relu.
    Op("relu", 1, lambda x: np.maximum(x, 0), lambda x: x.relu(),
       lambda x: autograd_numpy().where(x > 0, x, 0.0), "relu"),
)}


def mistakes_of(spec) -> tuple:
    """The wrong VJPs of every op whose NAME_vjp the check calls, in the order the spec names them."""
    return tuple(m for function in spec.functions for m in OPS[function.removesuffix("_vjp")].mistakes)
