"""Build nbgrader source notebooks from reviewable plain-text cell files.

``course/<assignment>.cells`` is a sequence of cells, each opened by a marker
line::

    # %% md                               plain markdown
    # %% code                             plain code cell the student may edit
    # %% setup id=imports                 locked code cell (imports, data)
    # %% solution id=unbroadcast          autograded solution code (BEGIN/END SOLUTION)
    # %% tests id=test_unbroadcast        locked check-API test cell; its points are its checks'
    # %% answer id=proof_mle points=10    manually graded markdown answer
    # %% rubric id=proof_mle_rubric       manually graded task cell (0 points) holding a mark scheme

Markdown is written as is (not commented out). The builder writes
``source/<assignment>/<assignment>.ipynb`` with outputs cleared.

Points are written once: on each ``check(..., points=N)`` line and on each
``answer`` marker. A test cell's points are the sum of its checks', and prose
says points through placeholders the builder fills (:func:`fill_points`), so
a heading cannot promise other points than the grader gives.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

MARKER = re.compile(r"^# %%(?P<rest>.*)$")
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
# the .cells schema: kind -> (attributes it needs, attributes it may have)
KINDS = {
    "md": ((), ()),
    "code": ((), ()),
    "setup": (("id",), ("id",)),
    "solution": (("id",), ("id",)),
    "tests": (("id",), ("id",)),
    "answer": (("id", "points"), ("id", "points")),
    "rubric": (("id",), ("id", "points")),
}


class CellFileError(ValueError):
    pass


def parse_cells(text: str) -> list[dict]:
    """The cells of a ``.cells`` text, checked against :data:`KINDS`; errors name the line."""
    cells, current, ids = [], None, {}
    for lineno, line in enumerate(text.splitlines(), 1):
        m = MARKER.match(line)
        if m:
            kind, attrs = _marker(m.group("rest"), lineno)
            if "id" in attrs:
                if attrs["id"] in ids:
                    raise CellFileError(f"line {lineno}: id '{attrs['id']}' is already used at line {ids[attrs['id']]}")
                ids[attrs["id"]] = lineno
            current = {"kind": kind, "attrs": attrs, "lines": [], "line": lineno}
            cells.append(current)
        elif current is None:
            if line.strip():
                raise CellFileError(f"line {lineno}: text before the first cell marker")
        else:
            current["lines"].append(line)
    for cell in cells:
        cell["source"] = "\n".join(cell.pop("lines")).strip("\n")
    return cells


def _marker(rest: str, lineno: int) -> tuple[str, dict]:
    words = rest.split()
    if not words or words[0] not in KINDS:
        found = repr(words[0]) if words else "nothing"
        raise CellFileError(f"line {lineno}: a cell marker names its kind ({', '.join(KINDS)}); found {found}")
    kind, attrs = words[0], {}
    needs, may = KINDS[kind]
    for word in words[1:]:
        name, eq, value = word.partition("=")
        if not eq or not name or not value:
            raise CellFileError(f"line {lineno}: '{word}' is not an attribute (name=value)")
        if kind == "tests" and name == "points":
            raise CellFileError(f"line {lineno}: a test cell's points are the sum of its checks' points=;"
                                " write them on the check() lines only")
        if name not in may:
            allowed = ", ".join(may) or "no attributes"
            raise CellFileError(f"line {lineno}: a {kind} cell takes {allowed}; '{name}' is not one of them")
        attrs[name] = value
    for name in needs:
        if name not in attrs:
            raise CellFileError(f"line {lineno}: a {kind} cell needs {name}=")
    if "points" in attrs:
        try:
            points = float(attrs["points"])
        except ValueError:
            points = -1.0
        if not points >= 0:
            raise CellFileError(f"line {lineno}: points must be a non-negative number, not {attrs['points']!r}")
    return kind, attrs


def assign_points(cells: list[dict]) -> None:
    """Give each test cell the points its check() calls add up to (a course file's test cells hold
    only check calls, so a malformed one is found when the notebook is built, not when it is graded)."""
    from .verify import SourceError, parse_check_calls

    for cell in cells:
        if cell["kind"] != "tests":
            continue
        try:
            calls = parse_check_calls(cell["source"])
        except SourceError as exc:
            raise CellFileError(f"test cell at line {cell['line']}: {exc}") from None
        cell["checks"] = [(c.check_id, c.points) for c in calls]
        cell["attrs"]["points"] = f"{sum(c.points for c in calls):g}"


def _points(cells, kinds=("tests", "answer")) -> float:
    return sum(float(c["attrs"].get("points", 0)) for c in cells if c["kind"] in kinds)


def _heading_level(cell: dict) -> int:
    """1 for '# ...', 2 for '## ...'; 7 for markdown that does not open with a heading."""
    m = re.match(r"(#{1,6})\s", cell["source"].lstrip()) if cell["kind"] == "md" else None
    return len(m.group(1)) if m else 7


def _section(cells: list[dict], start: int) -> list[dict]:
    """The cells a markdown cell introduces, as markdown nests them: up to the next heading of the
    same or a higher level (a notebook's '# Title' cell introduces the whole notebook)."""
    level, out = _heading_level(cells[start]), []
    for cell in cells[start + 1:]:
        if cell["kind"] == "md" and _heading_level(cell) <= min(level, 6):
            break
        out.append(cell)
    return out


PLACEHOLDER = re.compile(r"\{\{(points|auto_points|manual_points)(?::([\w.]+))?\}\}")


def fill_points(cells: list[dict]) -> None:
    """Fill the point placeholders of markdown and rubric cells:

    - in a markdown cell, ``{{points}}``, ``{{auto_points}}`` and ``{{manual_points}}`` are the points
      of the graded cells it introduces (:func:`_section`): all, the test cells', the answer cells';
    - ``{{points:<grade id>}}`` is the points of that one test or answer cell, anywhere, and
      ``{{points:<check id>}}`` those of every check() line of that id or of an id under it
      (``coin_sample_space`` counts ``coin_sample_space.hidden`` too);
    - in a rubric cell ``<id>_rubric``, ``{{points}}`` is the points of the answer ``<id>``.
    """
    graded = {c["attrs"]["id"]: float(c["attrs"]["points"]) for c in cells if c["kind"] in ("tests", "answer")}
    checks = [check for c in cells for check in c.get("checks", ())]

    def named(name: str):
        if name in graded:
            return graded[name]
        family = [points for check_id, points in checks if check_id == name or check_id.startswith(name + ".")]
        return sum(family) if family else None

    for index, cell in enumerate(cells):
        if "{{" not in cell["source"]:
            continue
        values = {}
        if cell["kind"] == "md":
            section = [c for c in _section(cells, index) if c["kind"] in ("tests", "answer")]
            values = {} if not section else {"points": _points(section), "auto_points": _points(section, ("tests",)),
                      "manual_points": _points(section, ("answer",))}
        elif cell["kind"] == "rubric" and cell["attrs"]["id"].removesuffix("_rubric") in graded:
            values = {"points": graded[cell["attrs"]["id"].removesuffix("_rubric")]}

        def fill(m, values=values, cell=cell):
            name, grade_id = m.group(1), m.group(2)
            if grade_id is not None:
                if name != "points" or named(grade_id) is None:
                    raise CellFileError(f"line {cell['line']}: {m.group(0)} names no test or answer cell and no check")
                return f"{named(grade_id):g}"
            if name not in values:
                raise CellFileError(f"line {cell['line']}: {m.group(0)} has no value here (a markdown cell's "
                                    "counts the graded cells up to its next heading; a rubric's, its answer)")
            return f"{values[name]:g}"

        cell["source"] = PLACEHOLDER.sub(fill, cell["source"])


def _meta(kind: str, attrs: dict, line: int) -> dict:
    if kind in ("md", "code"):
        return {}
    grade = kind in ("tests", "answer")
    meta = {"grade": grade, "grade_id": attrs["id"], "locked": kind in ("setup", "tests", "rubric"),
            "schema_version": 3, "solution": kind in ("solution", "answer"), "task": kind == "rubric"}
    if grade or kind == "rubric":
        meta["points"] = float(attrs.get("points", 0))
        if meta["points"] == int(meta["points"]):
            meta["points"] = int(meta["points"])
    return {"nbgrader": meta}


def build_notebook(text: str, cells: list | None = None):
    nb = new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for cell in cells if cells is not None else parse_cells(text):
        kind, meta = cell["kind"], _meta(cell["kind"], cell["attrs"], cell["line"])
        if kind in ("md", "answer", "rubric"):
            nbcell = new_markdown_cell(cell["source"], metadata=meta)
        else:
            nbcell = new_code_cell(cell["source"], metadata=meta)
        if meta.get("nbgrader", {}).get("locked"):
            nbcell.metadata["deletable"] = False
            nbcell.metadata["editable"] = False
        nb.cells.append(nbcell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i:03d}"  # stable ids keep rebuilds byte-identical
    return nb


def _latex_power(x: float) -> str:
    mantissa, exponent = f"{x:e}".split("e")
    m = float(mantissa)
    return f"$10^{{{int(exponent)}}}$" if m == 1 else f"${m:g} \\times 10^{{{int(exponent)}}}$"


def tolerance_values(assignment: str) -> dict:
    """{{rtol}} and {{atol}} of a notebook: the tolerances most of its checks compare with, read from
    the checks themselves so the prose cannot promise other values than the grader uses."""
    import importlib
    from collections import Counter

    specs = importlib.import_module(f"dlgrade.hw.{assignment}").SPECS
    common = Counter((s.rtol, s.atol) for s in specs if s.judge is None).most_common(1)
    if not common:
        return {}
    (rtol, atol), _ = common[0]
    return {"rtol": _latex_power(rtol), "atol": _latex_power(atol)}


def expand(text: str, assignment: str) -> str:
    """Fill the ``{{name}}`` placeholders of a ``.cells`` file; an unknown one is an error."""
    values = {}

    def fill(m):
        if PLACEHOLDER.fullmatch(m.group(0)):
            return m.group(0)  # filled per cell once the cells are known
        if not values:
            values.update(tolerance_values(assignment))
        if m.group(1) not in values:
            raise ValueError(f"{assignment}.cells: unknown placeholder {{{{{m.group(1)}}}}}")
        return values[m.group(1)]

    return re.sub(r"\{\{(\w+)(?::[\w.]+)?\}\}", fill, text)


def build(course_dir: Path, source_dir: Path, assignments=None) -> list[Path]:
    written = []
    for cell_file in sorted(course_dir.glob("*.cells")):
        name = cell_file.stem
        if assignments and name not in assignments:
            continue
        try:
            cells = parse_cells(expand(cell_file.read_text(encoding="utf-8"), name))
            assign_points(cells)
            fill_points(cells)
        except CellFileError as exc:
            raise CellFileError(f"{cell_file.name}: {exc}") from None
        nb = build_notebook("", cells)
        target = source_dir / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        written.append(target)
    return written


def main(argv=None) -> int:
    root = Path.cwd()
    for path in build(root / "course", root / "source", argv or None):
        print(f"wrote {path.relative_to(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
