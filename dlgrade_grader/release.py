"""Regenerate ``source/`` from ``course/*.cells`` and ``release/`` from ``source/``.

    python -m dlgrade_grader.release            # rewrite source/ and release/
    python -m dlgrade_grader.release --check    # exit 1 if either has drifted

``release/`` is what students get, and it is self-contained: the notebooks,
plus ``release/dlgrade-student/``, the student package built from its own
source tree ``dlgrade/`` (the check API, how each check calls student code)
and the visible cases as data: inputs and expected outputs computed here, by
the grader, at release time. It holds no reference code, case generator or
mistake model, and needs no torch or autograd. ``release/classroom/`` is a GitHub Classroom
template: a workflow that runs ``dlgrade check`` on a student's notebooks on every push.
The release notebooks are produced by ``nbgrader generate_assignment`` in a
throw-away course, so the repository's gradebook is never touched.
"""
from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from dlgrade import __version__, records
from . import authoring, hw
from .casebook import is_test_cell
from .checks import make_cases, public_seed
from .coursefolder import REPO, init_course
from .verify import parse_check_calls

STUDENT_PACKAGE = "dlgrade-student"
STUDENT_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "dlgrade"
version = "{version}"
description = "Visible checks for the deep-learning mathematics homework (student edition)"
requires-python = ">=3.10"
dependencies = ["numpy>=2", "matplotlib", "ipykernel", "graphviz"]

[project.optional-dependencies]
torch = ["torch==2.13.0"]

[project.scripts]
dlgrade = "dlgrade.check_notebook:console"

[tool.setuptools.packages.find]
include = ["dlgrade*"]

[tool.setuptools.package-data]
"dlgrade.hw" = ["data/*.json"]
"""
STUDENT_README = """\
# Deep-learning mathematics: homework

Each folder holds one assignment notebook. `dlgrade-student/` is the course package that the
notebooks' check cells import.

## Python and packages

Your notebook is graded on Python 3.11 with numpy and matplotlib, without torch, autograd or scipy,
except torch_autograd, the notebook about PyTorch's autograd, which is graded with torch 2.13.0 as
well. Use Python 3.11 if you can (the course package installs on Python 3.10 or newer). On your own
computer, from this folder:

    python3.11 -m venv .venv && . .venv/bin/activate
    pip install ./dlgrade-student jupyter
    jupyter lab

For torch_autograd, install the package with its `torch` extra instead (the CPU build is enough;
see pytorch.org for the index that serves it): `pip install "./dlgrade-student[torch]"`. On Colab
torch is already there.

`draw_graph` in the vjp_autograd notebook draws a graph with Graphviz, and that needs the Graphviz
program `dot`, which pip does not install: `sudo apt install graphviz` (Debian, Ubuntu),
`brew install graphviz` (macOS) or `conda install -c conda-forge graphviz`; `dot -V` tells you
whether you have it. Without `dot`, that one cell (not graded) shows the graph's DOT text and a
note instead of the drawing, and the rest of the notebook runs as usual.

## JupyterHub and Google Colab

On JupyterHub, upload this folder (or clone your course repository), open a notebook and run, in a
new cell at the top:

    %pip install ../dlgrade-student

(the path is relative to the notebook's folder). Then restart the kernel.

On Colab, open the notebook (File > Upload notebook). Colab does not see the rest of this folder,
so bring it into the runtime in a new cell at the top: `!git clone` your course repository, or
upload this folder as a zip (Files pane) and `!unzip` it. Then, in that cell,
`%pip install ./FOLDER/dlgrade-student`, with FOLDER where the folder now is, and
Runtime > Restart session. Colab starts a fresh runtime after a while: run the cell again then.

Delete that cell before you submit: the grader counts `%pip`, `!git` and any other `%` or `!`
line (except `%matplotlib inline`) as reaching into the kernel, and by default that withholds all
of the notebook's automatically graded points (`dlgrade check` fails on such a line, so you see it
first). So does importing `dlgrade` in a cell of your own.

## Checking your work

Run the visible check cells as you go: they call your functions on the example cases shipped
in dlgrade-student and tell you what is wrong. When your notebook is graded, every check runs
again on new inputs drawn for your submission (hidden checks add more). Each resubmission draws
new inputs.

Before you submit, `dlgrade check FOLDER/NOTEBOOK.ipynb` runs the whole notebook top to bottom in a
fresh kernel, as the grader will, and lists each visible check's verdict by test cell (exit status 1
when one fails; hidden checks are listed as waiting for grading). On Colab, Runtime > Restart
session and run all shows the same verdicts in the check cells.

