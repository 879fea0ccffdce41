"""Check an assignment's checks against its own reference solution, in-process.

For instructors and the test suite only: it executes the *source* notebook's
cells (trusted code) in this process, never a submission. For every check and
both scopes it draws cases, runs the reference solution through the student-side
runner, computes the grader's reference and judges the answer exactly as the
verifier would. A check whose reference solution fails here is an authoring bug.

    python -m dlgrade_grader.dryrun vjp_autograd
"""
from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import nbformat

from dlgrade.checks import StudentNamespace, run_case
from . import hw
from .checks import make_cases, public_seed

REPO = Path(__file__).resolve().parents[1]


def solution_namespace(nb) -> dict:
    """Globals after running every code cell that is not a test cell."""
    ns: dict = {"__name__": "__main__"}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")):
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, f"<cell {meta.get('grade_id', '')}>", "exec"), ns)  # noqa: S102 (trusted)
    return ns


def run(assignment: str, nb=None, seeds=(None, 1, 2)) -> list[str]:
    """Problems found; an empty list means every check passes on every seed."""
    registry = hw.registry(assignment).complete()
    if nb is None:
        nb = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    ns = StudentNamespace(solution_namespace(nb))
    problems = []
    for check in registry:
        for seed in seeds:
            cases = make_cases(check, public_seed(assignment, check.id) if seed is None else seed)
            for label, inputs in cases.pairs():
                entry = run_case(check.spec, ns, inputs)
                try:
                    expected = check.reference(inputs)
                except Exception as exc:
                    problems.append(f"{check.id} [{label}] seed {seed}: reference raised {exc!r}")
                    continue
                reason = check.judge(inputs, entry, expected, hidden=False)
                if reason:
                    problems.append(f"{check.id} [{label}] seed {seed}: {reason}")
    return problems


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv) or list(hw.ASSIGNMENTS)
    bad = 0
    for assignment in args:
        problems = run(assignment)
        print(f"{assignment}: {'ok' if not problems else f'{len(problems)} problems'}")
        for p in problems:
            print("   ", p)
        bad += len(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
