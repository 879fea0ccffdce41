"""Feedback HTML explains failures and never shows hidden test text, hidden values or a rubric.

Everything runs through plain ``nbgrader autograde`` and ``nbgrader generate_feedback`` with the
course config, including a submission that prints the kernel's ``In`` history and every file it
can find into its own outputs.
"""
import html
import re

import pytest

from dlgrade_grader import localcourse
from grader_tests.conftest import ASSIGNMENTS, TEST_COURSE_KEY

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
    import nbformat
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