## Submitting

Hand in the notebook file itself, for example `probability/probability.ipynb` (on Colab:
File > Download > Download .ipynb).

- Keep its name. A notebook under another name is graded in its place only when it is the only
  notebook you hand in for that assignment.
- Saved outputs do not matter: the grader clears them and runs the notebook afresh.
- Write each answer in the cell meant for it. Do not copy cells from one notebook into another and
  do not duplicate answer cells: a cell whose id belongs to another notebook, or a second copy of
  a cell, is graded as an ordinary cell, so an answer written there is not marked as an answer.
- Do not delete or edit the locked cells (the first code cell, with the imports, the cells that
  run `check(...)`, and the notes under the written questions). The grader puts back a deleted
  locked cell and replaces an edited one with the original before it runs your notebook. An
  answer cell you delete comes back empty and scores nothing.
"""
# The GitHub Classroom template: release/classroom/ (see its README). Its workflow runs in a student's
# repository laid out like release/: assignment notebooks in <hw>/, the package in dlgrade-student/.
CLASSROOM = "classroom"
CLASSROOM_WORKFLOW = ".github/workflows/dlgrade-check.yml"
CLASSROOM_WORKFLOW_YML = """\
# The visible checks of every assignment notebook, on every push (made by dlgrade_grader/release.py).
name: dlgrade check
on: [push, workflow_dispatch]
permissions:
  contents: read
