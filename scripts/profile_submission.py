"""Where the grading time of one submission goes (a script that measures; never a timed test).

    python scripts/profile_submission.py                       # every assignment, 3 submissions each
    python scripts/profile_submission.py vjp_autograd --submissions 5

For each assignment it makes a throw-away course holding the reference
solution submitted by N students, and grades them one after the other with
the very ``Worker`` a ``dlgrade grade`` process runs, in this process, so
every part can be timed where it happens:

- the worker's phases (intake, nbgrader autograde, gradebook, feedback);
- inside autograde, each nbconvert preprocessor (the kernel run is
  GraderExecute; the verdicts are VerifyChecks);
- inside the kernel run: the sandboxed kernel's start, the setup cell (the
  kernel's imports), the student's solution cells and the check cells;
- inside the verifier: the grader's reference computations, and drawing the
  cases for the casebook.

The first submission pays the worker's one-time costs (imports, the first
kernel environment lookup); the table shows it apart from the mean of the
others, which is the steady state of a cohort run.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import nbformat  # noqa: E402

from dlgrade_grader import hw as hw_modules  # noqa: E402
from dlgrade_grader import casebook, release  # noqa: E402
from dlgrade_grader.execute import REPORT_SUFFIX  # noqa: E402
from dlgrade_grader.inprocess import sync_assignments  # noqa: E402
from dlgrade_grader.submissions import REFERENCE, build_submission, write_submission  # noqa: E402
from grader_tests import localcourse  # noqa: E402


class Clock:
    """Seconds spent per named part, for the submission being graded now."""

    def __init__(self):
        self.parts = defaultdict(float)

    @contextmanager
    def part(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.parts[name] += time.perf_counter() - t0

    def wrap(self, fn, name):
        def timed(*args, **kwargs):
            with self.part(name):
                return fn(*args, **kwargs)
        return timed


CLOCK = Clock()


def instrument(clock: Clock) -> None:
    """Time every preprocessor and the casebook's case drawing (once per process)."""
    from nbconvert.preprocessors import Preprocessor

    call = Preprocessor.__call__

    def timed_call(self, nb, resources):
        with clock.part(f"preprocessor {type(self).__name__}"):
            return call(self, nb, resources)
    Preprocessor.__call__ = timed_call

    casebook.make_cases = clock.wrap(casebook.make_cases, "casebook: drawing the cases")


