"""Turn whatever a student handed in into something nbgrader can grade.

A submission folder is untrusted input: it may hold a notebook that is not
JSON, an old nbformat, bytes that are not UTF-8, a notebook under another
name, renamed or deleted nbgrader cells, hundreds of megabytes of saved
output, or a symbolic link into the course's ``source/``. :func:`intake`
copies the folder into the grader's own working folder, repairs what can be
repaired without guessing at the student's intent, and says what it did: each
repair becomes a note the student sees in the feedback and the instructor in
the summary. What cannot be repaired (no notebook, not a notebook at all)
becomes a ``fatal`` reason and the submission scores zero.

Nothing here executes or imports student code, and links are never followed.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

# Above this a notebook is not even read: no honest submission comes close.
MAX_NOTEBOOK_BYTES = 256 * 2**20
# Saved outputs are dropped anyway (nbgrader clears them before running); this
# size only decides whether the student is told their file was oversized.
LARGE_NOTEBOOK_BYTES = 20 * 2**20
# What is left once outputs are gone must be a notebook of sensible size.
MAX_CLEAN_NOTEBOOK_BYTES = 20 * 2**20
MAX_OTHER_FILE_BYTES = 50 * 2**20
MAX_FILES = 500
# Names the grader writes next to notebooks; a submission may not bring its own.
GRADER_SUFFIXES = (".dlgrade.json",)
SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", ".git"}


@dataclass
class CellSpec:
    """What the assignment says a named nbgrader cell is."""
    grade_id: str
    cell: dict            # the release cell, used to restore a deleted locked cell
    index: int            # position in the release notebook

    @property
    def flags(self) -> tuple:
        meta = self.cell.get("metadata", {}).get("nbgrader", {})
        return (bool(meta.get("solution")), bool(meta.get("grade")), bool(meta.get("task")),
                self.cell.get("cell_type"))

    @property
    def locked(self) -> bool:
        return bool(self.cell.get("metadata", {}).get("nbgrader", {}).get("locked"))


@dataclass
class IntakeResult:
    notes: list = field(default_factory=list)     # repairs and oddities, shown to the student
    fatal: str = ""                               # why nothing could be graded
    notebooks: list = field(default_factory=list)  # notebook names written to the destination

    @property
    def ok(self) -> bool:
        return not self.fatal


MISSING_ANSWER = "This answer cell was missing from the submission; the grader put back the empty one."


def release_specs(release_nb) -> dict:
    specs = {}
    for index, cell in enumerate(release_nb.cells):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid:
            specs[gid] = CellSpec(gid, copy.deepcopy(cell), index)
    return specs


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 1024:.0f} kB"


def _flags(cell) -> tuple:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return (bool(meta.get("solution")), bool(meta.get("grade")), bool(meta.get("task")),
            cell.get("cell_type"))


def _gid(cell):
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def decode_notebook(raw: bytes, label: str, notes: list):
    """bytes -> notebook (nbformat 4), or raise ValueError with the reason."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", errors="replace")
        notes.append(f"{label} is not valid UTF-8 (first bad byte at offset {exc.start}); "
                     "the undecodable bytes were replaced by \ufffd and the notebook was graded")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{label} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                         "it cannot be opened as a notebook") from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise ValueError(f"{label} is JSON but not a Jupyter notebook (no 'nbformat' field)")
    major = data.get("nbformat")
    if not isinstance(major, int) or major < 3 or major > 4:
        raise ValueError(f"{label} declares nbformat {major!r}; only nbformat 3 and 4 can be graded")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises many types for malformed structure
        raise ValueError(f"{label} could not be read as a notebook: {type(exc).__name__}: {exc}") from None
    if major < 4:
        notes.append(f"{label} was saved as nbformat {major}.{data.get('nbformat_minor', 0)}; "
                     "it was converted to nbformat 4 before grading")
    return nb


def _clear(nb) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.pop("attachments", None)


