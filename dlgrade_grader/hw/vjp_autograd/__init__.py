"""Checks for the vjp_autograd assignment, grader side: cases, references, mistake models.

How each check calls the student's code is declared once, in :mod:`dlgrade.hw.vjp_autograd`
(``SPECS``); this package binds each check id to its case generator, its reference and
its modelled mistakes:

- :mod:`.ops`: the op table, one row per op of the Tensor API, from which the per-op
  references, the reference Tensor and the per-op mistake models are derived;
- :mod:`.tensor_ref`: the Tensor API over torch (the Tensor references) and over numpy;
- :mod:`.vjp_checks`, :mod:`.tensor_checks`, :mod:`.numjac_and_logreg`: the checks, by section.
"""
from __future__ import annotations

from dlgrade.hw import vjp_autograd as student

from ...checks import Registry
from .. import DEFAULT_FORBIDDEN
from . import numjac_and_logreg, tensor_checks, vjp_checks

REGISTRY = Registry(student.SPECS)
# The course default minus sympy: here the shortcuts are the autodiff libraries, which would
# compute the VJPs and the Tensor's gradients outright.
FORBIDDEN_IN_SOLUTIONS = set(DEFAULT_FORBIDDEN - {"sympy"})

for _section in (vjp_checks, tensor_checks, numjac_and_logreg):
    _section.register(REGISTRY)
del _section

REGISTRY.complete()
