"""Session fixtures: one throw-away course per assignment, graded once.

Every catalogue entry of an assignment is built into a submission and the
whole set is autograded in one parallel batch through the real nbgrader
pipeline; tests then read the gradebook and the verifier's sidecars.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from dlgrade_grader import localcourse
from dlgrade_grader.release import available
from dlgrade_grader.submissions import build_submission
from grader_tests.catalogues import BLANK, REFERENCE, load

# The tests' own course key (a real course makes a secret one with `dlgrade keygen`): fixed, so
# a test run draws the same cases every time and its results are reproducible. Every nbgrader
# and dlgrade process the tests start inherits it.
TEST_COURSE_KEY = "d1" * 32
os.environ["DLGRADE_COURSE_KEY"] = TEST_COURSE_KEY

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = available(REPO)
# With the audit on, the shared and white-box attacks run against this assignment (with it off,
# against every assignment).
ATTACK_TARGET = "vjp_autograd"
WORKERS = int(os.environ.get("DLGRADE_TEST_WORKERS", os.cpu_count() or 2))


def variants_for(hw: str, audit: bool = False) -> list:
    """audit=False: the whole catalogue, shared and white-box attacks included, graded with the
    static audit switched off: every score must be right without it.
    audit=True: what the audit itself must get right: no false alarm on correct work, a report of
    every flagged attack, and the shortcuts only it can see."""
    everything = load(hw, include_shared=True, baselines=True)
    if not audit:
        return everything
    return [v for v in everything if v.kind in ("reference", "blank", "alternative") or v.needs_audit
            or (v.kind == "attack" and hw == ATTACK_TARGET)]


class GradedCourse:
    def __init__(self, root: Path, hw: str, audit: bool):
        self.root, self.hw, self.audit = root, hw, audit
        self.source = localcourse.read_notebook(root, "source", hw)
        self.release = localcourse.read_notebook(root, "release", hw)
        self.variants = {v.student_id: v for v in variants_for(hw, audit)}
        subs = {sid: build_submission(v, self.source, self.release) for sid, v in self.variants.items()}
        self.results = localcourse.grade(root, hw, subs, workers=WORKERS)

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
    """graded(hw) grades with the audit off; graded(hw, audit=True) with it on."""
    cache = {}

    def get(hw: str, audit: bool = False) -> GradedCourse:
        if (hw, audit) not in cache:
            root = tmp_path_factory.mktemp(f"course-{hw}-{'audit' if audit else 'noaudit'}")
            localcourse.init_course(root, [hw])
            if not audit:
                localcourse.add_config(root, localcourse.AUDIT_OFF)
            cache[hw, audit] = GradedCourse(root, hw, audit)
        return cache[hw, audit]

    return get
