"""Adding an assignment means adding its own files and nothing else.

A throw-away seventh assignment (``grader_tests/seventh_assignment/``: softplus
and its derivative) is put into a copy of the repository at the places
``docs/AUTHORING.md`` names, built and released with the documented command,
and graded through ``cohort.run`` in a kernel environment holding the copy's
released student package. Nothing else in the copy is edited, and the build
changes no existing file.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dlgrade_grader.release import same_content
from dlgrade_grader.sandbox import kernel_python_default, python_layout
from grader_tests.conftest import TEST_COURSE_KEY

REPO = Path(__file__).resolve().parents[1]
NEW = Path(__file__).parent / "seventh_assignment"
HW = "softplus"
# the assignment's own files and where AUTHORING.md says they go
PLACES = {"softplus.cells": f"course/{HW}.cells", "student.py": f"dlgrade/hw/{HW}.py",
          "grader.py": f"dlgrade_grader/hw/{HW}.py", "catalogue.py": f"grader_tests/catalogues/{HW}.py"}
GENERATED = {f"source/{HW}/{HW}.ipynb", f"release/{HW}/{HW}.ipynb", f"release/dlgrade-student/dlgrade/hw/{HW}.py",
             f"release/dlgrade-student/dlgrade/hw/data/{HW}.json"}
CHECKOUT = ("course", "dlgrade", "dlgrade_grader", "grader_tests", "source", "release", "docs",
            "nbgrader_config.py", "pyproject.toml")


def _files(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def _copy_checkout(dest: Path) -> None:
    for name in CHECKOUT:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(src, dest / name)


def _kernel_env(folder: Path, student_package: Path) -> tuple[Path, list]:
    """A kernel environment with this student package over the course's kernel libraries: a venv
    whose own site-packages holds the package, and a .pth file that adds the course kernel
    environment's site-packages after it (bound read-only into the sandbox)."""
    base = kernel_python_default()
    subprocess.run([base, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = Path(python_layout(str(python))["site"][0])
    libraries = python_layout(base)["site"]
    (site / "course_kernel_libraries.pth").write_text("".join(f"{p}\n" for p in libraries))
    shutil.copytree(student_package / "dlgrade", site / "dlgrade")
    return python, libraries


def test_a_seventh_assignment_is_its_own_files_and_nothing_else(tmp_path):
    copy = tmp_path / "repo"
    _copy_checkout(copy)
    before = {rel: path.read_bytes() for rel, path in _files(copy).items()}
    for name, place in PLACES.items():
        shutil.copy(NEW / name, copy / place)
    env = {**os.environ, "PYTHONPATH": str(copy), "DLGRADE_COURSE_KEY": TEST_COURSE_KEY}

    built = subprocess.run([sys.executable, "-m", "dlgrade_grader.release"], cwd=copy, env=env,
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    assert HW in built.stdout
    after = _files(copy)
    added = set(after) - set(before)
    assert added == set(PLACES.values()) | GENERATED
    assert not set(before) - set(after), "the build deleted files"
    changed = [rel for rel in before if not same_content(after[rel], after[rel].read_bytes(), before[rel])]
    assert changed == [], f"adding {HW} changed existing files: {changed}"

    python, libraries = _kernel_env(tmp_path / "kernel", copy / "release" / "dlgrade-student")
    env["DLGRADE_KERNEL_PYTHON"] = str(python)
    config = f"c.SandboxedKernelManager.extra_ro_paths = {libraries!r}\n"
    # the course's static rules hold for it too (its catalogue is smaller than a course assignment's)
    static = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                             "grader_tests/test_structure.py", "-k", f"{HW} and not catalogue_sizes"],
                            cwd=copy, env=env, capture_output=True, text=True, timeout=600)
    assert static.returncode == 0 and " passed" in static.stdout, static.stdout[-3000:]

    graded = subprocess.run([sys.executable, "-m", "grader_tests.seventh_assignment.grade", HW,
                             str(tmp_path / "course"), config],
                            cwd=copy, env=env, capture_output=True, text=True, timeout=900)
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    found = json.loads(graded.stdout.strip().splitlines()[-1])
    reference = found["reference"]
    assert reference["out_of"] == 100 and reference["awarded"] == 100, reference
    assert found["blank"]["checks"] and found["blank"]["awarded"] == 0, found["blank"]
    assert len(found["entries"]) == 3
    assert found["entries"] == {sid: [] for sid in found["entries"]}

