"""The GitHub Actions workflows: actionlint-clean, and their commands are real.

actionlint comes from PyPI (a wheel that ships the binary), pinned in
requirements.txt. The sharded grading the autograde workflow performs is
exercised locally by ``test_cohort.py::test_shards_merge_into_one_gradebook``.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dlgrade_grader.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
# sample values for the expressions a run step may contain
EXPRESSIONS = {"matrix.shard": "1", "strategy.job-total": "4", "inputs.assignment": "vjp_autograd"}


def _load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def _actionlint() -> str:
    found = shutil.which("actionlint") or shutil.which("actionlint", path=os.path.dirname(sys.executable))
    if not found:
        pytest.fail("actionlint is not installed (pip install -r requirements.txt)")
    return found


def _runs(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            if "run" in step:
                yield job_id, step["run"]


def test_actionlint_is_clean():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert len(files) >= 2
    proc = subprocess.run([_actionlint(), "-no-color", "-oneline", *map(str, files)], capture_output=True,
                          text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    bad = tmp_path / ".github" / "workflows"
    bad.mkdir(parents=True)
    (bad / "bad.yml").write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    needs: nowhere\n"
                                 "    steps:\n      - run: echo ${{ matrix.nope }}\n")
    proc = subprocess.run([_actionlint(), "-no-color", "-oneline", str(bad / "bad.yml")], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode != 0 and "nowhere" in proc.stdout


def test_autograde_shards_over_a_matrix_then_merges():
    wf = _load("autograde.yml")
    assert "workflow_dispatch" in wf["on"]
    grade = next(job for job in wf["jobs"].values() if "matrix" in job.get("strategy", {}))
    shards = grade["strategy"]["matrix"]["shard"]
    assert shards == list(range(len(shards))) and len(shards) >= 2
    assert grade["strategy"].get("fail-fast") is False  # one bad shard must not cancel the others
    grade_id = next(k for k, v in wf["jobs"].items() if v is grade)
    merge = next(job for job in wf["jobs"].values() if grade_id in (job.get("needs") or []) or
                 job.get("needs") == grade_id)
    uploads = [s for s in grade["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert uploads and "matrix.shard" in uploads[0]["with"]["name"]
    assert uploads[0]["with"].get("include-hidden-files") is True  # .dlgrade/state.json holds the reasons
    downloads = [s for s in merge["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact")]
    assert downloads and downloads[0]["with"]["pattern"].startswith("shard-")
    grade_cmds = [run for _, run in _runs({"jobs": {"g": grade}}) if "dlgrade grade" in run]
    assert grade_cmds and "matrix.shard" in grade_cmds[0] and "strategy.job-total" in grade_cmds[0]
    assert any("dlgrade merge" in run for _, run in _runs({"jobs": {"m": merge}}))
    results = [s for s in merge["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert {"gradebook.db", "reports/", "feedback/"} <= set(results[-1]["with"]["path"].split())


def test_push_workflow_checks_release_and_runs_the_grader_tests():
    wf = _load("tests.yml")
    assert "push" in wf["on"]
    runs = "\n".join(run for _, run in _runs(wf))
    assert "python -m dlgrade_grader.release --check" in runs
    assert re.search(r"pytest grader_tests\b", runs)
    assert "scripts/setup.sh" in runs  # bubblewrap, postgresql and both venvs, as on a fresh machine
    setup = (REPO / "scripts" / "setup.sh").read_text()
    assert "postgresql" in setup and "bubblewrap" in setup and ".venv-kernel" in setup


def test_autograde_takes_the_course_key_from_a_secret():
    wf = _load("autograde.yml")
    grade = next(job for job in wf["jobs"].values() if "matrix" in job.get("strategy", {}))
    assert grade["env"]["DLGRADE_COURSE_KEY"] == "${{ secrets.DLGRADE_COURSE_KEY }}"


def test_every_dlgrade_command_in_the_workflows_parses():
    parser = build_parser()
    seen = 0
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for _, run in _runs(_load(path.name)):
            for line in run.splitlines():
                line = line.strip()
                if not line.startswith("dlgrade "):
                    continue
                line = re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: EXPRESSIONS[m.group(1)], line)
                line = line.replace("$ASSIGNMENT", EXPRESSIONS["inputs.assignment"])
                args = parser.parse_args(shlex.split(line)[1:])  # argparse exits on a bad command
                assert args.command in ("grade", "demo-cohort", "merge", "keygen")
                seen += 1
    assert seen >= 3
    from dlgrade_grader import release
    assert callable(getattr(release, "main", None))
