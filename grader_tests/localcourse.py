"""Throw-away nbgrader courses for the grader's self-tests, and reading back what grading left.

:func:`read_results` reads a graded course's gradebook and the verifier's
sidecars; :func:`grade` runs plain ``nbgrader autograde`` in parallel shards
(each its own course directory with its own copy of the gradebook), for the
tests that exercise nbgrader's own path rather than ``dlgrade grade``.
"""
from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade_grader.coursefolder import REPO, init_course, nbgrader_env, read_notebook, run_nbgrader  # noqa: F401
from dlgrade_grader.preprocessors import SIDECAR_SUFFIX
from dlgrade_grader.submissions import write_submission


def add_config(root: Path, text: str) -> None:
    """Append nbgrader config lines to a throw-away course's ``nbgrader_config.py``."""
    with open(root / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write("\n" + text.strip() + "\n")


AUDIT_OFF = 'c.VerifyChecks.tamper_policy = "off"'


def plain_notebook(cells_text: str, points: int = 1):
    """A source notebook from ``.cells`` text whose test cells are plain asserts, ``points`` each
    (a course file's test cells take their points from their check() lines instead)."""
    from dlgrade_grader.authoring import build_notebook

    nb = build_notebook(cells_text)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            meta["points"] = points
    return nb


@dataclass
class Graded:
    student: str
    score: float | None
    max_score: float
    cells: dict = field(default_factory=dict)      # grade_id -> auto score
    checks: list = field(default_factory=list)     # sidecar check entries
    audit: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    log: str = ""
    autograded: Path | None = None
    status: str = ""                               # the cohort's verdict on the run (ok, warning, failed...)

    def check_points(self, check_id: str) -> tuple[float, float]:
        got = sum(c["awarded"] for c in self.checks if c["id"] == check_id)
        out_of = sum(c["points"] for c in self.checks if c["id"] == check_id)
        return got, out_of


def _make_shard(root: Path, index: int) -> Path:
    shard = root / "shards" / str(index)
    if shard.exists():
        shutil.rmtree(shard)
    shard.mkdir(parents=True)
    shutil.copy(root / "gradebook.db", shard / "gradebook.db")
    shutil.copy(root / "nbgrader_config.py", shard / "nbgrader_config.py")
    for folder in ("source", "release"):
        os.symlink(root / folder, shard / folder)
    return shard


def read_results(shard: Path, hw: str, students, log) -> dict:
    """What the gradebook and the verifier's sidecars of a graded course say about ``students``;
    ``log`` is the run's log, or a function of the student id that returns it."""
    from nbgrader.api import Gradebook, MissingEntry

    out = {}
    with Gradebook(f"sqlite:///{shard / 'gradebook.db'}") as gb:
        for sid in students:
            graded = Graded(sid, None, 0.0, log=log(sid) if callable(log) else log)
            try:
                sub = gb.find_submission(hw, sid)
                graded.score, graded.max_score = sub.score, sub.max_score
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        graded.cells[grade.name] = grade.auto_score
            except MissingEntry:
                graded.problems.append("no submission in the gradebook")
            folder = shard / "autograded" / sid / hw
            sidecar = folder / f"{hw}{SIDECAR_SUFFIX}"
            if sidecar.exists():
                data = json.loads(sidecar.read_text())
                graded.audit = data.get("audit", {})
                for cell in data.get("cells", {}).values():
                    graded.checks.extend(cell.get("checks", []))
                    graded.problems.extend(cell.get("problems", []))
            graded.autograded = folder / f"{hw}.ipynb"
            out[sid] = graded
    return out


def grade(root: Path, hw: str, submissions: dict, workers: int = 2, timeout: float = 1800) -> dict:
    """Autograde ``{student: notebook}`` in ``workers`` parallel shards of ``root``."""
    students = sorted(submissions)
    shards = [students[i::workers] for i in range(workers) if students[i::workers]]

    def run(index_and_ids):
        index, ids = index_and_ids
        shard = _make_shard(root, index)
        for sid in ids:
            write_submission(submissions[sid], shard / "submitted" / sid / hw / f"{hw}.ipynb")
        proc = run_nbgrader(["autograde", hw, "--force"], shard, timeout=timeout)
        return read_results(shard, hw, ids, proc.stdout + proc.stderr)

    results = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(run, enumerate(shards)):
            results.update(part)
    return results