def repair_cells(nb, specs: dict, label: str, notes: list) -> None:
    """Put the assignment's nbgrader cells back the way nbgrader expects them.

    Renamed ids are renamed back when a cell of the same kind is missing at the
    same place; extra or duplicate ids lose their nbgrader metadata (they become
    ordinary cells the student wrote); deleted locked cells (setup and test
    cells) are restored from the release, and deleted answer cells come back
    as the release's empty answer with a line saying so (a TA grading by hand
    sees the question, not a gap). This is the only place cells are put back:
    nbgrader's ``OverwriteCells.add_missing_cells`` stays off.
    """
    seen, unknown = set(), []
    for index, cell in enumerate(nb.cells):
        gid = _gid(cell)
        if gid is None:
            continue
        if gid in specs and gid not in seen:
            seen.add(gid)
        else:
            unknown.append(index)
    missing = [gid for gid in specs if gid not in seen]

    renamed = []
    for index in unknown:
        cell = nb.cells[index]
        gid = _gid(cell)
        duplicate = gid in specs
        # rename back to a missing id of the same kind, the nearest in release order
        candidates = [] if duplicate else [m for m in missing if specs[m].flags == _flags(cell)]
        if candidates:
            target = min(candidates, key=lambda m: abs(specs[m].index - index))
            cell.metadata["nbgrader"]["grade_id"] = target
            missing.remove(target)
            seen.add(target)
            renamed.append(f"'{gid}' -> '{target}'")
        else:
            del cell.metadata["nbgrader"]
            notes.append(f"{label}: cell {index + 1} carried the grade id '{gid}', which is not part of "
                         "this assignment (or appears twice); it was graded as an ordinary cell")
    if renamed:
        notes.append(f"{label}: renamed grade ids were restored ({', '.join(renamed)})")

    restored, emptied = [], []
    for gid in sorted(missing, key=lambda m: specs[m].index):
        spec = specs[gid]
        # insert after the nearest preceding nbgrader cell that is present
        ids = [_gid(c) for c in nb.cells]
        at = 0
        for prev in sorted((s for s in specs.values() if s.index < spec.index), key=lambda s: -s.index):
            if prev.grade_id in ids:
                at = ids.index(prev.grade_id) + 1
                break
        cell = nbformat.from_dict(copy.deepcopy(spec.cell))
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if not spec.locked:  # the student's answer is gone: the empty one, saying so, scores nothing
            mark = "# " if cell.cell_type == "code" else ""
            cell.source = f"{mark}{MISSING_ANSWER}\n\n{cell.source}"
            emptied.append(gid)
        else:
            restored.append(gid)
        nb.cells.insert(at, cell)
    if restored:
        notes.append(f"{label}: deleted cells were restored from the assignment: {', '.join(restored)}")
    if emptied:
        notes.append(f"{label}: answer cells were missing and were put back empty (they score nothing): "
                     f"{', '.join(emptied)}")


def _walk(src: Path):
    """(relative path, lstat) of every entry, links not followed."""
    for base, dirs, files in os.walk(src, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(base, d))]:
            path = Path(base) / name
            yield path.relative_to(src), path.lstat()
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(base, d))]


def intake(src: Path, dest: Path, expected: dict) -> IntakeResult:
    """Copy ``src`` (a submission folder) to ``dest``, checked and repaired.

    ``expected`` maps each notebook name of the assignment (without
    ``.ipynb``) to its release notebook.
    """
    result = IntakeResult()
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if src.is_symlink() or not src.is_dir():
        result.fatal = "no submission folder"
        return result

    notebooks, others, count = {}, [], 0
    for rel, st in _walk(src):
        count += 1
        if count > MAX_FILES:
            result.notes.append(f"the submission holds more than {MAX_FILES} files; the rest were ignored")
            break
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(src / rel)
            result.notes.append(f"symbolic link '{rel}' -> '{target}' was removed: links are never followed")
            continue
        if not stat.S_ISREG(st.st_mode):
            result.notes.append(f"'{rel}' is not a regular file and was ignored")
            continue
        if rel.name.endswith(GRADER_SUFFIXES):
            result.notes.append(f"'{rel}' has a name reserved for the grader and was ignored")
            continue
        if rel.suffix == ".ipynb" and len(rel.parts) == 1:
            notebooks[rel.stem] = st.st_size
        elif st.st_size > MAX_OTHER_FILE_BYTES:
            result.notes.append(f"'{rel}' ({_mb(st.st_size)}) is larger than {_mb(MAX_OTHER_FILE_BYTES)} "
                                "and was ignored")
        else:
            others.append(rel)

    chosen = {name: name for name in expected if name in notebooks}
    missing = [name for name in expected if name not in chosen]
    strays = sorted(n for n in notebooks if n not in expected)
    if len(missing) == 1 and len(strays) == 1:
        chosen[missing[0]] = strays[0]
        result.notes.append(f"no {missing[0]}.ipynb was submitted; {strays[0]}.ipynb was graded in its place")
        missing = []
    for name in missing:
        result.notes.append(f"{name}.ipynb is missing from the submission; its questions score zero")

    for name, found in chosen.items():
        label = f"{found}.ipynb"
        size = notebooks[found]
        if size > MAX_NOTEBOOK_BYTES:
            result.notes.append(f"{label} is {_mb(size)}, above the {_mb(MAX_NOTEBOOK_BYTES)} limit; not read")
            continue
        try:
            nb = decode_notebook((src / f"{found}.ipynb").read_bytes(), label, result.notes)
        except ValueError as exc:
            result.notes.append(str(exc))
            continue
        _clear(nb)
        if size > LARGE_NOTEBOOK_BYTES:
            result.notes.append(f"{label} was {_mb(size)}, mostly saved output; outputs were cleared "
                                "(grading runs the notebook afresh)")
        repair_cells(nb, release_specs(expected[name]), label, result.notes)
        nb.metadata.pop("dlgrade", None)
        try:
            text = nbformat.writes(nb)
        except Exception as exc:  # invalid structure nbformat refuses to write
            result.notes.append(f"{label} is not a valid notebook: {type(exc).__name__}: {exc}")
            continue
        if len(text.encode("utf-8")) > MAX_CLEAN_NOTEBOOK_BYTES:
            result.notes.append(f"{label} is still {_mb(len(text))} without outputs, above the "
                                f"{_mb(MAX_CLEAN_NOTEBOOK_BYTES)} limit; not graded")
            continue
        (dest / f"{name}.ipynb").write_text(text, encoding="utf-8")
        result.notebooks.append(name)

    for rel in others:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, target)

    if not result.notebooks:
        problems = [n for n in result.notes if ".ipynb" in n]
        result.fatal = problems[-1] if problems else "no notebook was submitted"
    return result
