"""The demo cohort: synthetic students whose submissions come from the catalogues.

Per assignment: a perfect submission (the reference solution), a blank one,
up to three typical mistakes, one tampering attempt, an honest student whose
code is the catalogue's largest correct alternative, and a classmate who
copies that student's answers and disguises them (comments, blank lines), the
planted pair ``dlgrade similarity`` must find. All are built from the source
notebook and the catalogue ``<catalogues>/<assignment>.py`` (by default the
checkout's ``grader_tests/catalogues``) exactly as the grader's self-tests
build them; the catalogue files are read from that folder, the grader package
does not import its tests. Students are named ``demo-<kind>-<name>`` and
submit every assignment that exists.
"""
from __future__ import annotations

import importlib.util
import shutil
from dataclasses import replace
import sys
from pathlib import Path

import nbformat

from . import hw as hw_modules
from .coursefolder import REPO
from .submissions import BLANK, REFERENCE, Variant, build_submission, reference_answers, write_submission

PERSONAS = [("perfect", "ada"), ("blank", "ben"), ("mistake", "cleo"), ("mistake", "dmitri"),
            ("mistake", "esme"), ("tamper", "mallory"), ("honest", "fay"), ("copy", "gus")]


def _disguised(variant: Variant) -> Variant:
    """The same answers as ``variant``, dressed up the way a copier does: comments, spacing."""
    def dress(code: str) -> str:
        lines = []
        for line in code.splitlines():
            lines.append(line)
            if line.lstrip().startswith("def "):
                lines.append(" " * (len(line) - len(line.lstrip()) + 4) + "# my own approach")
                lines.append("")
        return "\n".join(lines) + "\n"
    return replace(variant, name=f"copy_of_{variant.name}", answers={k: dress(v) for k, v in variant.answers.items()})


DEFAULT_CATALOGUES = REPO / "grader_tests" / "catalogues"


def _load(path: Path):
    """A catalogue file as a module of its own name space, or None when there is none."""
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"dlgrade_demo_catalogue_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shared_attacks(catalogues: Path) -> list:
    return list(getattr(_load(catalogues / "shared_attacks.py"), "ATTACKS", []))


def _own_lines(variant: Variant, reference_code: str) -> int:
    """How many lines of the variant's answers the instructor's solution does not hold."""
    known = {line.strip() for line in reference_code.splitlines()}
    return sum(line.strip() not in known for code in variant.answers.values() for line in code.splitlines())


def variants_for(assignment: str, reference_code: str = "",
                 catalogues: Path = DEFAULT_CATALOGUES) -> tuple[dict, list]:
    """{student id: Variant} for one assignment, and notes on what is missing. ``reference_code``
    (the source notebook's solution cells) picks the honest student's most independent answer."""
    notes = []
    cat = _load(catalogues / f"{assignment}.py")
    wrong = list(getattr(cat, "WRONG", [])) if cat else []
    attacks = list(getattr(cat, "ATTACKS", [])) if cat else []
    alternatives = list(getattr(cat, "ALTERNATIVES", [])) if cat else []
    # the most code of its own: the copy then shares far more than one line
    honest = max(alternatives, key=lambda v: _own_lines(v, reference_code), default=None)
    if cat is None:
        notes.append(f"{assignment}: no catalogue {catalogues / (assignment + '.py')}; "
                     "only perfect and blank submissions")
    attacks = attacks or _shared_attacks(catalogues)
    out = {}
    # three typical mistakes in three different questions: two students who got one function
    # wrong in the same style would look alike to the similarity report
    picked, used = [], set()
    for variant in wrong:
        if len(picked) < 3 and not used & set(variant.answers):
            picked.append(variant)
            used |= set(variant.answers)
    mistakes = iter(picked)
    for kind, name in PERSONAS:
        sid = f"demo-{kind}-{name}"
        if kind == "perfect":
            out[sid] = REFERENCE
        elif kind == "blank":
            out[sid] = BLANK
        elif kind == "mistake":
            variant = next(mistakes, None)
            if variant is not None:
                out[sid] = variant
        elif kind == "tamper" and attacks:
            out[sid] = attacks[0]
        elif kind == "honest" and honest is not None:
            out[sid] = honest
        elif kind == "copy" and honest is not None:
            out[sid] = _disguised(honest)
    return out, notes


def release_notebook(course: Path, assignment: str):
    from .inprocess import sync_assignments
    from .plan import STATE_DIR

    for folder in (course / "release" / assignment, course / STATE_DIR / "release" / assignment):
        path = folder / f"{assignment}.ipynb"
        if path.exists():
            return nbformat.read(str(path), as_version=4)
    import logging
    sync_assignments(course, [assignment], f"sqlite:///{course / 'gradebook.db'}", logging.getLogger("dlgrade"))
    return nbformat.read(str(course / STATE_DIR / "release" / assignment / f"{assignment}.ipynb"), as_version=4)


def generate(course: Path, assignments=(), out=sys.stdout, catalogues: Path = DEFAULT_CATALOGUES) -> dict:
    """Write the demo cohort into ``course/submitted``; returns {assignment: {student: variant name}}."""
    course = course.resolve()
    wanted = list(assignments) or list(hw_modules.ASSIGNMENTS)
    written = {}
    for hw in wanted:
        source = course / "source" / hw / f"{hw}.ipynb"
        if not source.exists():
            print(f"skipping {hw}: {source} does not exist (yet)", file=out)
            continue
        src_nb = nbformat.read(str(source), as_version=4)
        rel_nb = release_notebook(course, hw)
        variants, notes = variants_for(hw, "\n".join(reference_answers(src_nb).values()), catalogues)
        for note in notes:
            print(note, file=out)
        written[hw] = {}
        for sid, variant in variants.items():
            try:
                nb = build_submission(variant, src_nb, rel_nb)
            except Exception as exc:  # a catalogue entry written for another version of the notebook
                print(f"{hw}: catalogue entry {variant.name} does not fit the notebook ({exc}); skipped", file=out)
                continue
            folder = course / "submitted" / sid / hw
            if folder.exists():
                shutil.rmtree(folder)
            write_submission(nb, folder / f"{hw}.ipynb")
            written[hw][sid] = f"{variant.kind}:{variant.name}"
    total = sum(len(v) for v in written.values())
    print(f"demo cohort: {total} submissions for {len(written)} assignment(s) in {course / 'submitted'}", file=out)
    for hw, subs in written.items():
        for sid, what in sorted(subs.items()):
            print(f"  {hw:18s} {sid:24s} {what}", file=out)
    return written
