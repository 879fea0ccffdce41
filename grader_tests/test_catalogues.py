"""The grader tested like a compiler: every catalogue entry through real autograding.

- the reference solution earns every autograded point, the blank notebook none;
- each wrong answer loses points on its intended checks, and elsewhere only on checks that use
  what it breaks (``uses.py``);
- each correct alternative keeps full marks;
- each attack (assignment-specific, shared or white-box) gains nothing over its base.

Wrong answers and attacks with the static audit switched off ("audit off"): scores rest on what
exists in the kernel, not on what the audit reads. With the audit on, correct work keeps full
marks and raises no alarm (the audit only takes points away, so that holds without it too),
every flagged attack is reported, and the shortcuts only the audit can see lose points.

The feedback a student gets for these submissions, made by plain ``nbgrader
generate_feedback`` with the course config, explains failures and never shows hidden test
text, hidden values or a rubric, even for a submission that prints the kernel's ``In``
history and every file it can find. (These tests live here because they read the same
graded batch, and ``pytest -n 2 --dist loadfile`` keeps one file in one process.)
"""
import html
import re

import nbformat
import pytest

from grader_tests import localcourse
from grader_tests.expectations import autograded_total, problems_with
from grader_tests.uses import uses_graph
from grader_tests.conftest import ASSIGNMENTS, TEST_COURSE_KEY, variants_for


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
    assert problems_with(variant, course[student], baseline, audit=audit, uses=uses_graph(hw)) == []


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_scores_are_the_same_with_the_audit_off(graded, hw):
    """The reference and the blank notebook score the same whether the audit runs or not."""
    on, off = graded(hw, audit=True), graded(hw)
    for who in ("reference", "blank"):
        assert getattr(on, who).score == getattr(off, who).score, who


# -- feedback of the graded catalogues --------------------------------------------------------

LEAKER = "attack-print-history-and-files"


def _feedback_text(course, student) -> str:
    result = course[student]
    shard = result.autograded.parents[3]
    proc = localcourse.run_nbgrader(["generate_feedback", course.hw, "--student", student, "--force"], shard)
    assert proc.returncode == 0, proc.stderr[-2000:]
    page = (shard / "feedback" / student / course.hw / f"{course.hw}.html").read_text()
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _strings(value):
    """Every string inside a JSON-like value, as written (no escaping)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _secret_lines(course) -> list:
    """Hidden check lines and rubric lines of the instructor's notebook."""
    source = localcourse.read_notebook(course.root, "source", course.hw)
    out = [ln.strip() for c in source.cells for ln in c.source.splitlines() if "hidden=True" in ln]
    for cell in source.cells:
        if cell.metadata.get("nbgrader", {}).get("task"):
            region = re.search(r"BEGIN MARK SCHEME(.*?)END MARK SCHEME", cell.source, re.S)
            if region:
                out += [ln.strip() for ln in region.group(1).splitlines() if len(ln.strip()) > 25]
    return out


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_feedback_has_diagnostics_and_no_hidden_tests(graded, hw):
    course = graded(hw)
    wrong = next(v for v in course.variants.values() if v.kind == "wrong")
    text = _feedback_text(course, wrong.student_id)
    assert "[FAIL]" in text
    assert re.search(r"first wrong at|expected shape|your code raised|wrong answer|expected", text)
    assert "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text and "MARK SCHEME" not in text
    secrets = _secret_lines(course)
    assert secrets and not any(ln in text for ln in secrets)


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_printing_history_and_files_leaks_no_hidden_text(graded, hw):
    """A solution cell that prints ``In`` and every readable file: neither the kernel nor the
    feedback holds a hidden check or a rubric line to print."""
    course = graded(hw)
    nb = nbformat.read(str(course[LEAKER].autograded), as_version=4)
    autograded = "\n".join(_strings([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"]))
    assert "HISTORY" in autograded, "the leaking cell did not run"
    text = _feedback_text(course, LEAKER)
    assert "HISTORY" in text
    for line in _secret_lines(course):
        assert line not in autograded and line not in text, line
    assert "run_graded_cell" in text  # the kernel's history shows the call, not the test text
    assert "ENVIRON" in text and TEST_COURSE_KEY not in autograded and TEST_COURSE_KEY not in text
