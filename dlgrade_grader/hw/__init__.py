"""The grader's half of each assignment: ``dlgrade_grader.hw.<hw>.REGISTRY``.

A module may also set ``FORBIDDEN_IN_SOLUTIONS``: the names a solution cell of
that assignment may not use (the static audit reports it).
"""
from __future__ import annotations

import importlib

ASSIGNMENTS = ("probability", "mle_map", "ridge_regression", "jacobians", "vjp_autograd")
DEFAULT_FORBIDDEN = frozenset({"torch", "autograd", "jax", "functorch", "tensorflow", "sympy"})


def module(assignment: str):
    if assignment not in ASSIGNMENTS:
        raise ImportError(f"no assignment named {assignment!r}")
    return importlib.import_module(f"dlgrade_grader.hw.{assignment}")


def registry(assignment: str):
    return module(assignment).REGISTRY


def forbidden_in_solutions(assignment: str) -> set:
    return set(getattr(module(assignment), "FORBIDDEN_IN_SOLUTIONS", DEFAULT_FORBIDDEN))
