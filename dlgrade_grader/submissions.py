"""Make synthetic submissions from the release notebook and a catalogue entry.

A catalogue entry (a :class:`Variant`) is data: which solution cells to
replace and with what, which cells to add, and which raw edits to make. The
same entries drive the grader's self-tests, the demo cohort and the
benchmark, so a submission is never a hand-edited copy.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Callable

import nbformat
from nbformat.v4 import new_code_cell

SOLUTION_MARK = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", re.M)


@dataclass(frozen=True)
class Variant:
    """One synthetic submission and what the grader must make of it.

    kind "wrong":       reference answers with ``answers`` swapped in; every check in
                        ``fails`` (by default: one of the own checks of what it breaks) must
                        lose points, and no check that does not use what it breaks may.
    kind "alternative": reference answers with ``answers`` swapped in; full marks.
    kind "attack":      the blank notebook (or ``base="reference"``) plus the attack;
                        it may score no more than its base without the attack.
    """
    name: str
    kind: str
    answers: dict = field(default_factory=dict)
    insert: tuple = ()             # (after grade_id or None for "after the setup cells", code)
    edit: Callable | None = None   # raw notebook edit, nb -> None
    fails: tuple = ()
    base: str = ""
    note: str = ""
    flagged: bool = False          # the static audit must report tampering
    needs_audit: bool = False      # a forbidden shortcut only the audit can see (np.cov): its promise
                                   # holds with the audit on; with it off the entry is not judged
    says: tuple = ()               # wrong answers: text the verdict of an intended check must hold,
                                   # so feedback names the real cause

    @property
    def student_id(self) -> str:
        return f"{self.kind}-{self.name}".replace("_", "-")

    @property
    def base_kind(self) -> str:
        return self.base or ("blank" if self.kind == "attack" else "reference")


# the two submissions every catalogue is judged against
REFERENCE = Variant("solution", "reference")
BLANK = Variant("notebook", "blank", base="blank")


def Wrong(name, answers, fails=(), **kw) -> Variant:  # noqa: N802 (reads as data)
    return Variant(name, "wrong", answers=answers, fails=tuple(fails), **kw)


def Alternative(name, answers, **kw) -> Variant:  # noqa: N802
    return Variant(name, "alternative", answers=answers, **kw)


def Attack(name, insert=(), answers=None, edit=None, **kw) -> Variant:  # noqa: N802
    return Variant(name, "attack", answers=answers or {}, insert=tuple(insert), edit=edit, **kw)


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def reference_answers(source_nb) -> dict:
    """The instructor's solution cells with the SOLUTION markers removed."""
    answers = {}
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            answers[meta["grade_id"]] = SOLUTION_MARK.sub("", cell.source)
    return answers


def fill(release_nb, answers: dict):
    nb = copy.deepcopy(release_nb)
    known = set()
    for cell in nb.cells:
        gid = _grade_id(cell)
        if gid in answers and cell.metadata.nbgrader.get("solution"):
            cell.source = answers[gid]
            known.add(gid)
    unknown = set(answers) - known
    if unknown:
        raise KeyError(f"no solution cells named {sorted(unknown)}")
    return nb


def insert_cells(nb, inserts) -> None:
    for after, source in inserts:
        if after is None:
            index = 0
            for i, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    index = i + 1
                    break
        else:
            ids = [_grade_id(c) for c in nb.cells]
            if after not in ids:
                raise KeyError(f"no cell named {after}")
            index = ids.index(after) + 1
        cell = new_code_cell(source)
        cell["id"] = f"added{len(nb.cells)}"
        nb.cells.insert(index, cell)


def build_submission(variant: Variant, source_nb, release_nb):
    base = reference_answers(source_nb) if variant.base_kind == "reference" else {}
    nb = fill(release_nb, {**base, **variant.answers})
    insert_cells(nb, variant.insert)
    if variant.edit is not None:
        variant.edit(nb)
    return nb


def write_submission(nb, path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, (bytes, str)):
        mode = "wb" if isinstance(nb, bytes) else "w"
        with open(path, mode) as fh:
            fh.write(nb)
        return
    nbformat.write(nb, str(path))
