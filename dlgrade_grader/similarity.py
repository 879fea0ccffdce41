"""Who copied from whom: a similarity report over a cohort's solution cells.

The fingerprinting is copydetect's (winnowed k-grams of tokenised code, in
which every name becomes ``V``/``F``/``O`` and comments vanish, so renaming
variables or adding comments hides nothing). What this module adds is the
course's view of a notebook:

* copydetect fingerprints each solution cell, and a cell is compared with
  the same cell (grade id) of the other student; the shared code is then
  summed over the notebook and divided by each student's own code. A single
  cell is too small to judge (many answers are one ``return`` line that
  independent students write identically, so a per-cell score would flag
  honest work), while a copy overlaps cell after cell. Joining the cells into
  one document instead would let k-grams span the end of one answer and the
  skeleton of the next, a false match between unrelated students.
* the release skeleton (def lines, docstrings, given code, ``raise
  NotImplementedError()``) is copydetect boilerplate: its fingerprints are
  dropped before comparing, so it never counts as similarity, and a student
  whose cells are only skeleton has nothing left to compare and is skipped.

Scores are a pointer for a human reviewer, never proof.
"""
from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path

import nbformat
import numpy as np
from copydetect import CodeFingerprint, compare_files

from .plan import STATE_DIR
from .similarity_html import write_index, write_pair_page

REPORT_DIR = Path("reports") / "similarity"
DEFAULT_THRESHOLD = 0.5
# copydetect's unit is a character of the filtered code (``V=V.F(V)``): 25 is about one short line
NOISE_CHARS = 25
# a pair whose shared code is shorter than this is never flagged, whatever its share: two nearly
# empty notebooks that both wrote ``return 0.0`` share 100% of very little
MIN_OVERLAP_CHARS = 60
CSV_FIELDS = ("student_a", "student_b", "score", "similarity_a", "similarity_b", "overlap_chars",
              "flagged", "cells", "html")


@dataclass(frozen=True)
class StudentCode:
    """One student's solution cells, in release order."""
    student: str
    cells: tuple[tuple[str, str], ...]   # (cell name, source)


@dataclass(frozen=True)
class Pair:
    """Two students' solution cells and how much of each is found in the other."""
    assignment: str
    student_a: str
    student_b: str
    similarity_a: float       # share of A's own (non-skeleton) code that B's same cells also hold
    similarity_b: float       # and the other way round
    overlap_chars: int        # shared code in A's cells, in characters of copydetect's normalised code
    cells: tuple[str, ...]    # the cells holding shared code
    flagged: bool
    html: Path | None = None  # side-by-side page, for flagged pairs

    @property
    def score(self) -> float:
        # the larger share: a short copy inside a longer notebook is still a copy
        return max(self.similarity_a, self.similarity_b)


@dataclass(frozen=True)
class CellMatch:
    """Where one cell's shared code is: copydetect's 2xN (starts, ends) in each source."""
    cell: str
    slices_a: np.ndarray
    slices_b: np.ndarray


@dataclass(frozen=True)
class Comparison:
    """Every pair of one assignment with any shared code, most similar first."""
    assignment: str
    students: tuple[str, ...]         # compared: their cells hold more than the skeleton
    skeleton_only: tuple[str, ...]    # blank submissions, never compared
    pairs: tuple[Pair, ...]
    matches: dict                     # (a, b) -> tuple of CellMatch, for the pages
    code: dict                        # student -> StudentCode, blank ones included


def release_notebooks(course: Path, assignment: str) -> list[tuple[str, object]]:
    """(notebook name, notebook) of every release copy: the published one and dlgrade's own."""
    found = []
    for folder in (course / "release" / assignment, course / STATE_DIR / "release" / assignment):
        for path in sorted(folder.glob("*.ipynb")):
            found.append((path.stem, nbformat.read(str(path), as_version=4)))
    if not found:
        raise FileNotFoundError(f"no release notebook for {assignment} in {course / 'release'} or "
                                f"{course / STATE_DIR / 'release'}: without the skeleton, the code "
                                f"every student was given would count as copied")
    return found


def _solution_sources(nb) -> dict[str, str]:
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in nb.cells
            if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution")}


