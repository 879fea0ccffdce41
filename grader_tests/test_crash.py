"""Deadline night: the grader's own parts crash, and nothing is lost or counted twice.

Every fault here is real: ``dlgrade grade`` is killed with SIGKILL at named
points (:mod:`dlgrade_grader.crashpoints`), a worker is killed while its kernel
runs, a second grader is started on a busy course. After each, the course is
compared with a clean run of the same submissions: gradebook rows, the
grades CSV, every verdict and every feedback page.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import psutil
import pytest
from nbgrader.api import Gradebook

from grader_tests import localcourse
from dlgrade_grader.crashpoints import ENV as CRASH_ENV
from dlgrade_grader.submissions import insert_cells
from grader_tests import cohort_course as cc

SANDBOX_OK, _ = cc.sandbox_ready()
SANDBOX_ARGS = [] if SANDBOX_OK else ["--unsafe-no-sandbox"]
KEEP = ("demo-perfect-", "demo-blank-", "demo-mistake-", "demo-tamper-")
RUN_MARK = "DLGRADE_CRASH_TEST_RUN"  # finds the processes of one run, orphans included


def _start(root: Path, *args, env: dict | None = None) -> subprocess.Popen:
    full = localcourse.nbgrader_env()
    full.pop("DLGRADE_UNSAFE_NO_SANDBOX", None)
    full.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "dlgrade_grader.cli", *args, *SANDBOX_ARGS], cwd=root,
                            env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _grade(root: Path, *extra, env: dict | None = None) -> subprocess.CompletedProcess:
    proc = _start(root, "grade", "--workers", "2", "--no-progress", *extra, env=env)
    out, err = proc.communicate(timeout=900)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _texts(nb_path: Path) -> list:
    nb = nbformat.read(str(nb_path), as_version=4)
    return ["".join(o.get("text", "") for o in c.get("outputs", [])) for c in nb.cells if c.cell_type == "code"]


def snapshot(root: Path, hw: str) -> dict:
    """Everything a crash could corrupt, lose or double: what the gradebook holds per submission,
    the grades CSV, each autograded notebook's outputs and each feedback page."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        subs = gb.find_assignment(hw).submissions
        grades = {s.student.id: {g.name: (g.auto_score, g.manual_score) for nb in s.notebooks for g in nb.grades}
                  for s in subs}
        rows = len(subs)
    students = sorted(p.name for p in (root / "submitted").iterdir())
    return {
        "rows": rows,
        "grades": grades,
        "csv": (root / "reports" / "grades.csv").read_text(),
        "verdicts": {s: _texts(root / "autograded" / s / hw / f"{hw}.ipynb") for s in students},
        "feedback": {s: (root / "feedback" / s / hw / f"{hw}.html").read_text() for s in students},
    }


