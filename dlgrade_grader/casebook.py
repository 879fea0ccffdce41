"""What the kernel is given while graded: this submission's inputs, as data.

The grader draws every graded case (visible and hidden checks alike) from the
course key, the student and a digest of what the student wrote
(:func:`submission_digest`). The casebook holds the inputs only, never an
expected output, and it names which checks each test cell runs, so the kernel
never sees a test cell's text. :mod:`dlgrade_grader.verify` draws the same cases
again from the same values and checks the record against them.
"""
from __future__ import annotations

import hashlib
import json
from collections import OrderedDict

from nbgrader import utils

from dlgrade import records
from dlgrade.checks import scope
from .checks import CaseSet, Registry, make_cases
from .keys import graded_seed

FORMAT_VERSION = 1


def is_test_cell(cell) -> bool:
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def submission_digest(nb) -> str:
    """What the student wrote, in order: every cell but the test and rubric cells.

    Test cells are restored from the gradebook and rubric cells are the
    instructor's, so neither changes what a student can influence.
    """
    parts = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if is_test_cell(cell) or meta.get("task"):
            continue
        parts.append([cell.get("cell_type", ""), cell.get("source", "")])
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


# The kernel's casebook and the verifier draw the same cases for each notebook: the second draw is
# served from here. Only the encoded form is kept, and every caller gets freshly decoded inputs, so
# a reference that writes into its inputs cannot change what a later caller sees.
_DRAWN: OrderedDict = OrderedDict()
_DRAWN_MAX = 512


def graded_cases(registry: Registry, check_id: str, hidden: bool, key: bytes, student: str,
                 digest: str) -> CaseSet:
    seed = graded_seed(key, registry.assignment, check_id, scope(hidden), student, digest)
    memo = (registry.assignment, check_id, seed)
    if memo in _DRAWN:
        _DRAWN.move_to_end(memo)
        labels, encoded = _DRAWN[memo]
        return CaseSet(labels, tuple(records.decode(enc) for enc in encoded), encoded)
    cases = make_cases(registry[check_id], seed, shuffle=True)
    _DRAWN[memo] = (cases.labels, cases.encoded)
    if len(_DRAWN) > _DRAWN_MAX:
        _DRAWN.popitem(last=False)
    return cases


def cell_calls(nb, parse) -> dict:
    """grade id -> [(check id, hidden)] for every test cell that parses."""
    out = {}
    for cell in nb.cells:
        if not is_test_cell(cell):
            continue
        try:
            out[cell.metadata.nbgrader["grade_id"]] = [(c.check_id, c.hidden) for c in parse(cell.source)]
        except ValueError:
            out[cell.metadata.nbgrader["grade_id"]] = []
    return out


def build(nb, registry: Registry, key: bytes, student: str, parse) -> dict:
    digest = submission_digest(nb)
    cells = cell_calls(nb, parse)
    checks = {}
    for calls in cells.values():
        for check_id, hidden in calls:
            name = f"{check_id}|{scope(hidden)}"
            if check_id not in registry or name in checks:
                continue
            cases = graded_cases(registry, check_id, hidden, key, student, digest)
            # inputs only: a label can name the case's kind ("flat posterior") and so its answer
            checks[name] = {"case_set": cases.id, "cases": [["", enc] for enc in cases.encoded]}
    return {"format": FORMAT_VERSION, "assignment": registry.assignment,
            "cells": {gid: [[c, h] for c, h in calls] for gid, calls in cells.items()},
            "checks": checks}


def dumps(book: dict) -> str:
    return json.dumps(book, allow_nan=False, separators=(",", ":"))