def _stamp(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def kernel_parts(autograded: Path) -> dict:
    """Kernel start (the sandbox report) and cell run times by kind (nbclient's timing metadata)."""
    out = defaultdict(float)
    report = autograded.with_name(autograded.stem + REPORT_SUFFIX)
    if report.exists():
        out["kernel: sandboxed start"] = json.loads(report.read_text()).get("kernel_start_seconds") or 0.0
    nb = nbformat.read(str(autograded), as_version=4)
    for cell in nb.cells:
        timing = cell.metadata.get("execution", {})
        if cell.cell_type != "code" or "shell.execute_reply" not in timing:
            continue
        meta = cell.metadata.get("nbgrader", {})
        kind = ("setup cell (imports)" if meta.get("locked") and not meta.get("grade")
                else "check cells" if meta.get("grade") else "solution and free cells")
        out[f"kernel: {kind}"] += _stamp(timing["shell.execute_reply"]) - _stamp(timing["iopub.execute_input"])
    return out


def profile(hw: str, n: int, top: Path) -> list[dict]:
    from dlgrade_grader.worker import Worker

    course = top / hw
    localcourse.init_course(course, [hw])
    source = localcourse.read_notebook(course, "source", hw)
    released = localcourse.read_notebook(course, "release", hw)
    students = [f"p{i}" for i in range(n)]
    for sid in students:
        write_submission(build_submission(REFERENCE, source, released), course / "submitted" / sid / hw / f"{hw}.ipynb")
    sync_assignments(course, [hw], f"sqlite:///{course / 'gradebook.db'}", logging.getLogger("profile"))
    for check in hw_modules.registry(hw):  # a GradedCheck is frozen: its reference is swapped in place
        object.__setattr__(check, "reference", CLOCK.wrap(check.reference, "verifier: references"))
    clock = CLOCK
    worker = Worker(course, 0, None)
    rows = []
    for sid in students:
        clock.parts.clear()
        task = {"student": sid, "assignment": hw, "fingerprint": "profile",
                "src": str(course / "submitted" / sid / hw), "feedback": True}
        outcome = worker.grade(task)
        if outcome.status != "ok":
            raise SystemExit(f"{hw}/{sid}: {outcome.status}: {outcome.reason}")
        row = {f"worker: {k}": v for k, v in outcome.phases.items()}
        row.update(clock.parts)
        row.update(kernel_parts(course / "autograded" / sid / hw / f"{hw}.ipynb"))
        inside = sum(v for k, v in row.items() if k.startswith("kernel: "))
        row["kernel: process boot, shutdown, messages"] = row.get("preprocessor GraderExecute", 0.0) - inside
        rows.append(row)
    return rows


def student_loop(hw: str, top: Path) -> dict:
    """What a student waits for at home: each visible check cell of the reference solution, run in
    the student kernel environment (numpy, matplotlib, the student package; no torch)."""
    from dlgrade.check_notebook import read_cells, run_cell, start_kernel
    from dlgrade_grader.sandbox import kernel_python_default

    folder = top / f"home-{hw}"
    source = nbformat.read(str(REPO / "source" / hw / f"{hw}.ipynb"), as_version=4)
    released = nbformat.read(str(REPO / "release" / hw / f"{hw}.ipynb"), as_version=4)
    path = folder / f"{hw}.ipynb"
    write_submission(build_submission(REFERENCE, source, released), path)
    t0 = time.perf_counter()
    km, kc = start_kernel(folder, kernel_python_default())
    boot = time.perf_counter() - t0
    checks = []
    try:
        for cell in read_cells(path):
            t1 = time.perf_counter()
            result = run_cell(km, kc, cell["source"], timeout=300)
            if cell["test"]:
                checks.append(time.perf_counter() - t1)
                if result["error"] or any(v.get("status") == "fail" for v in result["verdicts"]):
                    raise SystemExit(f"{hw}: the reference fails its visible check {cell['grade_id']}: {result}")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return {"kernel start": boot, "check cells": len(checks), "slowest": max(checks), "mean": statistics.mean(checks)}


ORDER = ["worker: total", "worker: intake", "worker: autograde", "preprocessor GraderExecute",
         "kernel: sandboxed start", "kernel: process boot, shutdown, messages", "kernel: setup cell (imports)", "kernel: solution and free cells",
         "kernel: check cells", "preprocessor VerifyChecks", "verifier: references", "casebook: drawing the cases",
         "worker: gradebook", "worker: feedback"]


def table(results: dict) -> str:
    names = list(ORDER)
    for rows in results.values():
        for row in rows:
            names += [k for k in row if k not in names]
    head = ["part (seconds)"] + [f"{hw} {which}" for hw in results for which in ("first", "rest")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in names:
        cells = [name]
        for rows in results.values():
            first = rows[0].get(name, 0.0)
            rest = [r.get(name, 0.0) for r in rows[1:]] or [first]
            cells.append(f"{first:.2f} | {statistics.mean(rest):.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("assignments", nargs="*", help="default: every assignment")
    ap.add_argument("--submissions", type=int, default=3, help="reference submissions graded per assignment")
    args = ap.parse_args()
    logging.getLogger("dlgrade").addHandler(logging.NullHandler())
    instrument(CLOCK)
    results, loops = {}, {}
    with tempfile.TemporaryDirectory(prefix="dlgrade-profile-") as tmp:
        for hw in args.assignments or release.available(REPO):
            results[hw] = profile(hw, max(2, args.submissions), Path(tmp))
            loops[hw] = student_loop(hw, Path(tmp))
            print(f"{hw}: {len(results[hw])} submissions profiled", flush=True)
    print()
    print(table(results))
    print("\nThe student's loop at home (reference solution, student kernel environment), seconds:")
    print("| assignment | kernel start | check cells | slowest check cell | mean check cell |\n|---|---|---|---|---|")
    for hw, loop in loops.items():
        print(f"| {hw} | {loop['kernel start']:.2f} | {loop['check cells']} | {loop['slowest']:.2f} | "
              f"{loop['mean']:.3f} |")
    print("\nNested parts: the kernel parts and the preprocessors are inside 'worker: autograde'; the "
          "references and case drawing inside VerifyChecks and the casebook preprocessor. Feedback "
          "preprocessors are listed under their own names and inside 'worker: feedback'.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
