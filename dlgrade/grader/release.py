"""Regenerate ``source/`` from ``course/*.cells`` and ``release/`` from ``source/``.

    python -m dlgrade.grader.release            # rewrite source/ and release/
    python -m dlgrade.grader.release --check    # exit 1 if either has drifted

``release/`` is what students get, and it is self-contained: the notebooks,
plus ``release/dlgrade-student/``, a copy of the course package without its
grader-only parts, which ``pip install ./dlgrade-student`` installs.
The release notebooks are produced by ``nbgrader generate_assignment`` in a
throw-away course, so the repository's gradebook is never touched.
"""
from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

from .. import authoring
from ..hw import ASSIGNMENTS
from .localcourse import REPO, init_course

STUDENT_PACKAGE = "dlgrade-student"
GRADER_ONLY = ("grader", "authoring.py")
STUDENT_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "dlgrade"
version = "{version}"
description = "Visible checks for the deep-learning mathematics homework (student edition)"
requires-python = ">=3.10"
dependencies = ["numpy", "torch==2.13.0", "autograd", "nbformat", "ipython", "matplotlib", "graphviz"]

[tool.setuptools.packages.find]
include = ["dlgrade*"]
"""
STUDENT_README = """\
# Deep-learning mathematics: homework

Each folder holds one assignment notebook. To work on them:

    python3 -m venv .venv && . .venv/bin/activate
    pip install ./dlgrade-student jupyter
    jupyter lab

Run the visible check cells as you go: they call your functions on small cases and tell you
what is wrong. Your submission is graded later on further, hidden cases by the same checks.
"""


def available(repo: Path = REPO) -> list[str]:
    return [hw for hw in ASSIGNMENTS if (repo / "course" / f"{hw}.cells").exists()]


def _copy_student_package(repo: Path, dest: Path) -> None:
    from .. import __version__

    pkg = dest / STUDENT_PACKAGE
    shutil.copytree(repo / "dlgrade", pkg / "dlgrade",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", *GRADER_ONLY))
    (pkg / "pyproject.toml").write_text(STUDENT_PYPROJECT.format(version=__version__))


def build_into(out: Path, repo: Path = REPO) -> None:
    """Write source/ and release/ for every available assignment under ``out``."""
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
        for hw in hws:
            shutil.copytree(course / "c" / "release" / hw, out / "release" / hw)
    _copy_student_package(repo, out / "release")
    (out / "release" / "README.md").write_text(STUDENT_README)


def _tree_diff(a: Path, b: Path, rel: str = "") -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    out = [f"{rel}{n}: only in fresh build" for n in cmp.left_only]
    out += [f"{rel}{n}: only in repository" for n in cmp.right_only]
    out += [f"{rel}{n}: differs" for n in cmp.diff_files]
    out += [f"{rel}{n}: differs" for n in cmp.common_files
            if n not in cmp.diff_files and (a / n).read_bytes() != (b / n).read_bytes()]
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
