"""Every fault of the catalogue, graded in one cohort run, gets a score and a reason.

One run of ``dlgrade grade`` (the real command line, two workers, sandboxed
when the machine can) grades all faults next to a clean reference
submission; each catalogue entry is then checked on its own.
"""
from __future__ import annotations

import csv
import html
import json
import re
from types import SimpleNamespace

import pytest
from nbgrader.api import Gradebook, MissingEntry

from dlgrade_grader.submissions import BLANK, REFERENCE, build_submission
from grader_tests import cohort_course as cc
from grader_tests.catalogues.faults import FAULTS, Ctx

SANDBOX_OK, SANDBOX_WHY = cc.sandbox_ready()
CONTROL = "control-reference"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    hw = cc.pick_assignment()
    root = cc.make_course(tmp_path_factory.mktemp("faults"), hw)
    src, rel = cc.notebooks(root, hw)
    ctx = Ctx(hw, build_submission(REFERENCE, src, rel),
              build_submission(BLANK, src, rel),
              [gid for gid, _ in cc.grade_cell_points(rel)])
    built = []
    for fault in FAULTS:
        if fault.kernel and not SANDBOX_OK:
            continue  # never run a fork bomb or memory bomb without the sandbox's limits
        folder = root / "submitted" / fault.student / hw
        folder.mkdir(parents=True)
        fault.build(folder, ctx)
        built.append(fault.student)
    ctx.write(root / "submitted" / CONTROL / hw, ctx.ref())
    args = ["grade", "--workers", "2", "--no-progress", "--task-timeout", "600"]
    if not SANDBOX_OK:
        args.append("--unsafe-no-sandbox")
    proc = cc.dlgrade(*args, cwd=root, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    state = json.loads((root / ".dlgrade" / "state.json").read_text())["results"]
    scores = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for sid in built + [CONTROL]:
            try:
                scores[sid] = gb.find_submission(hw, sid).score
            except MissingEntry:
                scores[sid] = None
    with open(root / "reports" / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    return SimpleNamespace(root=root, hw=hw, ctx=ctx, proc=proc, state=state, scores=scores, rows=rows,
                           points=dict(cc.grade_cell_points(rel)), built=built)


def _param(fault):
    marks = ()
    if fault.kernel and not SANDBOX_OK:
        marks = pytest.mark.xfail(run=False, reason=f"kernel limits not enforced here: {SANDBOX_WHY}")
    return pytest.param(fault, marks=marks, id=fault.name)


@pytest.mark.parametrize("fault", [_param(f) for f in FAULTS])
def test_fault_gets_a_score_and_a_reason(run, fault):
    result = run.state[f"{run.hw}/{fault.student}"]
    assert result["status"] in fault.status, result
    score, full = run.scores[fault.student], run.scores[CONTROL]
    assert score is not None, f"{fault.student} has no submission in the gradebook"
    if fault.score == "full":
        assert score == pytest.approx(full)
    elif fault.score == "zero":
        assert score == 0
    elif fault.score == "first_test":
        assert score == pytest.approx(run.points[run.ctx.test_ids[0]])
        assert score < full
    elif fault.score == "at_most_first_test":
        assert score <= run.points[run.ctx.test_ids[0]] + 1e-9
    elif fault.score == "after_first_test":
        assert run.points[run.ctx.test_ids[0]] - 1e-9 <= score < full
    reason = re.compile(fault.reason, re.I | re.S)
    assert reason.search(result["reason"]), result
    assert reason.search(run.rows[fault.student]["reason"])
    line = next(ln for ln in run.proc.stdout.splitlines() if ln.startswith(fault.student + " "))
    assert reason.search(line), line
    page = run.root / "feedback" / fault.student / run.hw / f"{run.hw}.html"
    assert reason.search(html.unescape(page.read_text())), f"no reason in {page}"


def test_batch_is_consistent(run):
    students = sorted(p.name for p in (run.root / "submitted").iterdir())
    assert run.scores[CONTROL] == pytest.approx(sum(run.points.values()))
    with Gradebook(f"sqlite:///{run.root / 'gradebook.db'}") as gb:
        assert sorted(s.id for s in gb.students) == students
        graded = {s.student.id for s in gb.find_assignment(run.hw).submissions}
    assert graded == set(students)
    assert sorted(run.rows) == students
    for sid in students:
        assert (run.root / "feedback" / sid / run.hw / f"{run.hw}.html").exists()


def test_links_into_source_leak_nothing(run):
    fault = next(f for f in FAULTS if f.name == "symlink_to_source")
    solution_marker = "### BEGIN SOLUTION"
    for folder in ("autograded", "feedback"):
        base = run.root / folder / fault.student / run.hw
        for path in base.rglob("*"):
            assert not path.is_symlink(), path
            if path.is_file():
                assert solution_marker not in path.read_text(errors="replace"), path
