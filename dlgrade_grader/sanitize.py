"""Sanitize-pass preprocessors: what plain ``nbgrader autograde`` must refuse before it runs.

nbgrader reads a submitted notebook and copies the files next to it following
symbolic links, so a submission that is a link to ``../../../source/hw/hw.ipynb``
(or to a classmate's notebook) would be graded as that notebook. ``RefuseLinks``
runs first in ``Autograde.sanitize_preprocessors``: a linked notebook is graded as
an empty one (score 0, with the reason), and files that reached the autograded
folder through a link are deleted before anything can read or return them.

``DropUnknownGradeIds`` runs before ``OverwriteCells``: a cell claiming a grade id
the gradebook does not know, or a second cell with an id already used, loses its
nbgrader metadata (it becomes an ordinary cell) instead of failing the notebook.

Both write what they did to ``nb.metadata["dlgrade_intake"]``; ``VerifyChecks``
reports it, and withholds every autograded point of a refused notebook.
"""
from __future__ import annotations

import os

from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

INTAKE_KEY = "dlgrade_intake"


def intake(nb) -> dict:
    return nb.metadata.setdefault(INTAKE_KEY, {"refused": "", "notes": []})


def links_under(folder: str) -> list[str]:
    """Every symbolic link below ``folder`` (not followed), relative to it."""
    found = []
    for base, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(base, name)
            if os.path.islink(path):
                found.append(os.path.relpath(path, folder))
    return sorted(found)


class RefuseLinks(NbGraderPreprocessor):
    """A submission is the student's own regular files: links are refused, never followed."""

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader") or {}
        student, assignment, notebook = info.get("student"), info.get("assignment"), info.get("notebook")
        if not (student and assignment and notebook):
            return nb, resources
        coursedir = CourseDirectory(config=self.config)
        submitted = coursedir.format_path(coursedir.submitted_directory, student, assignment)
        autograded = coursedir.format_path(coursedir.autograded_directory, student, assignment)
        notes = intake(nb)
        nb_path = os.path.join(submitted, f"{notebook}.ipynb")
        if os.path.islink(nb_path) or os.path.realpath(nb_path) != os.path.abspath(nb_path):
            notes["refused"] = (f"{notebook}.ipynb was submitted as a link to another file"
                                f" ({os.readlink(nb_path) if os.path.islink(nb_path) else 'a linked folder'});"
                                " a link is not a submission, so it is graded as empty")
            # nothing of the linked file is kept: every cell is emptied (test and locked cells
            # come back from the gradebook in OverwriteCells), so the notebook runs as a blank one
            for cell in nb.cells:
                cell.source = ""
        for rel in links_under(submitted):
            if rel == f"{notebook}.ipynb":
                continue
            copied = os.path.join(autograded, rel)
            if os.path.lexists(copied) and os.path.abspath(copied).startswith(os.path.abspath(autograded)):
                if os.path.isdir(copied) and not os.path.islink(copied):
                    import shutil
                    shutil.rmtree(copied, ignore_errors=True)
                else:
                    os.remove(copied)
            note = f"{rel} is a link; it was not followed and is not part of the submission"
            if note not in notes["notes"]:
                notes["notes"].append(note)
        return nb, resources


class DropUnknownGradeIds(NbGraderPreprocessor):
    """Cells whose grade id the gradebook does not know, or that repeat one, become plain cells."""

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader") or {}
        try:
            with Gradebook(info["db_url"]) as gb:
                source = gb.find_notebook(info["notebook"], info["assignment"])
                known = {c.name for c in source.source_cells}
        except (KeyError, MissingEntry):
            return nb, resources
        seen, notes = set(), intake(nb)
        for index, cell in enumerate(nb.cells):
            meta = cell.metadata.get("nbgrader")
            if not meta or not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)
                                or meta.get("task")):
                continue
            grade_id = meta.get("grade_id")
            if grade_id in known and grade_id not in seen:
                seen.add(grade_id)
                continue
            why = "repeats a grade id used above" if grade_id in seen else "has a grade id the course does not know"
            notes["notes"].append(f"cell {index + 1} ({grade_id!r}) {why}; graded as an ordinary cell")
            cell.metadata.pop("nbgrader", None)
        return nb, resources
