"""nbgrader preprocessors that put verdicts outside the student's kernel.

``VerifyChecks`` sits between ``Execute`` and ``SaveAutoGrades``. For every
autograded test cell it takes the cell's source from the gradebook (never from
the submission), re-plays the check calls in verify mode, and rewrites the
cell's outputs to exactly what ``SaveAutoGrades`` turns into the earned
points: one stdout stream with the verdicts and one ``execute_result`` holding
the score. Everything the kernel printed in that cell is dropped.

``HideHiddenTests`` runs in ``generate_feedback`` and replaces the hidden
region of each test cell with a one-line placeholder.
"""
from __future__ import annotations

import json
import os

from nbformat.v4 import new_output
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Enum, List, Unicode

from . import hw, keys
from .audit import AuditResult, audit_cells
from .casebook import is_test_cell, submission_digest
from .sanitize import INTAKE_KEY
from .verify import CellResult, GradingContext, name_broken_helpers, verify_cell

SIDECAR_SUFFIX = ".dlgrade.json"


class VerifyChecks(NbGraderPreprocessor):
    """Score every check-API test cell from trusted source and plain-data records."""

    tamper_policy = Enum(
        ["zero", "flag", "off"], default_value="zero",
        help="'zero': tampering voids the notebook's autograded points and a forbidden shortcut "
             "zeroes its checks; 'flag': report only; 'off': no audit at all (scores must be "
             "right without it: the attack catalogues run this way too)"
    ).tag(config=True)
    flag_only_functions = List(
        [], help="Functions whose forbidden-shortcut audit only flags instead of scoring zero"
    ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        assignment, notebook = info["assignment"], info["notebook"]
        student = info["student"]
        try:
            registry = hw.registry(assignment)
            forbidden = hw.forbidden_in_solutions(assignment)
        except ImportError:
            registry, forbidden = None, set()
        with Gradebook(info["db_url"]) as gb:
            trusted = self._trusted_sources(gb, notebook, assignment)
        audit = self._audit(nb, trusted, registry, forbidden)
        intake = nb.metadata.get(INTAKE_KEY) or {}
        audit.notes.extend(str(n) for n in intake.get("notes", []))
        graded = GradingContext(keys.key_for(self.config), student, submission_digest(nb))
        results = []
        for cell in nb.cells:
            if not is_test_cell(cell):
                continue
            grade_id = cell.metadata.nbgrader["grade_id"]
            source = trusted.get(grade_id)
            max_points = float(cell.metadata.nbgrader.get("points", 0))
            if source is None or registry is None:
                result = CellResult(grade_id, max_points)
                result.problems.append("this test cell is unknown to the gradebook or has no checks;"
                                       " scored 0")
            else:
                result = verify_cell(grade_id, source, max_points, cell.get("outputs", []), registry,
                                     graded, audit.blocked)
            if intake.get("refused"):
                result.withhold(f"not graded: {intake['refused']}")
            elif audit.voids_notebook and self.tamper_policy == "zero":
                result.withhold("autograded points withheld: " + "; ".join(audit.tampering))
            results.append((cell, result))
        if registry is not None:
            name_broken_helpers([r for _, r in results], registry)
        for cell, result in results:
            self._write_outputs(cell, result)
        results = [r for _, r in results]
        self._write_sidecar(nb, resources, results, audit)
        return nb, resources

    @staticmethod
    def _trusted_sources(gb, notebook, assignment) -> dict:
        try:
            nb_entry = gb.find_notebook(notebook, assignment)
        except MissingEntry:
            return {}
        return {c.name: c.source for c in nb_entry.source_cells}

    def _audit(self, nb, trusted, registry, forbidden) -> AuditResult:
        if self.tamper_policy == "off":
            return AuditResult(notes=["the static audit is switched off (tamper_policy = 'off')"])
        student_cells = []
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            meta = cell.metadata.get("nbgrader", {})
            grade_id = meta.get("grade_id")
            is_solution = bool(meta.get("solution"))
            # cells restored from the gradebook are the instructor's, not the student's
            if grade_id in trusted and not is_solution and cell.source == trusted[grade_id]:
                continue
            label = f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")
            student_cells.append((label, cell.source, is_solution))
        functions = set()
        if registry is not None:
            for spec in registry.checks.values():
                functions.update(spec.functions)
        result = audit_cells(student_cells, forbidden, functions)
        if self.tamper_policy == "flag":
            result.notes += [f"(flag only) {t}" for t in result.tampering]
            result.notes += [f"(flag only) {r}" for r in result.blocked.values()]
            result.tampering, result.blocked = [], {}
        for fn in self.flag_only_functions:
            if fn in result.blocked:
                result.notes.append(f"(flag only) {result.blocked.pop(fn)}")
        return result

    @staticmethod
    def _write_outputs(cell, result: CellResult) -> None:
        awarded = min(max(result.awarded, 0.0), result.max_points)
        cell.outputs = [
            new_output("stream", name="stdout", text=result.text()),
            new_output("execute_result", data={"text/plain": repr(float(awarded))},
                       execution_count=cell.get("execution_count")),
        ]

    @staticmethod
    def _write_sidecar(nb, resources, results, audit: AuditResult) -> None:
        summary = {
            "cells": {r.grade_id: {"awarded": r.awarded, "max": r.max_points, "problems": r.problems,
                                   "checks": [{"id": c.check_id, "hidden": c.hidden, "points": c.points,
                                               "awarded": c.awarded, "passed": c.passed,
                                               "mistakes": list(c.mistakes), "text": c.text}
                                              for c in r.checks]}
                      for r in results},
            "audit": {"blocked": audit.blocked, "tampering": audit.tampering, "notes": audit.notes},
        }
        nb.metadata["dlgrade"] = summary
        path = resources.get("metadata", {}).get("path")
        if path and os.path.isdir(path):
            target = os.path.join(path, resources["nbgrader"]["notebook"] + SIDECAR_SUFFIX)
            with open(target, "w", encoding="utf-8") as fh:
                json.dump(summary, fh, indent=1, sort_keys=True)


class HideHiddenTests(ClearHiddenTests):
    """Feedback shows the verdicts but never the hidden test text.

    nbgrader's own region removal, with its delimiter traits
    (``begin_test_delimeter``, ``end_test_delimeter``) and its error on a
    nested or unterminated region; a one-line placeholder is left where each
    region was, so the student sees that checks ran there.
    """

    placeholder = Unicode("# hidden checks: their results are in the output below").tag(config=True)
    enforce_metadata = False  # test cells are grade cells already; nothing to enforce in feedback

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and self.begin_test_delimeter in cell.source:
            lines = []
            for line in cell.source.split("\n"):
                if self.begin_test_delimeter in line:  # the placeholder stays, the region goes
                    lines.append(line[:len(line) - len(line.lstrip())] + self.placeholder)
                lines.append(line)
            cell.source = "\n".join(lines)
            self._remove_hidden_test_region(cell)
        return cell, resources
