"""``dlgrade feedback``: after a TA has graded by hand in formgrader, rebuild what students get back.

Feedback pages written while grading show the autograded state; manual scores and comments
entered later are only in the gradebook. This rebuilds each student's page from the gradebook
(nbgrader's GenerateFeedback with the course's own preprocessors, so hidden tests and mark
schemes stay out), puts the grader's notes back on it, and rewrites ``reports/`` so the CSVs
carry the manual grades too. Nothing is regraded and no student code runs.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from . import report
from .course_lock import course_lock
from .inprocess import coursedir, load_config, reusable_feedback_class, venv_on_path
from .plan import State, gradebook_url, list_assignments, list_students


def rebuild(course: Path, assignments=(), students=(), db_url: str | None = None, out=sys.stdout) -> list[Path]:
    """Rebuild the feedback of every graded submission (or of the ones named); returns the pages."""
    started = time.monotonic()
    course = course.resolve()
    if not (course / "nbgrader_config.py").exists():
        raise SystemExit(f"{course} is not a course directory (no nbgrader_config.py)")
    with course_lock(course, "feedback"):
        return _rebuild(course, assignments, students, db_url, out, started)


def _rebuild(course: Path, assignments, students, db_url, out, started: float) -> list[Path]:
    venv_on_path()
    db_url = gradebook_url(course, db_url)
    hws, messages = list_assignments(course, list(assignments))
    for message in messages:
        print(message, file=sys.stderr)
    everyone = list_students(course)
    wanted = [s for s in everyone if not students or s in students]
    state = State(course)
    cfg = load_config(course, course, db_url)
    converter = reusable_feedback_class()(coursedir=coursedir(cfg), config=cfg)
    converter.force = True
    pages = []
    for hw in hws:
        for sid in wanted:
            result = state.get(hw, sid) or {}
            # a submission that could not be graded keeps the page that says why
            if result.get("status") == "failed" or not (course / "autograded" / sid / hw).is_dir():
                continue
            converter.coursedir.student_id = sid
            converter.coursedir.assignment_id = hw
            converter.start()
            for page in sorted((course / "feedback" / sid / hw).glob("*.html")):
                report.annotate_feedback(page, {"assignment": hw, "student": sid, **result})
                pages.append(page)
    rows = report.collect(course, db_url, state, hws, everyone)
    summary = {"title": f"dlgrade feedback: {len(pages)} feedback page(s) rebuilt from the gradebook, "
                        f"{time.monotonic() - started:.1f} s"}
    report.write_all(course, rows, hws, summary, out=out)
    return pages
