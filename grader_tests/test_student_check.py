"""``dlgrade check``, the student's check loop outside Jupyter, and the GitHub Classroom template.

Everything a student runs here runs in the student environment alone (.venv-kernel: no nbformat,
no nbclient, no grader): only its bin/ is on PATH. The tests build notebooks with the grader's
nbformat first (reference-filled or blank release notebooks) and then hand them over.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from dlgrade_grader import release as rel
from dlgrade_grader.hw import module as grader_half
from dlgrade_grader.sandbox import kernel_python_default
from dlgrade_grader.submissions import fill, reference_answers
from dlgrade_grader.verify import parse_check_calls
from grader_tests.conftest import ASSIGNMENTS

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "release"
KERNEL_BIN = Path(kernel_python_default()).parent
WORKFLOW = RELEASE / rel.CLASSROOM / rel.CLASSROOM_WORKFLOW


def release_nb(hw):
    return nbformat.read(str(RELEASE / hw / f"{hw}.ipynb"), as_version=4)


def reference_nb(hw):
    source = nbformat.read(str(REPO / "source" / hw / f"{hw}.ipynb"), as_version=4)
    return fill(release_nb(hw), reference_answers(source))


def write(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def visible_checks(hw) -> list[tuple]:
    """(test cell, check id, points) of every visible check of the release notebook, in order."""
    out = []
    for cell in release_nb(hw).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            out += [(meta["grade_id"], c.check_id, c.points) for c in parse_check_calls(cell.source)
                    if not c.hidden]
    return out


def student_env(home: Path, bin_dir: Path = KERNEL_BIN, **extra) -> dict:
    """Only the student environment on PATH, as on a student's machine or a Classroom runner."""
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", **extra}


