"""The cohort command end to end: demo cohort, parallel grading, reports, resume, CI shards.

The course is a slice of a real assignment (see ``cohort_course``) graded
through the real command line, sandboxed when the machine can.
"""
from __future__ import annotations

import csv
import html
import json
import re
import shutil
import signal
from types import SimpleNamespace

import matplotlib.image
import nbformat
import pytest
from nbgrader.api import Gradebook

from dlgrade_grader.outcome import NoteKind
from dlgrade_grader.plan import grader_fingerprint
from dlgrade_grader.crashpoints import ENV as CRASH_ENV
from dlgrade_grader.preprocessors import HideHiddenTests
from dlgrade_grader.submissions import REFERENCE, build_submission, insert_cells
from grader_tests import cohort_course as cc

SANDBOX_OK, _ = cc.sandbox_ready()
# the test's own reading of a hidden region, independent of the preprocessor under test
HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*$", re.S | re.M)
SANDBOX_ARGS = [] if SANDBOX_OK else ["--unsafe-no-sandbox"]


def _scores(root, hw) -> dict:
    """{student: (score, {grade id: score})} from a course's gradebook."""
    out = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for sub in gb.find_assignment(hw).submissions:
            cells = {g.name: g.score for nb in sub.notebooks for g in nb.grades}
            out[sub.student.id] = (sub.score, cells)
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    hw, root = cc.make_demo_course(tmp_path_factory.mktemp("cohort"))
    proc = cc.dlgrade("grade", "--workers", "2", *SANDBOX_ARGS, cwd=root)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    src = nbformat.read(str(root / "source" / hw / f"{hw}.ipynb"), as_version=4)
    students = sorted(p.name for p in (root / "submitted").iterdir())
    return SimpleNamespace(root=root, hw=hw, proc=proc, src=src, students=students,
                           grader=grader_fingerprint(root, hw),
                           points=dict(cc.grade_cell_points(src)), scores=_scores(root, hw),
                           state=json.loads((root / ".dlgrade" / "state.json").read_text())["results"])


def test_demo_cohort_has_every_kind_of_student(demo):
    kinds = {s.split("-")[1] for s in demo.students}
    assert {"perfect", "blank"} <= kinds
    assert all(re.fullmatch(r"demo-(perfect|blank|mistake|tamper|honest|copy)-[a-z]+", s) for s in demo.students)
    assert all((demo.root / "submitted" / s / demo.hw / f"{demo.hw}.ipynb").exists() for s in demo.students)


def test_every_submission_graded_in_parallel(demo):
    assert set(demo.scores) == set(demo.students)
    full = sum(demo.points.values())
    assert demo.scores["demo-perfect-ada"][0] == pytest.approx(full)
    assert demo.scores["demo-blank-ben"][0] == 0
    if "demo-tamper-mallory" in demo.scores:
        assert demo.scores["demo-tamper-mallory"][0] <= demo.scores["demo-blank-ben"][0]
    workers = {r["worker"] for r in demo.state.values()}
    assert workers == {0, 1}, "both workers should have graded something"
    for sid in demo.students:
        assert (demo.root / "autograded" / sid / demo.hw / f"{demo.hw}.ipynb").exists()


def test_feedback_shows_verdicts_not_hidden_tests(demo):
    hidden = [line.strip() for cell in demo.src.cells for m in HIDDEN_REGION.finditer(cell.source)
              for line in m.group(0).splitlines()[1:-1] if line.strip()]
    assert hidden, "the slice should contain hidden checks"
    for sid in demo.students:
        page = html.unescape((demo.root / "feedback" / sid / demo.hw / f"{demo.hw}.html").read_text())
        assert "BEGIN HIDDEN TESTS" not in page
        for line in hidden:
            assert line not in page, f"{sid}'s feedback shows the hidden line {line!r}"
    tamper = demo.root / "feedback" / "demo-tamper-mallory" / demo.hw / f"{demo.hw}.html"
    if tamper.exists() and demo.state[f"{demo.hw}/demo-tamper-mallory"]["notes"]:
        assert "dlgrade-notes" in tamper.read_text()


