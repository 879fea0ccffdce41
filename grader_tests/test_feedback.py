"""Feedback HTML explains failures and never shows hidden test text or hidden values."""
import html
import re

import pytest

from dlgrade_grader import localcourse
from grader_tests.conftest import ASSIGNMENTS


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_feedback_has_diagnostics_and_no_hidden_tests(graded, hw):
    course = graded(hw)
    wrong = next(v for v in course.variants.values() if v.kind == "wrong")
    result = course[wrong.student_id]
    shard = result.autograded.parents[3]
    proc = localcourse.run_nbgrader(["generate_feedback", hw, "--student", wrong.student_id, "--force"], shard)
    assert proc.returncode == 0, proc.stderr[-2000:]
    page = (shard / "feedback" / wrong.student_id / hw / f"{hw}.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "[FAIL]" in text
    assert re.search(r"first wrong index|expected shape|your code raised|wrong answer|expected", text)
    assert "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text
    source = localcourse.read_notebook(course.root, "source", hw)
    hidden_lines = [ln.strip() for c in source.cells for ln in c.source.splitlines() if "hidden=True" in ln]
    assert hidden_lines and not any(ln in text for ln in hidden_lines)