def run(cmd, cwd: Path, env: dict, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def table(md: str) -> list[list[str]]:
    """The body rows of the Markdown table(s) in a summary, split into cells."""
    rows = []
    for line in md.splitlines():
        if line.startswith("| ") and not line.startswith("| notebook |"):
            rows.append([c.strip() for c in line.strip().strip("|").split(" | ")])
    return rows


def test_the_student_environment_has_the_command_but_no_notebook_runner():
    script = KERNEL_BIN / "dlgrade"
    assert script.exists() and "dlgrade.check_notebook" in script.read_text()
    code = "import importlib.util as u; print([m for m in ('nbformat', 'nbclient') if u.find_spec(m)])"
    out = subprocess.run([str(KERNEL_BIN / "python"), "-I", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert 'dlgrade = "dlgrade.check_notebook:console"' in (RELEASE / rel.STUDENT_PACKAGE / "pyproject.toml").read_text()
    assert "dlgrade check" in (RELEASE / "README.md").read_text()


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_reference_passes_and_blank_fails_in_the_student_environment(hw, tmp_path):
    expected = visible_checks(hw)
    assert expected
    ref = write(reference_nb(hw), tmp_path / "ref" / hw / f"{hw}.ipynb")
    # the kernel environment the assignment declares (torch_autograd's has torch), else the course's
    declared = getattr(grader_half(hw), "kernel_python", None)
    python = declared() if declared else str(KERNEL_BIN / "python")
    done = run(["dlgrade", "check", str(ref), "--python", python, "--summary-md", str(tmp_path / "ref.md")],
               tmp_path, student_env(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "[FAIL]" not in done.stdout and done.stdout.splitlines()[-1].startswith("OK: ")
    for _cell, check_id, _points in expected:
        assert f"[PASS] {check_id} " in done.stdout, check_id
    rows = table((tmp_path / "ref.md").read_text())
    assert [(r[1], r[2]) for r in rows] == [(cell, check_id) for cell, check_id, _ in expected]  # one per check
    assert all(r[3] == "PASS" for r in rows)
    assert [r[4] for r in rows] == [f"{p:g}/{p:g}" if p else "" for _, _, p in expected]

    blank = write(release_nb(hw), tmp_path / "blank" / hw / f"{hw}.ipynb")
    done = run([python, "-m", "dlgrade.check_notebook", str(blank), "--summary-md",
                str(tmp_path / "blank.md")], tmp_path, student_env(tmp_path))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    assert "[PASS]" not in done.stdout and done.stdout.splitlines()[-1].startswith("FAILED: 0 passed, ")
    for _cell, check_id, _points in expected:
        assert f"[FAIL] {check_id} " in done.stdout, check_id
    rows = table((tmp_path / "blank.md").read_text())
    assert [(r[1], r[2], r[3]) for r in rows] == [(cell, check_id, "FAIL") for cell, check_id, _ in expected]
    assert all(r[5].startswith("case '") for r in rows), rows  # each failure says which case and why


TINY = [
    ("setup", False, "import time\nfrom dlgrade.hw.probability import check"),
    ("die_sample_space", False, "def die_sample_space():\n    return set(range(1, 7))"),
    ("test_die", True, 'check("die_sample_space", points=1)\ncheck("coin_sample_space.hidden", points=2, hidden=True)'),
    ("slow", False, "time.sleep(60)"),
    ("test_broken", True, '1 / 0\ncheck("die_sample_space", points=1)'),
    ("test_after", True, 'check("die_sample_space", points=0)'),
]


def tiny_notebook(path: Path, kernel_name="no-such-kernel") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel_name, "display_name": "nowhere", "language": "python"}
    for grade_id, test, source in TINY:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": test, "solution": False, "locked": test,
                                     "schema_version": 3, **({"points": 3} if test else {})}
        nb.cells.append(cell)
    return write(nb, path)


def test_errors_timeouts_hidden_checks_and_an_unknown_kernelspec(tmp_path):
    nb = tiny_notebook(tmp_path / "tiny" / "tiny.ipynb")
    summary = tmp_path / "summary.md"
    done = run(["dlgrade", "check", "--timeout", "3", str(nb)], tmp_path,
               student_env(tmp_path, GITHUB_STEP_SUMMARY=str(summary)), timeout=120)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr[-2000:]
    assert "[PASS] die_sample_space " in out
    assert "[ -- ] coin_sample_space.hidden (hidden)" in out and "[FAIL] coin_sample_space" not in out
    assert "(slow raised timed out after 3 s (interrupted))" in out  # not a test cell: noted, not counted
    assert "[FAIL] this cell raised ZeroDivisionError: division by zero" in out
    assert out.splitlines()[-1] == ("FAILED: 2 passed, 0 failed of 2 visible checks; 1 test cell raised; "
                                    "1 hidden waiting for grading")
    rows = table(summary.read_text())  # $GITHUB_STEP_SUMMARY is the default --summary-md
    assert [r[1:5] for r in rows] == [["test_die", "die_sample_space", "PASS", "1/1"],
                                      ["test_die", "coin_sample_space.hidden", "waiting for grading", "?/2"],
                                      ["test_broken", "(cell)", "ERROR", ""],
                                      ["test_after", "die_sample_space", "PASS", ""]]


def test_the_grader_cli_check_is_the_student_command(tmp_path):
    TINY_OK = [c for c in TINY if c[0] not in ("slow", "test_broken")]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for _, _, src in TINY_OK]
    write(nb, tmp_path / "ok.ipynb")
    grader = run([str(REPO / ".venv" / "bin" / "dlgrade"), "check", "ok.ipynb"], tmp_path,
                 {**os.environ, "HOME": str(tmp_path)}, timeout=120)
    student = run(["dlgrade", "check", "ok.ipynb"], tmp_path, student_env(tmp_path), timeout=120)
    assert grader.returncode == student.returncode == 0, grader.stdout + grader.stderr[-2000:]
    assert grader.stdout == student.stdout
    assert "[PASS] die_sample_space " in student.stdout
    bad = run(["dlgrade", "check", "missing.ipynb"], tmp_path, student_env(tmp_path), timeout=60)
    assert bad.returncode == 2 and "missing.ipynb" in bad.stdout


def test_a_magic_or_shell_line_fails_the_check_before_it_costs_the_points(tmp_path):
    """The grader reads a % or ! line (an install cell left in from Colab) as reaching into the kernel;
    dlgrade check says so first. %matplotlib inline is the one magic a submission may keep."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"),
                nbformat.v4.new_code_cell("!echo installing\nx = 1"),
                nbformat.v4.new_code_cell(TINY[0][2])]
    write(nb, tmp_path / "colab.ipynb")
    done = run(["dlgrade", "check", "colab.ipynb"], tmp_path, student_env(tmp_path), timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr[-2000:]
    assert "[FAIL] cell 2 runs '!echo installing': delete it before you submit" in done.stdout
    assert "cell 1 runs" not in done.stdout
    assert done.stdout.splitlines()[-1].endswith("; 1 % or ! line to delete before submitting")


# -- the GitHub Classroom template ----------------------------------------------------------------------

def _workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_classroom_workflow_is_actionlint_clean():
    actionlint = shutil.which("actionlint") or shutil.which("actionlint", path=os.path.dirname(sys.executable))
    assert actionlint, "actionlint is not installed (pip install -r requirements.txt)"
    proc = subprocess.run([actionlint, "-no-color", "-oneline", str(WORKFLOW)], capture_output=True, text=True,
                          cwd=WORKFLOW.parents[2], timeout=120)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr
    wf = _workflow()
    assert "push" in wf["on"]
    assert (RELEASE / rel.CLASSROOM / "README.md").exists()


def _student_venv(tmp_path: Path) -> Path:
    """A fresh venv of the student's Python with pip (ensurepip, offline); its numpy, matplotlib and
    ipykernel come from .venv-kernel (all of it but the student package) through a .pth file."""
    venv = tmp_path / "runner"
    subprocess.run([str(KERNEL_BIN / "python"), "-m", "venv", str(venv)], check=True, timeout=300)
    site = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    kernel_site = subprocess.run([str(KERNEL_BIN / "python"), "-c",
                                  "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    deps = tmp_path / "kernel-deps"  # .venv-kernel's site-packages without the student package
    deps.mkdir()
    for entry in Path(kernel_site).iterdir():
        if not entry.name.startswith("dlgrade") and entry.suffix != ".pth":
            (deps / entry.name).symlink_to(entry)
    Path(site, "student_kernel_deps.pth").write_text(f"{deps}\n")
    return venv


def test_classroom_workflow_steps_run_on_a_student_repository(tmp_path):
    """The workflow's run: steps in a copy of release/ with one reference-filled notebook, then also
    a blank one, each step in a fresh venv of the runner's Python 3.11 (bash -e, as Actions runs them).
    The check step runs as it is. The install step installs ./dlgrade-student for real but offline:
    its path is pointed at a wheel built from it beforehand (by the grader's setuptools, no build
    isolation), with --no-deps because the dependencies are .venv-kernel's."""
    steps = _workflow()["jobs"]["check"]["steps"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses == ["actions/checkout", "actions/setup-python"]
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert str(setup["with"]["python-version"]) == "3.11"
    assert sys.version_info[:2] == (3, 11)
    runs = [s["run"] for s in steps[steps.index(setup) + 1:]]
    install = [r for r in runs if "pip install ./dlgrade-student" in r]
    assert len(install) == 1 and len(runs) == 2

    repo = tmp_path / "student-repo"  # a Classroom repository: release/ plus the template's .github/
    shutil.copytree(RELEASE / rel.STUDENT_PACKAGE, repo / rel.STUDENT_PACKAGE)
    shutil.copytree(RELEASE / rel.CLASSROOM / ".github", repo / ".github")
    good, bad = "probability", "mle_map"
    write(reference_nb(good), repo / good / f"{good}.ipynb")
    wheels = tmp_path / "wheels"
    subprocess.run([str(REPO / ".venv" / "bin" / "pip"), "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(wheels), str(repo / rel.STUDENT_PACKAGE)], check=True, timeout=300,
                   cwd=tmp_path)
    shutil.rmtree(repo / rel.STUDENT_PACKAGE / "build", ignore_errors=True)
    wheel = next(wheels.glob("dlgrade-*.whl"))

    venv = _student_venv(tmp_path)
    summary = tmp_path / "step-summary.md"
    env = student_env(tmp_path, bin_dir=venv / "bin", GITHUB_STEP_SUMMARY=str(summary), PIP_NO_INDEX="1",
                      PIP_DISABLE_PIP_VERSION_CHECK="1", CI="true", GITHUB_ACTIONS="true")

    def steps_run():
        results = []
        for script in runs:
            if script in install:
                # dependencies: .venv-kernel pins them without the optional debugpy and jedi of ipykernel,
                # which pip would otherwise try to download
                script = script.replace("./dlgrade-student", f"--no-deps {wheel}")
            results.append(run(["bash", "--noprofile", "--norc", "-e", "-c", script], repo, env))
        return results

    installed, checked = steps_run()
    assert installed.returncode == 0, installed.stdout + installed.stderr
    where = run(["bash", "-c", "command -v dlgrade; python -c 'import dlgrade; print(dlgrade.__file__)'"],
                repo, env).stdout.split()
    assert where[0] == str(venv / "bin" / "dlgrade") and where[1].startswith(str(venv)), where
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-2000:]
    rows = table(summary.read_text())
    assert rows and {r[0] for r in rows} == {f"{good}/{good}.ipynb"} and {r[3] for r in rows} == {"PASS"}

    summary.unlink()
    write(release_nb(bad), repo / bad / f"{bad}.ipynb")
    _installed, checked = steps_run()
    assert checked.returncode == 1, checked.stdout[-3000:] + checked.stderr[-2000:]
    rows = table(summary.read_text())
    assert {r[3] for r in rows if r[0] == f"{good}/{good}.ipynb"} == {"PASS"}
    assert {r[3] for r in rows if r[0] == f"{bad}/{bad}.ipynb"} == {"FAIL"}
    assert len(rows) == len(visible_checks(good)) + len(visible_checks(bad))