def fingerprint(name: str, source: str, boilerplate=None) -> CodeFingerprint:
    # fp= lets copydetect read from memory; the .py name and language pick the Python tokeniser.
    # Window 1 keeps every k-gram (guarantee = noise): cells are short and cohorts small.
    return CodeFingerprint(f"{name}.py", NOISE_CHARS, 1, boilerplate=boilerplate,
                           language="python", fp=io.StringIO(source))


def skeleton_hashes(notebooks: list[tuple[str, object]]) -> np.ndarray:
    """Fingerprints of every solution cell of (name, notebook) pairs, the way copydetect builds its
    boilerplate: the release skeleton, and with --discount-reference the instructor's solution too."""
    hashes = [h for nb_name, nb in notebooks for gid, source in _solution_sources(nb).items()
              for h in fingerprint(f"{nb_name}/{gid}", source).hashes]
    return np.unique(np.array(hashes, dtype=np.int64))


def reference_notebooks(course: Path, assignment: str) -> list[tuple[str, object]]:
    """(notebook name, notebook) of the instructor's solution in ``source/``."""
    return [(path.stem, nbformat.read(str(path), as_version=4))
            for path in sorted((course / "source" / assignment).glob("*.ipynb"))]


def _layout(releases) -> list[tuple[str, str, str]]:
    """(label, notebook, grade id) of every solution cell, in release order."""
    several = len({name for name, _ in releases}) > 1
    order = []
    for name, nb in releases:
        for gid in _solution_sources(nb):
            entry = (f"{name}/{gid}" if several else gid, name, gid)
            if entry not in order:
                order.append(entry)
    return order


def read_student(course: Path, assignment: str, student: str, layout) -> StudentCode | None:
    """The student's solution cells, matched by grade id; None when there is no notebook to read."""
    cells, found = [], False
    for name in dict.fromkeys(name for _, name, _ in layout):
        path = course / "submitted" / student / assignment / f"{name}.ipynb"
        if not path.exists():
            continue
        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception as exc:  # a broken notebook is the grader's problem, not a similarity
            print(f"dlgrade similarity: skipping {path}: {exc}", file=sys.stderr)
            continue
        found = True
        sources = _solution_sources(nb)
        cells += [(label, sources[gid]) for label, nb_name, gid in layout if nb_name == name and gid in sources]
    return StudentCode(student, tuple(cells)) if found else None


def compare_cohort(course: Path, assignment: str, threshold: float = DEFAULT_THRESHOLD,
                   min_overlap: int = MIN_OVERLAP_CHARS, discount_reference: bool = False) -> Comparison:
    """Fingerprint every submission's solution cells and compare all pairs of students.

    Cells are compared with the same cell of the other student (a copied answer sits in the
    question's cell) and the overlaps are summed over the notebook; fingerprinting cell by cell
    also keeps a k-gram from spanning the end of one answer and the skeleton of the next."""
    course = Path(course)
    releases = release_notebooks(course, assignment)
    layout = _layout(releases)
    # with discount_reference, code the instructor's solution also holds counts as given: it is the
    # natural way to write the answer and says nothing about who copied from whom (the demo's
    # students are all built from it)
    boilerplate = skeleton_hashes(releases + (reference_notebooks(course, assignment) if discount_reference
                                              else []))
    students = sorted(p.parent.name for p in (course / "submitted").glob(f"*/{assignment}") if p.is_dir())
    code, prints, blank = {}, {}, []
    for sid in students:
        student = read_student(course, assignment, sid, layout)
        if student is None:
            continue
        code[sid] = student
        cells = {label: fingerprint(f"{sid}/{label}", source, boilerplate) for label, source in student.cells}
        # what is left once the skeleton's fingerprints are gone is the student's own code
        own = {label: fp for label, fp in cells.items() if fp.token_coverage > 0}
        if own:
            prints[sid] = own
        else:
            blank.append(sid)
    pairs, matches = [], {}
    for a, b in combinations(sorted(prints), 2):
        shared_a = shared_b = overlap_chars = 0.0
        found = []
        for label in prints[a].keys() & prints[b].keys():
            fa, fb = prints[a][label], prints[b][label]
            overlap, (sim_a, sim_b), (slices_a, slices_b) = compare_files(fa, fb)
            if overlap == 0:
                continue
            overlap_chars += overlap
            shared_a += sim_a * fa.token_coverage
            shared_b += sim_b * fb.token_coverage
            found.append(CellMatch(label, slices_a, slices_b))
        if not found:
            continue
        order = [label for label, _, _ in layout]
        found.sort(key=lambda m: order.index(m.cell))
        matches[a, b] = tuple(found)
        sim_a = shared_a / sum(fp.token_coverage for fp in prints[a].values())
        sim_b = shared_b / sum(fp.token_coverage for fp in prints[b].values())
        flagged = bool(overlap_chars >= min_overlap and max(sim_a, sim_b) >= threshold)
        pairs.append(Pair(assignment, a, b, float(sim_a), float(sim_b), int(overlap_chars),
                          tuple(m.cell for m in found), flagged))
    pairs.sort(key=lambda p: (-p.score, p.student_a, p.student_b))
    return Comparison(assignment, tuple(sorted(prints)), tuple(blank), tuple(pairs), matches, code)


