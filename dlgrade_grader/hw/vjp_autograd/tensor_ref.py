"""The assignment's Tensor API over torch (the reference) and over numpy (to learn output shapes).

The Tensor checks write each expression once, against the Tensor API (``student.EXPRS``). In the
kernel an expression runs on the student's ``Tensor``; here it runs on :class:`TorchTensor`, so the
reference is torch's own backward pass. Both classes get their operators and methods from the op
table, so they offer exactly the ops the table has.
"""
from __future__ import annotations

import numpy as np

from dlgrade.hw.vjp_autograd import EXPRS, TENSOR_METHODS

from .._torchref import tensor as torch_tensor
from .._torchref import to_numpy
from .ops import OPS


class _TableTensor:
    """The Tensor API over one array library: ``library`` names the op table column that computes."""
    __array_ufunc__ = None  # a numpy array on the left defers to the reflected operators
    library = ""

    def __init__(self, data):
        self.data = data

    def _constant(self, x):
        raise NotImplementedError

    def _operand(self, x):
        return x.data if isinstance(x, type(self)) else self._constant(x)

    def _computed(self, op, *operands, **kwargs):
        return type(self)(getattr(op, self.library)(*operands, **kwargs))

    T = property(lambda self: self.transpose())


def _tensor_attributes(op):
    """(name, function) pairs that put op on the Tensor API, the reflected operator included."""
    if op.arity == 1:
        def unary(self, *args, **kwargs):
            return self._computed(op, self.data, **op.keywords(*args, **kwargs))
        return [(op.tensor, unary)]

    def binary(self, other):
        return self._computed(op, self.data, self._operand(other))

    def reflected(self, other):
        return self._computed(op, self._operand(other), self.data)
    if op.tensor.startswith("__"):
        return [(op.tensor, binary), ("__r" + op.tensor[2:], reflected)]
    return [(op.tensor, binary)]


for _op in OPS.values():
    for _name, _function in _tensor_attributes(_op):
        setattr(_TableTensor, _name, _function)
del _op, _name, _function

# The tensor.methods check promises students these methods; the reference must have each of them.
_MISSING_METHODS = set(TENSOR_METHODS) - set(dir(_TableTensor))
if _MISSING_METHODS:
    raise ImportError(f"no row of the op table gives the Tensor method(s) {sorted(_MISSING_METHODS)}")


class TorchTensor(_TableTensor):
    """torch tensors behind the Tensor API (grader side only)."""
    library = "torch"
    value = property(lambda self: to_numpy(self.data))

    @classmethod
    def leaf(cls, value):
        return cls(torch_tensor(value, True))

    def _constant(self, x):
        if isinstance(x, float):  # a constant enters as a number: no tensor built per operation
            return x
        return torch_tensor(x)


class NumpyTensor(_TableTensor):
    """Forward only: learns an expression's output shape when a case is built."""
    library = "numpy"
    value = property(lambda self: self.data)

    def __init__(self, data):
        super().__init__(np.asarray(data, dtype=np.float64))

    def _constant(self, x):
        return np.asarray(x, dtype=np.float64)


_OUTPUT_SHAPES: dict = {}


def output_shape(expr, values, consts) -> tuple:
    """The expression's output shape, which depends on the shapes of its inputs only: learnt once
    per shape (the deep chain is ten thousand operations long)."""
    key = (expr, tuple(np.shape(v) for v in values), tuple(sorted((k, np.shape(v)) for k, v in consts.items())))
    if key not in _OUTPUT_SHAPES:
        _OUTPUT_SHAPES[key] = np.shape(EXPRS[expr](*[NumpyTensor(v) for v in values], dict(consts)).value)
    return _OUTPUT_SHAPES[key]
