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
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from grader_tests import localcourse
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


class Server:
    """A PostgreSQL server of the test's own, which a test can restart."""

    def __init__(self, pg: Path):
        import psycopg2
        self.pg, self.psycopg2 = pg, psycopg2
        self.run_as = {}
        self.base = Path(tempfile.mkdtemp(prefix="dlgrade-pg-"))
        if os.geteuid() == 0:  # postgres refuses to run as root
            nobody = pwd.getpwnam("nobody")
            os.chown(self.base, nobody.pw_uid, nobody.pw_gid)
            self.run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        self.data, self.port = self.base / "data", 5432 + os.getpid() % 1000
        subprocess.run([str(pg / "initdb"), "-D", str(self.data), "-U", "dlgrade", "--auth=trust", "-E", "UTF8",
                        "--no-sync"], check=True, capture_output=True, cwd=self.base, **self.run_as)
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(self.pg / "postgres"), "-D", str(self.data), "-k", str(self.base), "-p", str(self.port),
             "-c", "listen_addresses=", "-c", "fsync=off", "-c", "max_connections=60"],
            stdout=subprocess.DEVNULL, stderr=open(self.base / "server.log", "ab"), cwd=self.base, **self.run_as)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.psycopg2.connect(dbname="postgres", user="dlgrade", host=str(self.base), port=self.port).close()
                return
            except self.psycopg2.OperationalError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.proc.kill()
                    raise RuntimeError("postgres did not start:\n" + (self.base / "server.log").read_text())
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)  # fast shutdown: every open connection is cut
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def database(self, name: str) -> str:
        conn = self.psycopg2.connect(dbname="postgres", user="dlgrade", host=str(self.base), port=self.port)
        conn.autocommit = True
        conn.cursor().execute(f"CREATE DATABASE {name}")
        conn.close()
        return f"postgresql+psycopg2://dlgrade@/{name}?host={self.base}&port={self.port}"


@pytest.fixture(scope="module")
def server():
    pg = _pg_bin()
    if pg is None:
        _missing("the PostgreSQL server (Debian package postgresql)")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        _missing("psycopg2 (psycopg2-binary)")
    srv = Server(pg)
    yield srv
    srv.stop()
    shutil.rmtree(srv.base, ignore_errors=True)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """A demo cohort, not graded yet."""
    hw = cc.pick_assignment()
    root = cc.make_course(tmp_path_factory.mktemp("pg") / "course", hw, n_tests=1)
    made = cc.dlgrade("demo-cohort", "--course", str(root), cwd=root)
    assert made.returncode == 0, made.stdout + made.stderr
    return hw, root


def _grade_args(url: str) -> list:
    return ["grade", "--workers", "2", "--no-progress", "--db-url", url, *([] if SANDBOX_OK else ["--unsafe-no-sandbox"])]


def _scores(url: str, hw: str) -> dict:
    from nbgrader.api import Gradebook
    with Gradebook(url) as gb:
        subs = gb.find_assignment(hw).submissions
        out = {s.student.id: {g.name: (g.auto_score, g.manual_score) for nb in s.notebooks for g in nb.grades}
               for s in subs}
        assert len(out) == len(subs), "a submission is in the gradebook twice"
        return out


@pytest.fixture(scope="module")
def graded(server, cohort, tmp_path_factory):
    """The cohort graded into the server with nothing going wrong."""
    hw, src = cohort
    root = tmp_path_factory.mktemp("pg-clean") / "course"
    shutil.copytree(src, root, symlinks=True)
    url = server.database("gradebook")
    proc = cc.dlgrade(*_grade_args(url), cwd=root)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return hw, root, url, proc


def test_parallel_workers_grade_into_postgres(graded):
    from nbgrader.api import Gradebook

    hw, root, postgres, proc = graded
    students = sorted(p.name for p in (root / "submitted").iterdir())
    args = _grade_args(postgres)
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
    again = cc.dlgrade(*args, cwd=root)
    assert again.returncode == 0 and f"0 graded now, {len(students)} up to date" in again.stdout


def test_server_restart_mid_batch_loses_and_doubles_nothing(server, cohort, graded, tmp_path):
    """The gradebook server goes down and comes back while workers write into it: what was being
    written is written again once the server answers, and the gradebook ends as the clean run's."""
    hw, src = cohort
    root = tmp_path / "course"
    shutil.copytree(src, root, symlinks=True)
    url = server.database("restarted")
    env = localcourse.nbgrader_env()
    env.pop("DLGRADE_UNSAFE_NO_SANDBOX", None)
    grading = subprocess.Popen([sys.executable, "-m", "dlgrade_grader.cli", *_grade_args(url)], cwd=root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state, deadline = root / ".dlgrade" / "state.json", time.monotonic() + 300
    while not any(r.get("worker") is not None for r in _results(state).values()):
        assert grading.poll() is None and time.monotonic() < deadline, grading.communicate()
        time.sleep(0.1)
    server.stop()
    time.sleep(2)  # long enough for the workers to find the server gone
    server.start()
    out, err = grading.communicate(timeout=600)
    assert grading.returncode == 0, out[-3000:] + err[-3000:]
    assert "waiting for the gradebook database" in err, "the restart went unnoticed: " + err[-2000:]
    results = _results(state)
    assert not any("grader error" in r.get("reason", "") for r in results.values()), results
    # every submission once, each with the clean run's scores
    assert _scores(url, hw) == _scores(graded[2], hw)
    again = cc.dlgrade(*_grade_args(url), cwd=root)
    assert again.returncode == 0 and f"0 graded now, {len(results)} up to date" in again.stdout, again.stdout


def _results(state: Path) -> dict:
    try:
        return json.loads(state.read_text())["results"]
    except (OSError, ValueError, KeyError):
        return {}
