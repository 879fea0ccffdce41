"""Faults are normal input: broken, odd or hostile submissions the batch must survive.

Each entry writes one student's submission folder. The generic test
(``grader_tests/test_faults.py``) grades them all in one cohort run next to a
clean reference submission and checks, for every entry: the submission got
a score (``score``), the summary and the feedback page give a reason matching
``reason``, and the gradebook holds every student.

``score``: "full" (what the clean reference earns), "zero", "first_test"
(exactly the points of the test cells before the fault), "at_most_first_test",
"after_first_test" (at least the first test's points, less than full), or
"recorded" (some score, whatever it is). ``kernel=True`` marks faults that only the kernel
sandbox's limits contain (they are not run where the sandbox cannot run).
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

from dlgrade_grader.submissions import insert_cells


@dataclass
class Ctx:
    """What a fault needs to build its submission."""
    assignment: str
    reference: object      # the reference solution, as a submission (nbformat 4)
    blank: object
    test_ids: list         # grade ids of the autograded test cells, in order

    def write(self, folder: Path, nb, name: str | None = None) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name or self.assignment}.ipynb"
        nbformat.write(nb, str(path))
        return path

    def ref(self):
        return copy.deepcopy(self.reference)

    def after_first_test(self, code: str):
        nb = self.ref()
        insert_cells(nb, [(self.test_ids[0], code)])
        return nb


@dataclass(frozen=True)
class Fault:
    name: str
    build: Callable[[Path, Ctx], None]
    score: str
    reason: str          # regular expression, case-insensitive
    status: tuple = ("repaired", "warning")
    kernel: bool = False

    @property
    def student(self) -> str:
        return "fault-" + self.name.replace("_", "-")


def _invalid_json(folder, ctx):
    text = nbformat.writes(ctx.ref())
    (folder / f"{ctx.assignment}.ipynb").write_text(text[: len(text) // 2])  # an upload cut short


def _nbformat_v3(folder, ctx):
    v3 = nbformat.convert(ctx.ref(), 3)
    (folder / f"{ctx.assignment}.ipynb").write_text(nbformat.writes(v3, version=3))


def _missing_notebook(folder, ctx):
    (folder / "notes.txt").write_text("I could not get the notebook to save, sorry!\n")


def _deleted_cells(folder, ctx):
    nb = ctx.ref()
    doomed = {_setup_id(ctx), ctx.test_ids[0]}  # the imports and a test cell
    nb.cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") not in doomed]
    ctx.write(folder, nb)


def _deleted_answer(folder, ctx):
    """The answer cell just before the second test is gone: that question (and only what uses the
    answer) scores nothing, and the intake says so."""
    nb = ctx.ref()
    ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells]
    second = ids.index(ctx.test_ids[1])
    doomed = next(i for i in range(second - 1, -1, -1)
                  if nb.cells[i].get("metadata", {}).get("nbgrader", {}).get("solution"))
    del nb.cells[doomed]
    ctx.write(folder, nb)


def _setup_id(ctx) -> str:
    for cell in ctx.reference.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("locked") and not meta.get("grade") and cell.cell_type == "code":
            return meta["grade_id"]
    return "setup"


def _renamed_grade_id(folder, ctx):
    nb = ctx.ref()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") == ctx.test_ids[0]:
            meta["grade_id"] = ctx.test_ids[0] + "_mine"
    ctx.write(folder, nb)


def _renamed_notebook(folder, ctx):
    ctx.write(folder, ctx.ref(), name=f"{ctx.assignment} (final version)")


def _huge_notebook(folder, ctx):
    nb = ctx.ref()
    cell = nbformat.v4.new_code_cell("print(big)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=("x" * 1023 + "\n") * (100 * 1024))]
    nb.cells.append(cell)
    ctx.write(folder, nb)
    assert (folder / f"{ctx.assignment}.ipynb").stat().st_size > 100 * 2**20


def _non_utf8(folder, ctx):
    nb = ctx.ref()
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("Notes: MARKER"))
    raw = nbformat.writes(nb).encode("utf-8").replace(b"MARKER", b"caf\xe9 \xff\xfe na\xefve")
    (folder / f"{ctx.assignment}.ipynb").write_bytes(raw)


def _symlink_to_source(folder, ctx):
    ctx.write(folder, ctx.ref())
    os.symlink("../../source", folder / "source")            # as the issue states it
    os.symlink("../../../source", folder / "course_source")  # what actually reaches source/ from here


def _infinite_loop(folder, ctx):
    ctx.write(folder, ctx.after_first_test("while True:\n    pass"))


def _memory_bomb(folder, ctx):
    ctx.write(folder, ctx.after_first_test("hoard = []\nwhile True:\n    hoard.append(b'x' * 2**26)"))


def _fork_bomb(folder, ctx):
    ctx.write(folder, ctx.after_first_test("import os\nwhile True:\n    os.fork()"))


def _os_exit(folder, ctx):
    ctx.write(folder, ctx.after_first_test("import os\nos._exit(3)"))


def _killed_kernel(folder, ctx):
    # the kernel process crashes (as if killed): no tampering, just a dead kernel
    ctx.write(folder, ctx.after_first_test("import faulthandler\nfaulthandler._sigsegv()"))


def _big_output(folder, ctx):
    ctx.write(folder, ctx.after_first_test("import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 2**20)"))


FAULTS = [
    Fault("invalid_json", _invalid_json, "zero", r"not valid JSON", status=("failed",)),
    Fault("nbformat_v3", _nbformat_v3, "full", r"nbformat 3"),
    Fault("missing_notebook", _missing_notebook, "zero", r"missing from the submission", status=("failed",)),
    Fault("deleted_cells", _deleted_cells, "full", r"deleted cells were restored"),
    Fault("deleted_answer", _deleted_answer, "after_first_test", r"answer cells were missing and were put back empty"),
    Fault("renamed_grade_id", _renamed_grade_id, "full", r"renamed grade ids were restored"),
    Fault("renamed_notebook", _renamed_notebook, "full", r"graded in its place"),
    Fault("notebook_100mb", _huge_notebook, "full", r"1\d\d MB.*outputs were cleared"),
    Fault("non_utf8_bytes", _non_utf8, "full", r"not valid UTF-8"),
    Fault("symlink_to_source", _symlink_to_source, "full", r"symbolic link .*source.* removed"),
    Fault("infinite_loop", _infinite_loop, "full", r"time limit", status=("warning",), kernel=True),
    # RLIMIT_AS normally stops it at once; once in 4 fresh-clone runs the cgroup's reclaim at the
    # same size slowed it past the cell limit (the budget is now 1 GiB above RLIMIT_AS)
    Fault("memory_bomb", _memory_bomb, "full", r"memory|time limit", status=("warning",), kernel=True),
    Fault("fork_bomb", _fork_bomb, "recorded", r"process|kernel|time limit|wall clock",
          status=("warning", "failed"), kernel=True),
    # os._exit is also an attack on the grader: the audit may void the autograded points
    Fault("os_exit", _os_exit, "at_most_first_test", r"kernel", status=("warning",), kernel=True),
    Fault("killed_kernel", _killed_kernel, "first_test", r"kernel", status=("warning",), kernel=True),
    # 200 MB through the kernel's socket may outlast the tests' 8 s cell limit on a busy machine:
    # then the kernel is stopped there instead of its output being cut
    Fault("output_200mb", _big_output, "recorded", r"output|time limit", status=("warning",), kernel=True),
]
