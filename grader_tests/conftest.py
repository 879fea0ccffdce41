"""Session fixtures: one throw-away course per assignment, graded once.

Every catalogue entry of an assignment is built into a submission and the
whole set is autograded in one parallel batch through the real nbgrader
pipeline; tests then read the gradebook and the verifier's sidecars.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from dlgrade_grader import localcourse
from dlgrade_grader.release import available
from dlgrade_grader.submissions import build_submission
from grader_tests.catalogues import BLANK, REFERENCE, load

# A throw-away course key for this test session, as an instructor's secret would be; every
# nbgrader and dlgrade process the tests start inherits it.
os.environ.setdefault("DLGRADE_COURSE_KEY", secrets.token_hex(32))

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = available(REPO)
# The shared attack catalogue runs against this assignment.
ATTACK_TARGET = "vjp_autograd"
WORKERS = int(os.environ.get("DLGRADE_TEST_WORKERS", os.cpu_count() or 2))


def variants_for(hw: str) -> list:
    return load(hw, include_shared=(hw == ATTACK_TARGET), baselines=True)


class GradedCourse:
    def __init__(self, root: Path, hw: str):
        self.root, self.hw = root, hw
        self.source = localcourse.read_notebook(root, "source", hw)
        self.release = localcourse.read_notebook(root, "release", hw)
        self.variants = {v.student_id: v for v in variants_for(hw)}
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
    cache = {}

    def get(hw: str) -> GradedCourse:
        if hw not in cache:
            root = tmp_path_factory.mktemp(f"course-{hw}")
            localcourse.init_course(root, [hw])
            cache[hw] = GradedCourse(root, hw)
        return cache[hw]

    return get
