"""The grader's half of each assignment: ``dlgrade_grader.hw.<hw>.REGISTRY``.

An assignment is whatever module or package sits in this folder (names starting
with ``_`` are shared helpers): there is no list to keep. Its student half is
``dlgrade.hw.<hw>``, its notebook ``course/<hw>.cells``; ``missing_halves``
names what an assignment lacks, and the build stops on it.

A module may also set ``FORBIDDEN_IN_SOLUTIONS``: the names a solution cell of
that assignment may not use (the static audit reports it).
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from pathlib import Path

DEFAULT_FORBIDDEN = frozenset({"torch", "autograd", "jax", "functorch", "tensorflow", "sympy"})


def _scan() -> tuple:
    return tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))


ASSIGNMENTS = _scan()


def module(assignment: str):
    if assignment not in ASSIGNMENTS:
        raise ImportError(f"no assignment named {assignment!r}")
    return importlib.import_module(f"dlgrade_grader.hw.{assignment}")


def registry(assignment: str):
    return module(assignment).REGISTRY


def forbidden_in_solutions(assignment: str) -> set:
    return set(getattr(module(assignment), "FORBIDDEN_IN_SOLUTIONS", DEFAULT_FORBIDDEN))


def missing_halves(assignment: str, course: Path) -> list[str]:
    """What an assignment written as ``course/<hw>.cells`` lacks, as sentences (empty: complete)."""
    out = []
    if assignment not in ASSIGNMENTS:
        out.append(f"{assignment}: no grader half (dlgrade_grader/hw/{assignment}.py or a package of that name)")
    if importlib.util.find_spec(f"dlgrade.hw.{assignment}") is None:
        out.append(f"{assignment}: no student half (dlgrade/hw/{assignment}.py)")
    if not (course / f"{assignment}.cells").exists():
        out.append(f"{assignment}: no notebook source ({course.name}/{assignment}.cells)")
    return out