jobs:
  check:
    runs-on: ubuntu-24.04
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install the course package
        run: |
          # torch_autograd is checked with torch; PyTorch's CPU index serves it without CUDA
          if compgen -G "torch_autograd/*.ipynb" > /dev/null; then
            python -m pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
          fi
          python -m pip install ./dlgrade-student
      - name: Run the visible checks
        run: dlgrade check --summary-md "$GITHUB_STEP_SUMMARY" */*.ipynb
"""
CLASSROOM_README = """\
# GitHub Classroom template

`.github/workflows/dlgrade-check.yml` runs the visible checks of a student's notebooks on every push.
To use it, make the assignment's template repository from this release folder:

    cp -r release/<hw> release/dlgrade-student release/README.md template/   # one or more assignments
    cp -r release/classroom/.github template/

and mark it as a template repository for the Classroom assignment. On every push, the workflow
installs `./dlgrade-student` on Python 3.11, runs `dlgrade check */*.ipynb` (each notebook top to
bottom in a fresh kernel; torch from PyTorch's CPU wheel index first when the repository holds the
torch_autograd notebook), writes a table of the verdicts to the run's summary page, and fails when
a visible check fails or a test cell raises. Hidden checks are listed as waiting for grading: the
workflow has no course key, no hidden test and no reference, and it grades nothing. Grade with
`dlgrade grade` as usual (Classroom's own autograding is not needed).
"""


def available(repo: Path = REPO) -> list[str]:
    """The assignments of a repository: one per ``course/<hw>.cells`` file, in name order."""
    return sorted(path.stem for path in (repo / "course").glob("*.cells"))


class IncompleteAssignment(RuntimeError):
    """An assignment lacks its notebook source, its student half or its grader half."""


def require_complete(repo: Path = REPO) -> None:
    names = sorted(set(available(repo)) | set(hw.ASSIGNMENTS))
    problems = [p for name in names for p in hw.missing_halves(name, repo / "course")]
    if problems:
        raise IncompleteAssignment("; ".join(problems))


def visible_calls(source_nb) -> list[str]:
    """Ids of the checks a source notebook runs visibly, in order."""
    out = []
    for cell in source_nb.cells:
        if is_test_cell(cell):
            out += [c.check_id for c in parse_check_calls(cell.source) if not c.hidden and c.check_id not in out]
    return out


def visible_data(assignment: str, source_nb) -> dict:
    """The shipped examples: public-seed inputs of each visible check and the grader's answers."""
    registry = hw.registry(assignment).complete()
    checks = {}
    for check_id in visible_calls(source_nb):
        check = registry[check_id]
        cases = make_cases(check, public_seed(assignment, check_id))
        checks[check_id] = [[label, enc, records.encode(check.reference(inputs))]
                            for label, enc, inputs in zip(cases.labels, cases.encoded, cases.inputs)]
    return {"format": records.FORMAT_VERSION, "assignment": assignment, "checks": checks}


def _build_student_package(repo: Path, dest: Path, hws: list, source: Path) -> None:
    pkg = dest / STUDENT_PACKAGE
    shutil.copytree(repo / "dlgrade", pkg / "dlgrade", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    data = pkg / "dlgrade" / "hw" / "data"
    data.mkdir(parents=True, exist_ok=True)
    for assignment in hws:
        nb = nbformat.read(source / assignment / f"{assignment}.ipynb", as_version=4)
        text = json.dumps(visible_data(assignment, nb), sort_keys=True, allow_nan=False,
                          separators=(",", ":"))
        (data / f"{assignment}.json").write_text(text + "\n")
    (pkg / "pyproject.toml").write_text(STUDENT_PYPROJECT.format(version=__version__))


def build_into(out: Path, repo: Path = REPO) -> None:
    """Write source/ and release/ for every available assignment under ``out``."""
    require_complete(repo)
    hws = available(repo)
    authoring.build(repo / "course", out / "source", hws)
    with tempfile.TemporaryDirectory(prefix="dlgrade-release-") as tmp:
        course = Path(tmp)
        staged = course / "repo"
        staged.mkdir()
        shutil.copy(repo / "nbgrader_config.py", staged / "nbgrader_config.py")
        shutil.copytree(out / "source", staged / "source")
        init_course(course / "c", hws, repo=staged)
        (out / "release").mkdir(parents=True, exist_ok=True)
        for name in hws:
            shutil.copytree(course / "c" / "release" / name, out / "release" / name)
    _build_student_package(repo, out / "release", hws, out / "source")
    (out / "release" / "README.md").write_text(STUDENT_README)
    workflow = out / "release" / CLASSROOM / CLASSROOM_WORKFLOW
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(CLASSROOM_WORKFLOW_YML)
    (out / "release" / CLASSROOM / "README.md").write_text(CLASSROOM_README)


# Visible answers are computed by torch, numpy, BLAS and libm on the building machine, and another
# CPU gives other last bits: 0.4999999999999994 vs 0.49999999999999944 for a normal CDF, and 4e-10
# relative for the ill-conditioned ridge solve (seen between two machines of this CI). So data files
# are compared as numbers; a change to a reference or a case moves them far more than this.
DATA_RTOL, DATA_ATOL = 1e-8, 1e-14


def _same_data(x, y) -> bool:
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_same_data(x[k], y[k]) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_same_data(u, v) for u, v in zip(x, y))
    if isinstance(x, float) and isinstance(y, float):
        return x == y or abs(x - y) <= DATA_ATOL + DATA_RTOL * max(abs(x), abs(y))
    return type(x) is type(y) and x == y


def same_content(path: Path, left: bytes, right: bytes) -> bool:
    """Two versions of the file at ``path`` are the same: byte for byte, and visible data files
    as numbers (see DATA_RTOL)."""
    if left == right:
        return True
    if path.suffix == ".json" and path.parent.name == "data":
        return _same_data(json.loads(left), json.loads(right))
    return False


def _same_file(a: Path, b: Path) -> bool:
    return same_content(a, a.read_bytes(), b.read_bytes())


def _tree_diff(a: Path, b: Path, rel: str = "") -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    out = [f"{rel}{n}: only in fresh build" for n in cmp.left_only]
    out += [f"{rel}{n}: only in repository" for n in cmp.right_only]
    out += [f"{rel}{n}: differs" for n in cmp.common_files if not _same_file(a / n, b / n)]
    for sub in cmp.common_dirs:
        out += _tree_diff(a / sub, b / sub, f"{rel}{sub}/")
    return sorted(set(out))


def drift(repo: Path = REPO) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="dlgrade-drift-") as tmp:
        fresh = Path(tmp)
        build_into(fresh, repo)
        out = []
        for folder in ("source", "release"):
            if not (repo / folder).exists():
                out.append(f"{folder}/ is missing")
                continue
            out += [f"{folder}/{d}" for d in _tree_diff(fresh / folder, repo / folder)]
        return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="report drift instead of rewriting")
    args = ap.parse_args(argv)
    try:
        require_complete()
    except IncompleteAssignment as exc:
        print(f"cannot build: {exc}", file=sys.stderr)
        return 1
    if args.check:
        problems = drift()
        for p in problems:
            print(p)
        print("release is in sync" if not problems else f"{len(problems)} differences")
        return 1 if problems else 0
    with tempfile.TemporaryDirectory(prefix="dlgrade-build-") as tmp:
        fresh = Path(tmp)
        build_into(fresh)
        for folder in ("source", "release"):
            if (REPO / folder).exists():
                shutil.rmtree(REPO / folder)
            shutil.copytree(fresh / folder, REPO / folder)
    print(f"rebuilt source/ and release/ for {', '.join(available())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
