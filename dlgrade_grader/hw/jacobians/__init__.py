"""Grader half of the checks for the jacobians assignment (seeds 000, 001, 003, 004).

The student half (:mod:`dlgrade.hw.jacobians`) says how each check calls the
student's code; this package completes every check with its case generator, its
reference and its models of classic mistakes. It is never shipped to students.
One module per part of the notebook, each registering its checks in the
notebook's order; :mod:`.autodiff` holds the two engines the references use.

Every reference is computed by automatic differentiation in float64: HIPS
``autograd`` (``jacobian`` / ``grad``) and ``torch.autograd``. Where both are
cheap they are both computed and must agree; a disagreement is a grader error,
which fails the case closed rather than guessing.

Case design: each function has a ``.values`` check whose shapes are all
different from each other, so a transposed or permuted answer fails on its
shape, and (where a transpose is a classic mistake) a ``.square`` check whose
equal sizes let the wrong answer broadcast, so only the values catch it.
"""
from __future__ import annotations

from dlgrade.hw import jacobians as student

from ...checks import Registry
from .. import DEFAULT_FORBIDDEN
from . import activations, batched, gradient_check, linear_regression, losses, matrix_vector

# numerical differentiation would dodge the derivation as surely as autodiff
FORBIDDEN_IN_SOLUTIONS = DEFAULT_FORBIDDEN | {"scipy.optimize", "scipy.differentiate", "scipy.misc", "numdifftools"}

REGISTRY = Registry(student.SPECS)
for _part in (linear_regression, losses, activations, matrix_vector, batched, gradient_check):
    _part.register(REGISTRY)
REGISTRY.complete()