def _assert_same(got: dict, want: dict) -> None:
    assert got["rows"] == want["rows"], "a submission was lost or counted twice"
    assert got["grades"] == want["grades"]
    assert got["csv"] == want["csv"]
    assert got["verdicts"] == want["verdicts"]
    for sid in want["feedback"]:
        assert got["feedback"][sid] == want["feedback"][sid], f"feedback of {sid} differs"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A small course with four kinds of student, not graded yet."""
    hw, root = cc.make_demo_course(tmp_path_factory.mktemp("crash"))
    for folder in (root / "submitted").iterdir():
        if not folder.name.startswith(KEEP):
            shutil.rmtree(folder)
    # demo-cohort filled .dlgrade/ and gradebook.db while writing the release: start from nothing
    for path in (root / ".dlgrade", root / "gradebook.db"):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    return hw, root


def _copy(prepared, dest: Path) -> Path:
    shutil.copytree(prepared[1], dest, symlinks=True)
    return dest


@pytest.fixture(scope="module")
def clean(prepared, tmp_path_factory):
    hw, _ = prepared
    root = _copy(prepared, tmp_path_factory.mktemp("clean") / "course")
    proc = _grade(root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root, snapshot(root, hw)


def _run_processes(mark: str) -> list:
    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get(RUN_MARK) == mark:
                found.append(p)
        except (psutil.Error, OSError):
            continue
    return found


@pytest.mark.parametrize("point", ["dispatched:3", "received:2", "imported:2", "reports:1"])
def test_killed_grader_resumes_to_the_clean_result(prepared, clean, tmp_path, point):
    """SIGKILL to ``dlgrade grade`` while it hands out work, between receiving a result and the
    gradebook, between the gradebook and the state file, and half-way through the reports; then
    the same command again."""
    hw, _ = prepared
    root = _copy(prepared, tmp_path / "course")
    mark = str(tmp_path)
    crashed = _grade(root, env={CRASH_ENV: point, RUN_MARK: mark})
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout[-2000:] + crashed.stderr[-2000:]
    # no worker or kernel of the killed run outlives it and writes into the course meanwhile
    deadline = time.monotonic() + 20
    while _run_processes(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _run_processes(mark), "processes of the killed run survived it"

    state = root / ".dlgrade" / "state.json"
    recorded = len(json.loads(state.read_text())["results"]) if state.exists() else 0
    again = _grade(root)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    total = len(clean[1]["grades"])
    # what was recorded before the crash is not graded again; the rest is graded exactly once
    assert f"{total - recorded} graded now, {recorded} up to date" in again.stdout, again.stdout[-1500:]
    _assert_same(snapshot(root, hw), clean[1])


def test_regrading_gives_the_same_scores_verdicts_and_feedback(prepared, clean, tmp_path):
    """Nothing a student reads depends on when or where it was graded (no time stamps, no
    temporary paths): a forced regrade of a copy of the course reproduces every byte."""
    hw, _ = prepared
    root = tmp_path / "course"
    shutil.copytree(clean[0], root, symlinks=True)
    proc = _grade(root, "--force")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    _assert_same(snapshot(root, hw), clean[1])


@pytest.fixture(scope="module")
def busy(prepared, tmp_path_factory):
    """One ``dlgrade grade`` whose notebooks each take a few seconds; while it runs, a second
    grader is started on the same course and one worker is killed in the middle of a notebook."""
    hw, _ = prepared
    root = _copy(prepared, tmp_path_factory.mktemp("busy") / "course")
    for folder in sorted((root / "submitted").iterdir()):
        path = folder / hw / f"{hw}.ipynb"
        nb = nbformat.read(str(path), as_version=4)
        insert_cells(nb, [(None, "import time\ntime.sleep(4)")])
        nbformat.write(nb, str(path))
    first = _start(root, "grade", "--workers", "2", "--no-progress")
    main = psutil.Process(first.pid)
    victim, deadline = None, time.monotonic() + 120
    while victim is None and time.monotonic() < deadline and first.poll() is None:
        for proc in main.children(recursive=True):
            try:
                if _is_worker(proc) and proc.children(recursive=True):
                    victim = proc  # a worker whose kernel is running
                    break
            except psutil.Error:
                continue
        time.sleep(0.2)
    assert victim is not None, "no worker ever ran a kernel"
    second = cc.dlgrade("grade", "--no-progress", *SANDBOX_ARGS, cwd=root)
    plain = _nbgrader(root, "autograde", hw, "--force")
    plain_out = plain.communicate(timeout=120)
    os.kill(victim.pid, signal.SIGKILL)
    out, err = first.communicate(timeout=900)
    after = cc.dlgrade("grade", "--no-progress", *SANDBOX_ARGS, cwd=root)
    return SimpleNamespace(hw=hw, root=root, pid=first.pid, code=first.returncode, output=out + err,
                           second=second, after=after, plain=(plain.returncode, *plain_out))


def _is_worker(proc) -> bool:
    """A grading worker: forked by multiprocessing, leading its own process group (setpgrp)."""
    return "multiprocessing" in " ".join(proc.cmdline()) and os.getpgid(proc.pid) == proc.pid


def _nbgrader(root: Path, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nbgrader", *args], cwd=root, env=localcourse.nbgrader_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def test_second_grader_on_a_busy_course_is_refused_with_a_reason(busy):
    second = busy.second
    assert second.returncode == 3, second.stdout[-2000:] + second.stderr[-2000:]
    assert "is busy" in second.stderr and f"pid {busy.pid}" in second.stderr, second.stderr
    assert busy.code == 0, busy.output[-3000:]
    # the lock goes with its holder: the next run is not refused
    assert busy.after.returncode == 0, busy.after.stdout[-2000:] + busy.after.stderr[-2000:]


def test_nbgrader_autograde_on_a_busy_course_is_refused(busy):
    code, out, err = busy.plain
    assert code == 3, out[-2000:] + err[-2000:]
    assert "`dlgrade grade`" in err and f"pid {busy.pid}" in err, err[-2000:]


def test_dlgrade_grade_waits_for_nbgrader_autograde(prepared, clean, tmp_path):
    """The other way round: ``nbgrader autograde`` holds the course from its first line on."""
    hw, _ = prepared
    root = tmp_path / "course"
    shutil.copytree(clean[0], root, symlinks=True)  # graded once: nbgrader finds the assignment
    path = root / "submitted" / "demo-perfect-ada" / hw / f"{hw}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    insert_cells(nb, [(None, "import time\ntime.sleep(50)")])  # keeps nbgrader busy meanwhile
    nbformat.write(nb, str(path))
    state = (root / ".dlgrade" / "state.json").read_bytes()
    plain = _nbgrader(root, "autograde", hw, "--force")
    lock, deadline = root / ".dlgrade" / "lock", time.monotonic() + 60
    try:
        while "nbgrader autograde" not in (lock.read_text() if lock.exists() else ""):
            assert plain.poll() is None and time.monotonic() < deadline, plain.communicate()
            time.sleep(0.1)
        refused = cc.dlgrade("grade", "--no-progress", *SANDBOX_ARGS, cwd=root)
        assert plain.poll() is None, ("nbgrader finished before the check", plain.communicate())
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(plain.pid, signal.SIGKILL)
        plain.communicate()
    assert refused.returncode == 3, refused.stdout[-2000:] + refused.stderr[-2000:]
    assert f"`nbgrader autograde` (pid {plain.pid}" in refused.stderr, refused.stderr
    assert (root / ".dlgrade" / "state.json").read_bytes() == state, "dlgrade went on past the lock"


def test_worker_killed_mid_notebook_is_regraded_and_the_batch_finishes(busy, clean):
    hw, root, code, output, after = busy.hw, busy.root, busy.code, busy.output, busy.after
    assert code == 0, output[-3000:]
    students = sorted(p.name for p in (root / "submitted").iterdir())
    state = snapshot(root, hw)
    assert state["rows"] == len(students)
    text = (root / ".dlgrade" / "state.json").read_text()
    assert '"failed"' not in text, "the killed worker's submission was not graded again"
    # every submission graded once: the run after it finds them all up to date
    assert f"0 graded now, {len(students)} up to date" in after.stdout, after.stdout[-1500:]
    want = clean[1]["grades"]
    for sid in students:
        if sid.startswith(("demo-perfect-", "demo-blank-")):
            assert state["grades"][sid] == want[sid], sid


ROOM = int(os.environ.get("DLGRADE_TEST_DISK_ROOM", 640 << 10))  # what the full disk leaves for grading


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of its own, so that filling it fills nothing else."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(mnt)], capture_output=True,
                          text=True)
    if made.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs on CI: {made.stderr}")
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "--lazy", str(mnt)], capture_output=True)


def _fill(path: Path, leave: int) -> None:
    """Take all the space of path's file system but ``leave`` bytes."""
    with open(path, "wb") as fh:
        chunk = b"\0" * (1 << 20)
        while shutil.disk_usage(path.parent).free > leave + len(chunk):
            fh.write(chunk)
            fh.flush()
        fh.write(b"\0" * max(0, shutil.disk_usage(path.parent).free - leave - 4096))


def test_full_disk_stops_with_the_path_and_the_next_run_completes(prepared, clean, small_disk):
    """The course's disk fills up mid-batch: a clear error naming the place, the gradebook and the
    state file intact, and once space is freed the same command completes to the clean result."""
    import sqlite3

    hw, _ = prepared
    root = _copy(prepared, small_disk / "course")
    filler = small_disk / "filler"
    _fill(filler, ROOM)
    full = _grade(root)
    assert full.returncode == 4, full.stdout[-3000:] + full.stderr[-3000:]
    assert "the disk is full" in full.stderr and str(small_disk) in full.stderr, full.stderr[-3000:]
    assert "Traceback" not in full.stderr, full.stderr[-3000:]
    with sqlite3.connect(root / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    state = root / ".dlgrade" / "state.json"
    recorded = json.loads(state.read_text())["results"] if state.exists() else {}
    assert all(r["status"] != "failed" for r in recorded.values()), "a machine fault was counted as a failure"

    filler.unlink()
    again = _grade(root)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    _assert_same(snapshot(root, hw), clean[1])
