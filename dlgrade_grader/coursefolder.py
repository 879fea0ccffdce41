"""A course folder made from this repository: its config, its source, the assignments released.

``python -m dlgrade_grader.release`` and ``dlgrade demo-cohort`` build on it;
the tests and the benchmark use it for their throw-away courses.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]


def nbgrader_env() -> dict:
    env = dict(os.environ)
    # nbgrader runs the alembic CLI when it creates a gradebook
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_nbgrader(args: list, cwd: Path, timeout: float | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=nbgrader_env(),
                          capture_output=True, text=True, timeout=timeout)


def init_course(root: Path, assignments, repo: Path = REPO) -> Path:
    """A course at ``root`` with the repo's config and source, assignments released."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(repo / "nbgrader_config.py", root / "nbgrader_config.py")
    for hw in assignments:
        dst = root / "source" / hw
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(repo / "source" / hw, dst)
    # one nbgrader process for all assignments: its start-up dominates small courses
    names = list(assignments)
    # source/ holds exactly these assignments, so "*" selects them all
    target = names[0] if len(names) == 1 else "--CourseDirectory.assignment_id=*"
    proc = run_nbgrader(["generate_assignment", "--force", target], root)
    missing = [hw for hw in names if not (root / "release" / hw).exists()]
    if proc.returncode != 0 or missing:
        raise RuntimeError(f"nbgrader generate_assignment failed for {missing}:\n{proc.stdout}\n{proc.stderr}")
    return root


def read_notebook(root: Path, folder: str, hw: str):
    return nbformat.read(str(root / folder / hw / f"{hw}.ipynb"), as_version=4)
