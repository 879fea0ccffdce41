"""Catalogues of synthetic submissions, one module per assignment, plus shared attacks.

Each assignment module defines ``WRONG``, ``ALTERNATIVES`` and ``ATTACKS``
(lists of :class:`dlgrade.grader.submissions.Variant`). ``shared_attacks``
holds attacks that need no knowledge of any assignment.
"""
import importlib

from dlgrade.grader.submissions import BLANK, REFERENCE


def load(assignment: str, include_shared: bool = False, baselines: bool = False) -> list:
    mod = importlib.import_module(f"grader_tests.catalogues.{assignment}")
    out = [REFERENCE, BLANK] if baselines else []
    out += list(mod.WRONG) + list(mod.ALTERNATIVES) + list(getattr(mod, "ATTACKS", []))
    if include_shared:
        shared = importlib.import_module("grader_tests.catalogues.shared_attacks")
        out += list(shared.ATTACKS) + list(shared.ALTERNATIVES)
    return out