def similarity_report(course: Path, assignment: str, out_dir: Path | None = None,
                      threshold: float = DEFAULT_THRESHOLD, list_threshold: float | None = None,
                      min_overlap: int = MIN_OVERLAP_CHARS, discount_reference: bool = False) -> list[Pair]:
    """Write ``<assignment>.csv``, a side-by-side page per flagged pair and the index under
    out_dir (default ``<course>/reports/similarity``); return the flagged pairs.

    The CSV lists every pair scoring at least list_threshold (default: half the threshold),
    flagged or not, so a reviewer sees what sits just below the line."""
    course = Path(course)
    out_dir = Path(out_dir) if out_dir is not None else course / REPORT_DIR
    listed_from = threshold / 2 if list_threshold is None else list_threshold
    comparison = compare_cohort(course, assignment, threshold, min_overlap, discount_reference)
    pages = out_dir / assignment
    pages.mkdir(parents=True, exist_ok=True)
    for stale in pages.glob("*.html"):   # a pair flagged last time may be cleared by now
        stale.unlink()
    flagged = []
    for pair in comparison.pairs:
        if pair.flagged:
            path = pages / f"{pair.student_a}__{pair.student_b}.html"
            write_pair_page(path, pair, comparison)
            flagged.append(replace(pair, html=path))
    listed = [p for p in comparison.pairs if p.score >= listed_from and not p.flagged] + flagged
    listed.sort(key=lambda p: (-p.score, p.student_a, p.student_b))
    with open(out_dir / f"{assignment}.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, CSV_FIELDS)
        writer.writeheader()
        for p in listed:
            writer.writerow({"student_a": p.student_a, "student_b": p.student_b,
                             "score": f"{p.score:.3f}", "similarity_a": f"{p.similarity_a:.3f}",
                             "similarity_b": f"{p.similarity_b:.3f}", "overlap_chars": p.overlap_chars,
                             "flagged": "yes" if p.flagged else "no",
                             "cells": " ".join(p.cells),
                             "html": p.html.relative_to(out_dir).as_posix() if p.html else ""})
    write_index(out_dir)
    return flagged


def run_cli(course: Path, assignments: list[str], threshold: float | None,
            discount_reference: bool = False) -> int:
    """``dlgrade similarity``: one report per assignment, a line each, the index path last."""
    course = Path(course)
    if threshold is not None and not 0 < threshold:
        print("dlgrade similarity: --threshold must be above 0", file=sys.stderr)
        return 2
    assignments = assignments or sorted({p.name for p in (course / "submitted").glob("*/*") if p.is_dir()})
    if not assignments:
        print(f"dlgrade similarity: no submissions in {course.resolve() / 'submitted'}", file=sys.stderr)
        return 1
    out_dir = course / REPORT_DIR
    for hw in assignments:
        try:
            flagged = similarity_report(course, hw, out_dir, DEFAULT_THRESHOLD if threshold is None else threshold,
                                        discount_reference=discount_reference)
        except FileNotFoundError as exc:
            print(f"dlgrade similarity: {exc}", file=sys.stderr)
            return 1
        print(f"{hw}: {len(flagged)} pair{'s' * (len(flagged) != 1)} flagged"
              + "".join(f"\n  {p.score:.0%}  {p.student_a}  {p.student_b}" for p in flagged))
    print(f"review them in {out_dir / 'index.html'} (a pointer for review, not proof of copying)")
    return 0
