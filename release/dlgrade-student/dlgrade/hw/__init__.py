"""One module per assignment, each exposing ``SPECS`` (how to call the student's code) and ``check``.

These modules hold no case generator, reference or mistake model: those live in the
grader package, which is never installed where student code runs.
"""
from __future__ import annotations

import importlib
import re

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def module(assignment: str):
    if not _NAME.match(assignment or ""):
        raise ImportError(f"no assignment named {assignment!r}")
    return importlib.import_module(f"dlgrade.hw.{assignment}")


def specs(assignment: str):
    return module(assignment).SPECS