def test_hidden_regions_leave_a_placeholder_and_a_broken_one_is_an_error():
    """Feedback hides hidden tests with nbgrader's own region rules (and its delimiter traits)."""
    cell = nbformat.v4.new_code_cell("check('a', f)\n    ### BEGIN HIDDEN TESTS\n    check('a', f, hidden=True)\n"
                                     "    ### END HIDDEN TESTS\ncheck('b', g)")
    hide = HideHiddenTests()
    cell, _ = hide.preprocess_cell(cell, {}, 0)
    assert cell.source == f"check('a', f)\n    {hide.placeholder}\ncheck('b', g)"
    custom = HideHiddenTests(begin_test_delimeter="HIDE FROM HERE", end_test_delimeter="HIDE TO HERE")
    cell = nbformat.v4.new_code_cell("x = 1\n# HIDE FROM HERE\nsecret()\n# HIDE TO HERE")
    assert "secret" not in custom.preprocess_cell(cell, {}, 0)[0].source
    with pytest.raises(RuntimeError, match="No end hidden tests"):
        hide.preprocess_cell(nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nsecret()"), {}, 0)


def test_csv_has_per_question_columns_and_quotes(demo):
    with open(demo.root / "reports" / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["student_id"] for r in rows) == demo.students
    qcols = {f"{demo.hw}/{gid} (max {pts:g})": gid for gid, pts in demo.points.items()}
    assert set(qcols) <= set(rows[0])
    for row in rows:
        score, cells = demo.scores[row["student_id"]]
        assert float(row["score"]) == pytest.approx(score)
        for col, gid in qcols.items():
            assert float(row[col]) == pytest.approx(cells[gid])
        assert sum(float(row[c]) for c in qcols) == pytest.approx(score)
        # reasons are free text (commas, quotes, newlines): the csv module must round-trip them
        entry = demo.state[f"{demo.hw}/{row['student_id']}"]
        assert row["reason"] == (entry["reason"] or "; ".join(n["text"] for n in entry["notes"]))
        # the flags column is the kinds of the notes, never parsed out of their text
        kinds = sorted({n["kind"] for n in entry["notes"]}, key=list(NoteKind).index)
        assert (row["flags"].split(";") if row["flags"] else []) == kinds


def test_csv_quoting_survives_hostile_text(tmp_path):
    from dlgrade_grader.report import write_csv

    nasty = 'a "quoted", comma\nnew line; =1+1'
    row = {"student": 'o"brien, jr', "assignment": "hw", "score": 1.5, "max_score": 2, "status": "failed",
           "reason": nasty, "notes": [], "questions": {"q,1": 1.5}, "question_max": {"q,1": 2.0}}
    write_csv(tmp_path / "g.csv", [row], ["hw"])
    with open(tmp_path / "g.csv", newline="") as fh:
        (back,) = list(csv.DictReader(fh))
    assert back["student_id"] == 'o"brien, jr' and back["reason"] == nasty
    assert back["hw/q,1 (max 2)"] == "1.5"


def test_plot_and_summary(demo):
    png = demo.root / "reports" / "score_distribution.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = matplotlib.image.imread(str(png)).shape[:2]
    assert height > 200 and width > 300
    out = demo.proc.stdout
    assert re.search(rf"^student\s+{demo.hw}\s+status\s+reason", out, re.M)
    for sid in demo.students:
        score = demo.scores[sid][0]
        assert re.search(rf"^{sid}\s+{score:g}/{sum(demo.points.values()):g}\s", out, re.M), sid
    assert "unsafe" not in out.lower() or not SANDBOX_OK


def test_shards_merge_into_one_gradebook(demo, tmp_path):
    """The CI path: shards graded on separate 'machines', then one merge job."""
    picked = ["demo-blank-ben", "demo-perfect-ada"]
    shards = []
    for index in range(2):
        shard = tmp_path / f"shard{index}"
        shard.mkdir()
        shutil.copy(demo.root / "nbgrader_config.py", shard)
        shutil.copytree(demo.root / "source", shard / "source")
        for sid in picked:
            shutil.copytree(demo.root / "submitted" / sid, shard / "submitted" / sid)
        proc = cc.dlgrade("grade", "--shard", f"{index}/2", "--workers", "1", "--no-progress", *SANDBOX_ARGS,
                          cwd=shard)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        shards.append(shard)
    assert set(_scores(shards[0], demo.hw)).isdisjoint(_scores(shards[1], demo.hw))
    final = tmp_path / "final"
    final.mkdir()
    shutil.copy(demo.root / "nbgrader_config.py", final)
    shutil.copytree(demo.root / "source", final / "source")
    proc = cc.dlgrade("merge", *map(str, shards), "--course", str(final), cwd=final)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    merged = _scores(final, demo.hw)
    assert set(merged) == set(picked)
    for sid in picked:  # hidden cases are seeded per student, so a regrade is identical
        assert merged[sid] == demo.scores[sid]
        assert (final / "feedback" / sid / demo.hw / f"{demo.hw}.html").exists()
        assert (final / "autograded" / sid / demo.hw / f"{demo.hw}.ipynb").exists()
    with open(final / "reports" / "grades.csv", newline="") as fh:
        assert sorted(r["student_id"] for r in csv.DictReader(fh)) == picked
    merged_csv = (final / "reports" / "grades.csv").read_text()

    # merging a shard again changes nothing (the other shard's students stay in the reports)
    proc = cc.dlgrade("merge", str(shards[0]), "--course", str(final), cwd=final)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert _scores(final, demo.hw) == merged
    assert (final / "reports" / "grades.csv").read_text() == merged_csv

    # a merge killed after its first shard, then run again, ends where the clean merge did
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(demo.root / "nbgrader_config.py", partial)
    shutil.copytree(demo.root / "source", partial / "source")
    killed = cc.dlgrade("merge", *map(str, shards), "--course", str(partial), cwd=partial,
                        env={CRASH_ENV: "merged-shard:1"})
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-2000:] + killed.stderr[-2000:]
    assert set(_scores(partial, demo.hw)) == {sid for sid in picked if sid in _scores(shards[0], demo.hw)}
    proc = cc.dlgrade("merge", *map(str, shards), "--course", str(partial), cwd=partial)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert _scores(partial, demo.hw) == merged
    assert (partial / "reports" / "grades.csv").read_text() == merged_csv
    for sid in picked:
        for folder, name in (("feedback", f"{demo.hw}.html"), ("autograded", f"{demo.hw}.ipynb")):
            assert (partial / folder / sid / demo.hw / name).read_bytes() == \
                (final / folder / sid / demo.hw / name).read_bytes(), (folder, sid)


