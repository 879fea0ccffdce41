"""The grader tested like a compiler: every catalogue entry through real autograding.

- the reference solution earns every autograded point, the blank notebook none;
- each wrong answer loses points on its intended checks and nowhere else;
- each correct alternative keeps full marks;
- each attack (assignment-specific or shared) gains nothing over its base.
"""
import pytest

from dlgrade_grader.expectations import autograded_total, problems_with
from grader_tests.conftest import ASSIGNMENTS, variants_for


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_reference_scores_every_autograded_point(graded, hw):
    g = graded(hw).reference
    out_of = sum(c["points"] for c in g.checks)
    assert out_of > 0, g.problems
    assert autograded_total(g) == pytest.approx(out_of), g.problems
    assert not g.problems and not g.audit.get("tampering"), (g.problems, g.audit)


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_blank_notebook_scores_zero_and_is_graded(graded, hw):
    g = graded(hw).blank
    assert g.score is not None, g.log[-2000:]
    assert autograded_total(g) == 0
    assert g.checks and all(c["awarded"] == 0 for c in g.checks)


CASES = [(hw, v.student_id) for hw in ASSIGNMENTS for v in variants_for(hw)
         if v.kind in ("wrong", "alternative", "attack")]


@pytest.mark.parametrize("hw,student", CASES, ids=[f"{hw}:{s}" for hw, s in CASES])
def test_catalogue_entry(graded, hw, student):
    course = graded(hw)
    variant = course.variants[student]
    baseline = course.blank if variant.base_kind == "blank" else course.reference
    assert problems_with(variant, course[student], baseline) == []
