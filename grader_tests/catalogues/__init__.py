"""Catalogues of synthetic submissions, one module per assignment, plus shared attacks.

Each assignment module defines ``WRONG``, ``ALTERNATIVES`` and ``ATTACKS``
(lists of :class:`dlgrade_grader.submissions.Variant`). ``shared_attacks``
holds attacks that need no knowledge of any assignment, ``whitebox_attacks`` those of a
student who has read the student package.
"""
import importlib

from dlgrade_grader.submissions import BLANK, REFERENCE


def load(assignment: str, include_shared: bool = False, baselines: bool = False) -> list:
    mod = importlib.import_module(f"grader_tests.catalogues.{assignment}")
    out = [REFERENCE, BLANK] if baselines else []
    out += list(mod.WRONG) + list(mod.ALTERNATIVES) + list(getattr(mod, "ATTACKS", []))
    if include_shared:
        shared = importlib.import_module("grader_tests.catalogues.shared_attacks")
        whitebox = importlib.import_module("grader_tests.catalogues.whitebox_attacks")
        out += list(shared.ATTACKS) + list(shared.ALTERNATIVES) + list(whitebox.ATTACKS)
    return out