def test_stuck_grading_is_stopped_and_retried(demo, tmp_path):
    root = cc.make_course(tmp_path / "stuck", demo.hw)
    src, rel = cc.notebooks(root, demo.hw)
    nb = build_submission(REFERENCE, src, rel)
    insert_cells(nb, [(None, "while True:\n    pass")])  # held for the 20 s cell limit
    (root / "submitted" / "slow" / demo.hw).mkdir(parents=True)
    nbformat.write(nb, str(root / "submitted" / "slow" / demo.hw / f"{demo.hw}.ipynb"))
    proc = cc.dlgrade("grade", "--workers", "1", "--task-timeout", "3", "--no-progress", *SANDBOX_ARGS, cwd=root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    state = json.loads((root / ".dlgrade" / "state.json").read_text())["results"][f"{demo.hw}/slow"]
    assert state["status"] == "failed" and "longer than 3 s" in state["reason"]
    assert _scores(root, demo.hw)["slow"][0] == 0
    # a stopped grading is not "up to date": the next run grades it
    again = cc.dlgrade("grade", "--workers", "1", "--no-progress", *SANDBOX_ARGS, cwd=root)
    assert again.returncode == 0
    assert "1 graded now, 0 up to date" in again.stdout
    assert _scores(root, demo.hw)["slow"][0] == pytest.approx(sum(demo.points.values()))
    state = json.loads((root / ".dlgrade" / "state.json").read_text())["results"][f"{demo.hw}/slow"]
    assert state["status"] == "warning" and "time limit" in state["reason"]


# -- these change the demo course: keep them last -------------------------------------------

def test_rerun_skips_up_to_date_and_keeps_manual_grades(demo):
    gid = next(iter(demo.points))
    with Gradebook(f"sqlite:///{demo.root / 'gradebook.db'}") as gb:
        grade = gb.find_grade(gid, demo.hw, demo.hw, "demo-blank-ben")
        grade.manual_score = 0.5
        gb.db.commit()
    proc = cc.dlgrade("grade", "--no-progress", *SANDBOX_ARGS, cwd=demo.root)
    assert proc.returncode == 0
    if grader_fingerprint(demo.root, demo.hw) != demo.grader:
        # someone edited the grading code since the first run: every result is stale once
        assert f"{len(demo.students)} graded now, 0 up to date" in proc.stdout
        proc = cc.dlgrade("grade", "--no-progress", *SANDBOX_ARGS, cwd=demo.root)
    assert f"0 graded now, {len(demo.students)} up to date" in proc.stdout
    # the blank student hands in the reference solution: only that submission is regraded
    src = demo.src
    rel = nbformat.read(str(demo.root / "release" / demo.hw / f"{demo.hw}.ipynb"), as_version=4) \
        if (demo.root / "release" / demo.hw).exists() else \
        nbformat.read(str(demo.root / ".dlgrade" / "release" / demo.hw / f"{demo.hw}.ipynb"), as_version=4)
    nbformat.write(build_submission(REFERENCE, src, rel),
                   str(demo.root / "submitted" / "demo-blank-ben" / demo.hw / f"{demo.hw}.ipynb"))
    proc = cc.dlgrade("grade", "--no-progress", *SANDBOX_ARGS, cwd=demo.root)
    assert proc.returncode == 0
    assert f"1 graded now, {len(demo.students) - 1} up to date" in proc.stdout
    with Gradebook(f"sqlite:///{demo.root / 'gradebook.db'}") as gb:
        grade = gb.find_grade(gid, demo.hw, demo.hw, "demo-blank-ben")
        assert grade.auto_score == pytest.approx(demo.points[gid])
        assert grade.manual_score == 0.5 and grade.needs_manual_grade


# -- what instructors export and read ----------------------------------------------------------

def _gradebook_rows(root, hw) -> dict:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {sub.student.id: (sub.score, sub.max_score,
                                 any(g.needs_manual_grade for nb in sub.notebooks for g in nb.grades))
                for sub in gb.find_assignment(hw).submissions}


def test_canvas_csv_has_canvas_layout_and_holds_back_unfinished_scores(demo):
    with open(demo.root / "reports" / "canvas_grades.csv", newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    # Canvas's own export layout: identity columns, then one column per assignment,
    # then a "Points Possible" row that gives new assignments their points
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", demo.hw]
    book = _gradebook_rows(demo.root, demo.hw)
    assert table[1][0] == "Points Possible"
    assert float(table[1][5]) == pytest.approx(next(iter(book.values()))[1])
    by_id = {line[2]: line for line in table[2:]}
    assert sorted(by_id) == demo.students
    with open(demo.root / "reports" / "canvas_pending.csv", newline="", encoding="utf-8") as fh:
        pending = {r["student_id"]: r for r in csv.DictReader(fh)}
    for sid, (score, _, waiting) in book.items():
        if waiting:
            assert by_id[sid][5] == "" and "manual grading" in pending[sid]["why the Canvas cell is empty"]
        else:
            assert float(by_id[sid][5]) == pytest.approx(score) and sid not in pending


def test_canvas_csv_merges_manual_grades_and_marks_missing_work(tmp_path):
    from dlgrade_grader.canvas import write_canvas

    rows = [
        {"student": "s1", "assignment": "hw", "status": "ok", "score": 7.5, "max_score": 10,
         "pending_manual": 0, "first_name": "Ada", "last_name": "Lovelace", "lms_user_id": "4411"},
        {"student": "s2", "assignment": "hw", "status": "ok", "score": 3, "max_score": 10, "pending_manual": 2},
        {"student": "s3", "assignment": "hw", "status": "missing", "score": None, "max_score": 10},
    ]
    write_canvas(tmp_path, rows, ["hw"], canvas_ids={"hw": 987})
    with open(tmp_path / "canvas_grades.csv", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0][5] == "hw (987)"
    assert table[2] == ["Lovelace, Ada", "4411", "s1", "", "", "7.5"]
    assert table[3][5] == "" and table[4][5] == ""
    with open(tmp_path / "canvas_pending.csv", newline="") as fh:
        pending = {r["student_id"]: r["why the Canvas cell is empty"] for r in csv.DictReader(fh)}
    assert pending == {"s2": "waiting for manual grading (2 cells)", "s3": "not submitted"}


def test_instructor_view_links_plots_mistakes_and_feedback(demo):
    reports = demo.root / "reports"
    for name in ("score_distribution.png", f"pass_rates_{demo.hw}.png"):
        assert (reports / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    page = (reports / "index.html").read_text(encoding="utf-8")
    for name in ("grades.csv", "canvas_grades.csv", "mistakes.csv", "score_distribution.png",
                 f"pass_rates_{demo.hw}.png"):
        assert f'"{name}"' in page, name
    hrefs = re.findall(r'href="([^"]+)"', page)
    feedback = [h for h in hrefs if "feedback" in h]
    assert len(feedback) == len(demo.students)
    assert all((reports / html.unescape(h)).resolve().exists() for h in feedback)
    # every named mistake a sidecar recorded is counted once per student in mistakes.csv
    named = {}
    for sid in demo.students:
        sidecar = json.loads((demo.root / "autograded" / sid / demo.hw / f"{demo.hw}.dlgrade.json").read_text())
        for cell in sidecar["cells"].values():
            for check in cell["checks"]:
                for message in check["mistakes"]:
                    named.setdefault((check["id"], message), set()).add(sid)
    with open(reports / "mistakes.csv", newline="", encoding="utf-8") as fh:
        listed = {(r["check"], r["mistake"]): int(r["students"]) for r in csv.DictReader(fh)}
    assert listed == {k: len(v) for k, v in named.items()}
    assert named, "the demo's typical mistakes should include at least one modelled mistake"
    (check, message), n = max(listed.items(), key=lambda kv: kv[1])
    assert f"{n} student{'s' if n != 1 else ''}: {html.escape(message)}" in page
