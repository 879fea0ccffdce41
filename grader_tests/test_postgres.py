"""Parallel workers grading straight into a real PostgreSQL gradebook.

The test starts its own server from the Debian package (``postgresql``):
``initdb`` and ``postgres`` run as an unprivileged user (``nobody`` when the
tests run as root), listening only on a unix socket in a private temporary
folder. ``.ci/run`` installs the package on a fresh machine.
"""
from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from grader_tests import cohort_course as cc

SANDBOX_OK, _ = cc.sandbox_ready()


def _pg_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _missing(what: str):
    # on CI the server must be there (.ci/run installs it): a skip would hide a broken setup
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing on CI")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module")
def postgres():
    pg = _pg_bin()
    if pg is None:
        _missing("the PostgreSQL server (Debian package postgresql)")
    try:
        import psycopg2
    except ImportError:
        _missing("psycopg2 (psycopg2-binary)")
    run_as = {}
    base = Path(tempfile.mkdtemp(prefix="dlgrade-pg-"))
    if os.geteuid() == 0:  # postgres refuses to run as root
        nobody = pwd.getpwnam("nobody")
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
        run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
    data, port = base / "data", 5432 + os.getpid() % 1000
    subprocess.run([str(pg / "initdb"), "-D", str(data), "-U", "dlgrade", "--auth=trust", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True, cwd=base, **run_as)
    server = subprocess.Popen([str(pg / "postgres"), "-D", str(data), "-k", str(base), "-p", str(port),
                               "-c", "listen_addresses=", "-c", "fsync=off", "-c", "max_connections=60"],
                              stdout=subprocess.DEVNULL, stderr=open(base / "server.log", "wb"), cwd=base,
                              **run_as)
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = psycopg2.connect(dbname="postgres", user="dlgrade", host=str(base), port=port)
            break
        except psycopg2.OperationalError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("postgres did not start:\n" + (base / "server.log").read_text())
            time.sleep(0.3)
    conn.autocommit = True
    conn.cursor().execute("CREATE DATABASE gradebook")
    conn.close()
    yield f"postgresql+psycopg2://dlgrade@/gradebook?host={base}&port={port}"
    server.send_signal(signal.SIGINT)  # fast shutdown
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
    shutil.rmtree(base, ignore_errors=True)


def test_parallel_workers_grade_into_postgres(postgres, tmp_path):
    from nbgrader.api import Gradebook

    hw = cc.pick_assignment()
    root = cc.make_course(tmp_path / "course", hw, n_tests=1)
    made = cc.dlgrade("demo-cohort", "--course", str(root), cwd=root)
    assert made.returncode == 0, made.stdout + made.stderr
    students = sorted(p.name for p in (root / "submitted").iterdir())
    args = ["grade", "--workers", "2", "--no-progress", "--db-url", postgres]
    proc = cc.dlgrade(*args, *([] if SANDBOX_OK else ["--unsafe-no-sandbox"]), cwd=root)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]

    state = json.loads((root / ".dlgrade" / "state.json").read_text())["results"]
    assert {r["worker"] for r in state.values()} == {0, 1}
    points = dict(cc.grade_cell_points(nbformat.read(str(root / "source" / hw / f"{hw}.ipynb"), as_version=4)))
    with Gradebook(postgres) as gb:
        assert sorted(s.id for s in gb.students) == students
        subs = {s.student.id: s for s in gb.find_assignment(hw).submissions}
        assert sorted(subs) == students
        for sid, sub in subs.items():
            grades = [g for nb in sub.notebooks for g in nb.grades]
            assert {g.name for g in grades} >= set(points)
            assert all(g.auto_score is not None for g in grades if g.name in points), sid
        assert subs["demo-perfect-ada"].score == pytest.approx(sum(points.values()))
        assert subs["demo-blank-ben"].score == 0
    # the workers wrote to the server, not to a SQLite file in the course
    if (root / "gradebook.db").exists():  # demo-cohort may have made one to generate the release
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            assert not any(a.submissions for a in gb.assignments)
    # a second run finds everything up to date in the server's gradebook
    again = cc.dlgrade(*args, *([] if SANDBOX_OK else ["--unsafe-no-sandbox"]), cwd=root)
    assert again.returncode == 0 and f"0 graded now, {len(students)} up to date" in again.stdout
