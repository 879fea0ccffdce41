"""A TA grades a proof by hand in formgrader, in a real browser (headless Chromium, Playwright).

The loop as a TA lives it: grade the cohort, start formgrader, open the list of submissions,
open one, read the rubric beside the student's proof, type a score and a comment, then find
both in the gradebook, in ``reports/grades.csv`` and ``reports/canvas_grades.csv`` and in the
feedback the student gets back (``dlgrade feedback``). A screenshot of the grading page is kept
in ``test-artifacts/``.
"""
from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from dlgrade_grader.submissions import BLANK, REFERENCE, build_submission
from grader_tests import cohort_course as cc

HW = "mle_map"          # its proofs are graded by hand
PROOF = "proof_mle"
SCORE, COMMENT = 11, "Good argument; say why Z must not depend on theta (-2)."


def _puts(response, api: str, field: str, value) -> bool:
    """Is this formgrader's save of ``field`` = ``value``?"""
    if api not in response.url or response.request.method != "PUT":
        return False
    try:
        body = json.loads(response.request.post_data or "{}")
    except ValueError:
        return False
    return body.get(field) in (value, str(value))
# Debian's package here; GitHub's Ubuntu runners ship Google Chrome instead
CHROMIUM = shutil.which("chromium") or shutil.which("google-chrome") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("DLGRADE_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = cc.make_course(tmp_path_factory.mktemp("formgrader") / "course", HW, n_tests=2)
    src, rel = cc.notebooks(root, HW)
    assert any(c.metadata.get("nbgrader", {}).get("grade_id") == PROOF for c in src.cells)
    for sid, variant in (("ada", REFERENCE), ("ben", BLANK)):
        path = root / "submitted" / sid / HW / f"{HW}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(build_submission(variant, src, rel), str(path))
    proc = cc.dlgrade("grade", "--workers", "2", "--no-progress", cwd=root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root


@pytest.fixture(scope="module")
def formgrader(course, tmp_path_factory):
    """nbgrader's formgrader in a Jupyter server on a free local port, as `nbgrader formgrader` runs it."""
    port, token = _free_port(), "dlgrade-test-token"
    home = tmp_path_factory.mktemp("home")
    env = {**os.environ, "HOME": str(home), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    log = open(home / "server.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", "--ServerApp.allow_root=True", f"--ServerApp.root_dir={course}"],
        cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("formgrader did not start:\n" + (home / "server.log").read_text()[-3000:])
                time.sleep(0.3)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _grade(course, sid):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        grade = gb.find_grade(PROOF, HW, HW, sid)
        comment = gb.find_comment(PROOF, HW, HW, sid)
        return grade.manual_score, grade.needs_manual_grade, comment.manual_comment, \
            gb.find_submission_notebook(HW, HW, sid).id


def test_ta_grades_a_proof_in_formgrader(course, formgrader):
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Chromium is missing: bash scripts/setup.sh installs it for the tests"
    base, token = formgrader
    manual, waiting, _, submission_id = _grade(course, "ada")
    assert manual is None and waiting, "the proof should be waiting for a TA before the test grades it"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1000},
                                          extra_http_headers={"Authorization": f"token {token}"})
            page = context.new_page()
            # the TA's way in: Manual Grading > assignment > notebook > a submission
            page.goto(f"{base}/formgrader/gradebook/{HW}/{HW}")
            link = page.locator(f"a[href*='/formgrader/submissions/{submission_id}']")
            link.first.wait_for(timeout=30_000)
            assert page.locator("table tbody tr").count() == 2  # ada and ben
            link.first.click()
            score = page.locator(f"input#{PROOF}.score")
            score.wait_for(timeout=30_000)
            # formgrader binds its save handlers once it has fetched the grades: under load the
            # input is on the page before that, and a value typed then is never saved
            page.wait_for_load_state("networkidle", timeout=60_000)
            # the rubric is on the page, next to the proof it marks
            assert page.get_by_text(f"Mark scheme for {PROOF}").count() == 1
            assert page.get_by_text("Same optimiser.").count() >= 1
            # wait for the PUT that carries this value: under load formgrader may save a field once
            # more before it, and the browser must not close while the real save is in flight
            with page.expect_response(lambda r: _puts(r, "/api/grade/", "manual_score", SCORE)) as saved:
                score.fill(str(SCORE))
                score.dispatch_event("change")
            assert saved.value.ok
            box = page.locator(f"textarea#{PROOF}-comment")
            with page.expect_response(lambda r: _puts(r, "/api/comment/", "manual_comment", COMMENT)) as saved:
                box.fill(COMMENT)
                box.dispatch_event("change")
            assert saved.value.ok
            score.scroll_into_view_if_needed()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "formgrader_manual_grade.png"))
        finally:
            browser.close()

    manual, waiting, comment, _ = _grade(course, "ada")
    assert (manual, waiting, comment) == (SCORE, False, COMMENT)

    # the student gets it back: feedback and reports rebuilt from the gradebook, nothing regraded
    proc = cc.dlgrade("feedback", cwd=course)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    page = html.unescape((course / "feedback" / "ada" / HW / f"{HW}.html").read_text())
    assert COMMENT in page
    assert re.search(rf"{SCORE}(\.0)?\s*/\s*13", page)
    assert "Mark scheme" not in page
    with open(course / "reports" / "grades.csv", newline="", encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["student_id"] == "ada")
    assert float(row[f"{HW}/{PROOF} (max 13)"]) == SCORE and row["final"] == "yes"
    with open(course / "reports" / "canvas_grades.csv", newline="", encoding="utf-8") as fh:
        canvas = {line[2]: line for line in list(csv.reader(fh))[2:]}
    assert float(canvas["ada"][5]) == pytest.approx(float(row["score"]))
