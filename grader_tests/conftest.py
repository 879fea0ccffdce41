"""Session fixtures: the catalogues of every assignment, graded once per audit mode.

Every catalogue entry of every assignment is built into a submission and the
whole set is graded in one parallel batch through the cohort path that
``dlgrade grade`` runs (once with the audit off, once with it on); tests then
read the gradebook and the verifier's sidecars.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader_tests import localcourse
from dlgrade_grader.release import available
from grader_tests.catalogue_batch import Batch
from grader_tests.catalogues import BLANK, REFERENCE, load, shared_attacks

# The tests' own course key (a real course makes a secret one with `dlgrade keygen`): fixed, so
# a test run draws the same cases every time and its results are reproducible. Every nbgrader
# and dlgrade process the tests start inherits it.
TEST_COURSE_KEY = "d1" * 32
os.environ["DLGRADE_COURSE_KEY"] = TEST_COURSE_KEY

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = available(REPO)
# With the audit on, the shared and white-box attacks run against this assignment. With it off, the
# white-box attacks (which read each assignment's own student package and data) run against every
# assignment, and each shared attack against one assignment in turn (see variants_for).
ATTACK_TARGET = "vjp_autograd"
# One worker more than cores: a worker waits on its kernel for part of each notebook (start-up,
# message round trips), and with as many workers as cores a quarter of the CPU sat idle.
WORKERS = int(os.environ.get("DLGRADE_TEST_WORKERS", (os.cpu_count() or 2) + 1))


def variants_for(hw: str, audit: bool = False) -> list:
    """audit=False: the catalogue, shared and white-box attacks included, graded with the static
    audit switched off: every score must be right without it.
    audit=True: what the audit itself must get right: no false alarm on correct work, a report of
    every flagged attack, and the shortcuts only it can see.

    A shared attack knows no assignment: it works on the check API, the kernel, nbgrader's cells
    and metadata, which are the same code for every assignment. With the audit off each one runs
    against one assignment, taken in turn, instead of all of them (ATTACK_TARGET gets all of them
    with the audit on); that took 84 notebooks, a fifth of the batch, out of every test run.

    Correct alternatives are graded with the audit on only. The audit can only take points away
    (``VerifyChecks``: it withholds or zeroes, never adds), so an alternative that keeps full marks
    with it keeps them without it; grading it twice would prove nothing more."""
    everything = load(hw, include_shared=True, baselines=True)
    if not audit:
        shared = [a.name for a in shared_attacks.ATTACKS]
        mine = {name for i, name in enumerate(shared) if i % len(ASSIGNMENTS) == ASSIGNMENTS.index(hw)}
        return [v for v in everything if v.kind != "alternative"
                and not (v.kind == "attack" and v.name in shared and v.name not in mine)]
    return [v for v in everything if v.kind in ("reference", "blank", "alternative") or v.needs_audit
            or (v.kind == "attack" and hw == ATTACK_TARGET)]


class GradedCourse:
    """One assignment's catalogue as graded in a :class:`Batch` (all assignments, one audit mode)."""

    def __init__(self, batch: Batch, hw: str):
        self.root, self.hw = batch.root, hw
        self.variants = batch.variants[hw]
        self.results = batch.results[hw]

    def __getitem__(self, student_id):
        return self.results[student_id]

    @property
    def blank(self):
        return self.results[BLANK.student_id]

    @property
    def reference(self):
        return self.results[REFERENCE.student_id]


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """graded(hw) grades with the audit off; graded(hw, audit=True) with it on. The first call of
    a mode grades every assignment's catalogue in that mode, through the cohort path."""
    batches = {}

    def get(hw: str, audit: bool = False) -> GradedCourse:
        if audit not in batches:
            root = tmp_path_factory.mktemp(f"catalogues-{'audit' if audit else 'noaudit'}")
            batches[audit] = Batch(root, {h: variants_for(h, audit) for h in ASSIGNMENTS}, WORKERS,
                                   extra_config="" if audit else localcourse.AUDIT_OFF)
        return GradedCourse(batches[audit], hw)

    return get

