"""The grader tested like a compiler: every catalogue entry through real autograding.

- the reference solution earns every autograded point, the blank notebook none;
- each wrong answer loses points on its intended checks and nowhere else;
- each correct alternative keeps full marks;
- each attack (assignment-specific, shared or white-box) gains nothing over its base.

All of it with the static audit switched off ("audit off"): scores rest on what exists in
the kernel, not on what the audit reads. With the audit on, correct work raises no alarm,
every flagged attack is reported, and the shortcuts only the audit can see lose points.
"""
import pytest

from dlgrade_grader.expectations import autograded_total, problems_with
from grader_tests.conftest import ASSIGNMENTS, variants_for


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_reference_scores_every_autograded_point(graded, hw):
    g = graded(hw, audit=True).reference
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


CASES = [(hw, v.student_id, audit) for audit in (False, True) for hw in ASSIGNMENTS
         for v in variants_for(hw, audit) if v.kind in ("wrong", "alternative", "attack")]


@pytest.mark.parametrize("hw,student,audit", CASES,
                         ids=[f"{hw}:{s}:{'audit' if a else 'audit-off'}" for hw, s, a in CASES])
def test_catalogue_entry(graded, hw, student, audit):
    course = graded(hw, audit)
    variant = course.variants[student]
    baseline = course.blank if variant.base_kind == "blank" else course.reference
    assert problems_with(variant, course[student], baseline, audit=audit) == []


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_scores_are_the_same_with_the_audit_off(graded, hw):
    """The reference and the blank notebook score the same whether the audit runs or not."""
    on, off = graded(hw, audit=True), graded(hw)
    for who in ("reference", "blank"):
        assert getattr(on, who).score == getattr(off, who).score, who
