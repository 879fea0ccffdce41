"""Every catalogue entry of every assignment, graded the way an instructor grades: ``dlgrade grade``.

One throw-away course holds all the assignments and, as its students, every
catalogue entry (a student id is ``<kind>-<name>``, one submission per
assignment it belongs to). :func:`dlgrade_grader.cohort.run` grades the lot
with long-lived workers that take the next submission as soon as they are free,
so the catalogues go through the same intake, workers and gradebook merge as a
real cohort, and no process start-up or idle shard tail is paid per assignment.
Feedback pages are left to the tests that read them (plain ``nbgrader
generate_feedback`` on this course).
"""
from __future__ import annotations

import io
import logging
import shutil
from pathlib import Path

import nbformat

from dlgrade_grader import cohort
from grader_tests import localcourse
from dlgrade_grader.plan import STATE_DIR, State
from dlgrade_grader.demo import release_notebook
from dlgrade_grader.submissions import build_submission, write_submission

REPO = Path(__file__).resolve().parents[1]


class Batch:
    """One course, one ``cohort.run``; ``results[hw][student]`` is a :class:`localcourse.Graded`."""

    def __init__(self, root: Path, variants: dict, workers: int, extra_config: str = ""):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        config = (REPO / "nbgrader_config.py").read_text()
        (root / "nbgrader_config.py").write_text(config + ("\n" + extra_config.strip() + "\n" if extra_config else ""))
        logging.getLogger("dlgrade").addHandler(logging.NullHandler())
        self.variants = {hw: {v.student_id: v for v in vs} for hw, vs in variants.items()}
        for hw, by_student in self.variants.items():
            shutil.copytree(REPO / "source" / hw, root / "source" / hw)
            source = nbformat.read(str(root / "source" / hw / f"{hw}.ipynb"), as_version=4)
            release = release_notebook(root, hw)
            for sid, variant in by_student.items():
                write_submission(build_submission(variant, source, release),
                                 root / "submitted" / sid / hw / f"{hw}.ipynb")
        self.summary = cohort.run(cohort.Options(course=root, workers=workers, feedback=False, reports=False,
                                                 progress=False), out=io.StringIO())
        state = State(root)
        self.results = {}
        for hw, by_student in self.variants.items():
            logs = root / STATE_DIR / "logs" / hw
            self.results[hw] = localcourse.read_results(
                root, hw, sorted(by_student),
                lambda sid, logs=logs: (logs / f"{sid}.log").read_text() if (logs / f"{sid}.log").exists() else "")
            for sid, graded in self.results[hw].items():
                run = state.get(hw, sid) or {}
                graded.status = run.get("status", "")
                if run.get("status") == "failed":
                    graded.problems.append(f"the cohort run failed it: {run.get('reason', '')}")
