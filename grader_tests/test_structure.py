"""Static properties of the course: notebooks, points, release, student package."""
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from dlgrade_grader import hw as hwmod
from dlgrade_grader.sandbox import kernel_python_default
from dlgrade_grader import release as rel
from dlgrade_grader.submissions import reference_answers
from dlgrade_grader.verify import parse_check_calls
from grader_tests.catalogues import load
from grader_tests.conftest import ASSIGNMENTS

REPO = Path(__file__).resolve().parents[1]
# what every assignment's catalogue holds at least (and every check is caught by one wrong answer)
MIN_WRONG, MIN_ALTERNATIVES = 12, 4


def source_nb(hw):
    return nbformat.read(str(REPO / "source" / hw / f"{hw}.ipynb"), as_version=4)


def release_nb(hw):
    return nbformat.read(str(REPO / "release" / hw / f"{hw}.ipynb"), as_version=4)


def nbmeta(cell):
    return cell.metadata.get("nbgrader", {})


def test_every_assignment_has_all_its_halves():
    assert ASSIGNMENTS, "no course/*.cells"
    assert set(ASSIGNMENTS) == set(hwmod.ASSIGNMENTS)
    rel.require_complete(REPO)


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_source_outputs_cleared(hw):
    for cell in source_nb(hw).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_grade_ids_unique_and_points_total_100(hw):
    cells = [c for c in source_nb(hw).cells if nbmeta(c)]
    ids = [nbmeta(c)["grade_id"] for c in cells]
    assert len(ids) == len(set(ids))
    total = sum(float(nbmeta(c).get("points", 0)) for c in cells if nbmeta(c).get("grade") or nbmeta(c).get("task"))
    assert total == pytest.approx(100)


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_test_cells_are_declarative_checks(hw):
    registry = hwmod.registry(hw)
    used = set()
    for cell in source_nb(hw).cells:
        m = nbmeta(cell)
        if not (m.get("grade") and cell.cell_type == "code" and not m.get("solution")):
            continue
        calls = parse_check_calls(cell.source)
        assert calls, f"{m['grade_id']} has no checks"
        assert sum(c.points for c in calls) == pytest.approx(float(m["points"])), m["grade_id"]
        assert any(not c.hidden for c in calls), f"{m['grade_id']} has no visible check for students"
        assert any(c.hidden for c in calls), f"{m['grade_id']} has no hidden check"
        for c in calls:
            assert c.check_id in registry, c.check_id
            used.add(c.check_id)
        lines = [ln for ln in cell.source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        assert len(lines) == len(calls), "one line per check"
    assert used == set(registry.checks), f"checks never used: {set(registry.checks) - used}"


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_catalogue_sizes(hw):
    entries = load(hw)
    assert sum(v.kind == "wrong" for v in entries) >= MIN_WRONG
    assert sum(v.kind == "alternative" for v in entries) >= MIN_ALTERNATIVES
    names = [v.student_id for v in entries]
    assert len(names) == len(set(names))
    registry = hwmod.registry(hw)
    for v in entries:
        for cid in v.fails:
            assert cid in registry, f"{v.name} names unknown check {cid}"
    caught = {cid for v in entries for cid in v.fails}
    assert set(registry.checks) <= caught, f"checks no wrong answer exercises: {set(registry.checks) - caught}"


def test_release_and_source_match_a_fresh_build():
    assert rel.drift(REPO) == []


def test_drift_ignores_another_cpus_last_bits_but_not_a_changed_answer(tmp_path):
    shipped = STUDENT_PKG / "dlgrade" / "hw" / "data" / "probability.json"
    (tmp_path / "a" / "data").mkdir(parents=True)
    (tmp_path / "b" / "data").mkdir(parents=True)
    data = json.loads(shipped.read_text())
    first = next(iter(data["checks"]))
    case = data["checks"][first][0]

    def write(folder, value):
        case[2] = {"__kind__": "float", "dtype": "float64", "v": value}
        path = tmp_path / folder / "data" / "probability.json"
        path.write_text(json.dumps(data))
        return path

    a = write("a", 0.4999999999999994)
    assert rel._same_file(a, write("b", 0.49999999999999944))
    assert not rel._same_file(a, write("b", 0.4999995))


SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION(.*?)### END SOLUTION", re.S)


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_release_holds_no_solutions_or_hidden_tests(hw):
    text = (REPO / "release" / hw / f"{hw}.ipynb").read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "hidden=True", "MARK SCHEME"):
        assert marker not in text
    released = {ln.strip() for c in release_nb(hw).cells for ln in c.source.splitlines()}
    for cell in source_nb(hw).cells:
        if not nbmeta(cell).get("solution"):
            continue
        regions = SOLUTION_REGION.findall(cell.source) or [cell.source]
        for region in regions:
            lines = [ln.strip() for ln in region.splitlines() if len(ln.strip()) > 20]
            leaked = [ln for ln in lines if ln in released]
            # a hint may quote one idiom; a leaked solution repeats most of its lines
            assert len(leaked) < max(2, len(lines) / 2), f"{nbmeta(cell)['grade_id']} leaks {leaked[:3]}"


STUDENT_PKG = REPO / "release" / rel.STUDENT_PACKAGE
GRADER_ONLY_MODULES = ("torch", "autograd", "scipy", "jax", "dlgrade_grader")


def test_student_package_holds_no_grader_code():
    pkg = STUDENT_PKG / "dlgrade"
    assert (pkg / "checks.py").exists() and (pkg / "hw").is_dir()
    for path in pkg.rglob("*.py"):
        text = path.read_text()
        for name in GRADER_ONLY_MODULES:
            assert not re.search(rf"^\s*(import|from)\s+{name}\b", text, re.M), f"{path} imports {name}"
        assert not re.search(r"\bdef ref_|\bMistake\(|\breference\s*=", text), f"{path} holds grader code"
    for hw in ASSIGNMENTS:
        assert (pkg / "hw" / "data" / f"{hw}.json").exists(), f"no visible cases shipped for {hw}"


def test_kernel_environment_cannot_import_the_grader_or_autodiff():
    python = kernel_python_default()
    code = ("import importlib.util as u, json; "
            f"print(json.dumps({{m: u.find_spec(m) is not None for m in {list(GRADER_ONLY_MODULES)!r}}}))")
    out = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, check=True).stdout
    assert not any(json.loads(out).values()), out
    where = subprocess.run([python, "-I", "-c", "import dlgrade; print(dlgrade.__file__)"], capture_output=True,
                           text=True, check=True).stdout
    assert "site-packages" in where and str(REPO / "dlgrade") not in where


def kernel_python_of(hw):
    """The Python an assignment's grader half declares for its kernel (torch_autograd), else the course's."""
    declared = getattr(hwmod.module(hw), "kernel_python", None)
    return declared() if declared else kernel_python_default()


def _run_in_student_env(nb, tmp_path, python=None):
    """Execute a notebook with the student kernel environment, as a student at home would."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    spec_dir = tmp_path / "jupyter" / "kernels" / "student"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [python or kernel_python_default(), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "student", "language": "python"}))
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path), "MPLBACKEND": "Agg",
           "JUPYTER_PATH": str(tmp_path / "jupyter")}
    code = (
        "import nbformat\n"
        "from nbclient import NotebookClient\n"
        f"nb = nbformat.read({str(path)!r}, as_version=4)\n"
        "NotebookClient(nb, timeout=300, kernel_name='student', allow_errors=True,"
        f" resources={{'metadata': {{'path': {str(tmp_path)!r}}}}}).execute()\n"
        f"nbformat.write(nb, {str(path)!r})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return nbformat.read(str(path), as_version=4)


def _test_cell_text(nb) -> dict:
    out = {}
    for cell in nb.cells:
        m = nbmeta(cell)
        if cell.cell_type == "code" and m.get("grade") and not m.get("solution"):
            out[m["grade_id"]] = "\n".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    return out


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_release_runs_with_only_the_student_package(hw, tmp_path):
    """At home, with only the student environment: the reference passes every visible check,
    the blank notebook fails each one with a message, and hidden checks wait for grading."""
    from dlgrade_grader.submissions import fill

    done = _run_in_student_env(fill(release_nb(hw), reference_answers(source_nb(hw))), tmp_path / "ref",
                               kernel_python_of(hw))
    errors = [o for c in done.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert not errors, [e.get("ename") + ": " + e.get("evalue") for e in errors]
    for grade_id, text in _test_cell_text(done).items():
        assert "[PASS]" in text and "[FAIL]" not in text and "[ -- ]" not in text, (grade_id, text)
    blank = _run_in_student_env(release_nb(hw), tmp_path / "blank", kernel_python_of(hw))
    # Run All on an unstarted notebook: only the student's own stubs raise; a free cell (a plot, a
    # demo) that needs an unwritten function says so instead of stopping the run
    raised = [(i, o.get("ename")) for i, c in enumerate(blank.cells) if c.cell_type == "code"
              and not nbmeta(c).get("solution") for o in c.outputs if o.get("output_type") == "error"]
    assert not raised, raised
    for grade_id, text in _test_cell_text(blank).items():
        assert "[FAIL]" in text and "[PASS]" not in text, (grade_id, text)
        assert "case '" in text, (grade_id, text)  # each failure says which case and why


# -- graded cases cannot be predicted from anything a student holds ----------------------------------

def _graded_calls(hw):
    return [c for cell in source_nb(hw).cells if nbmeta(cell).get("grade") and cell.cell_type == "code"
            and not nbmeta(cell).get("solution") for c in parse_check_calls(cell.source)]


def _is_choice(answer) -> bool:
    return isinstance(answer, bool) or (isinstance(answer, str) and answer.startswith("raised "))


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_checks_with_points_draw_their_inputs_and_answers(hw):
    """A check whose inputs (or answers) are the same for everyone could be answered by copying the
    shipped visible outputs; such a check may carry no points."""
    from dlgrade import records
    from dlgrade_grader.checks import make_cases

    registry = hwmod.registry(hw)
    for cid in sorted({c.check_id for c in _graded_calls(hw) if c.points > 0}):
        check = registry[cid]
        sets = [make_cases(check, seed, shuffle=True) for seed in (11, 12, 13)]
        assert len({s.id for s in sets}) == 3, f"{cid}: its inputs do not depend on the seed"
        answers = [[check.reference(inp) for inp in s.inputs] for s in sets]
        if all(_is_choice(a) for group in answers for a in group):
            continue  # true/false and raise/return answers are guessed at best
        multisets = {json.dumps(sorted(json.dumps(records.encode(a), sort_keys=True) for a in group))
                     for group in answers}
        assert len(multisets) > 1, f"{cid}: the same answers (in some order) for every submission"


@pytest.mark.parametrize("hw", ASSIGNMENTS)
def test_hidden_cases_differ_per_student_and_cannot_be_reproduced_without_the_key(hw):
    import hashlib
    import itertools

    from dlgrade_grader.casebook import build, submission_digest
    from dlgrade_grader.checks import make_cases, public_seed

    key = bytes.fromhex("5e" * 32)
    nb = source_nb(hw)  # as graded: test cells (hidden checks too) restored from the gradebook
    alice = build(nb, hwmod.registry(hw), key, "alice", parse_check_calls)
    bob = build(nb, hwmod.registry(hw), key, "bob", parse_check_calls)
    assert alice["checks"].keys() == bob["checks"].keys()
    worth = {f"{c.check_id}|{'hidden' if c.hidden else 'visible'}" for c in _graded_calls(hw) if c.points > 0}
    assert worth and worth <= set(alice["checks"])
    for name in worth:
        assert alice["checks"][name]["case_set"] != bob["checks"][name]["case_set"], name
    # everything public: assignment, check id, scope, student id, the notebook, the release data
    digest = submission_digest(nb)
    registry = hwmod.registry(hw)

    def blake(text):
        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")

    from dlgrade_grader.keys import graded_seed
    for name in worth:
        entry = alice["checks"][name]
        cid, scope = name.split("|")
        if len({make_cases(registry[cid], seed, True).id for seed in range(16)}) < 16:
            continue  # so few possible inputs that any seed may hit them: nothing to predict
        guesses = {public_seed(hw, cid), blake(f"{hw}|{cid}|{scope}"), blake(f"{hw}|{cid}|hidden:alice"),
                   blake(f"{hw}|{cid}|hidden:anonymous"), blake(f"{hw}|{cid}|visible")}
        for fake_key, student in itertools.product([b"", bytes(32), hw.encode(), b"alice", digest.encode()],
                                                   ["alice", ""]):
            guesses.add(graded_seed(fake_key, hw, cid, scope, student, digest))
        for seed in guesses:
            for shuffle in (False, True):
                assert make_cases(registry[cid], seed, shuffle).id != entry["case_set"], (name, seed)



@pytest.mark.parametrize("hw", ["jacobians", "mle_map", "probability"])
def test_tolerance_promised_in_the_prose_is_the_checks_own(hw):
    """The general tolerance sentence is generated from the checks, so it cannot drift from them."""
    from collections import Counter

    from dlgrade_grader.authoring import _latex_power

    text = (REPO / "course" / f"{hw}.cells").read_text()
    assert "{{rtol}}" in text and "{{atol}}" in text
    specs = __import__(f"dlgrade.hw.{hw}", fromlist=["SPECS"]).SPECS
    (rtol, atol), _ = Counter((s.rtol, s.atol) for s in specs if s.judge is None).most_common(1)[0]
    prose = "".join(c.source for c in source_nb(hw).cells if c.cell_type == "markdown")
    assert _latex_power(rtol) in prose and _latex_power(atol) in prose and "{{" not in prose


def test_unknown_placeholder_in_a_cells_file_is_an_error():
    from dlgrade_grader.authoring import expand

    with pytest.raises(ValueError, match="unknown placeholder"):
        expand("# %% md\nwithin {{rtoll}}\n", "jacobians")


def test_blank_tensor_cell_defines_the_class_and_each_method_says_it_is_missing():
    """A student who has not started the Tensor still gets a class: each check then names the
    method that is missing, not "Tensor is not defined"."""
    import numpy as np

    cell = next(c for c in release_nb("vjp_autograd").cells if nbmeta(c).get("grade_id") == "Tensor")
    namespace = {"np": np}
    exec(compile(cell.source, "Tensor", "exec"), namespace)
    t = namespace["Tensor"]([1.0, 2.0])
    assert t.shape == (2,) and t.grad is None
    for use in (lambda: t + 1, lambda: 2 * t, lambda: t.exp(), lambda: t.sum(), lambda: t.backward()):
        with pytest.raises(NotImplementedError):
            use()


# a broken .cells file -> the line and the words its error must name
CELL_FILE_ERRORS = [
    ("# %% md\nhi\n# %% sollution id=a\nx = 1\n", r"line 3: a cell marker names its kind \(md, code.*found 'sollution'"),
    ("# %% tests id=t pts=4\ncheck('a', points=4)\n", r"line 1: a tests cell takes id; 'pts'"),
    ("# %% tests id=t points=5\ncheck('a', points=4)\n", r"line 1: a test cell's points are the sum of its checks'"),
    ("# %% answer id=p\nwrite here\n", r"line 1: a answer cell needs points="),
    ("# %% answer id=p points=ten\nwrite here\n", r"line 1: points must be a non-negative number"),
    ("# %% setup id=s\nimport numpy\n# %% solution id=s\nx = 1\n", r"line 3: id 's' is already used at line 1"),
    ("# %% md points=3\ntext\n", r"line 1: a md cell takes no attributes"),
    ("# %% solution id\nx = 1\n", r"line 1: 'id' is not an attribute"),
    ("intro\n# %% md\n", r"line 1: text before the first cell marker"),
    ("# %% tests id=t\nassert f(1) == 2\n", r"test cell at line 1: .*only contain check"),
    ("# %% md\n### Q1 ({{points}} points)\n# %% md\n### Q2\n# %% tests id=t\ncheck('a', points=1)\n",
     r"line 1: \{\{points\}\} has no value here"),
    ("# %% md\nsee ({{points:test_missing}} points)\n# %% tests id=t\ncheck('a', points=1)\n",
     r"line 1: \{\{points:test_missing\}\} names no test or answer cell and no check"),
]


def test_points_are_written_once_and_prose_reads_them():
    """A heading's points are its section's graded cells (as markdown nests headings), a check id's
    are its family's, a rubric's are its answer's; a test cell's points are its checks'."""
    from dlgrade_grader.authoring import assign_points, fill_points, parse_cells
    cells = parse_cells(
        "# %% md\n# T ({{points}}: {{auto_points}} + {{manual_points}})\n"
        "# %% md\n## Part ({{points}})\n### Q1 ({{points:test_q1}}, f gives {{points:f}})\n"
        "# %% tests id=test_q1\ncheck('f.values', points=2)\ncheck('f.edge', points=1.5)\n"
        "# %% md\n### Q2 ({{points}})\n# %% answer id=proof points=4\nx\n"
        "# %% rubric id=proof_rubric\nMark scheme ({{points}} points)\n"
        "# %% md\n## Other part ({{points}})\n# %% tests id=test_q3\ncheck('g', points=1)\n")
    assign_points(cells)
    fill_points(cells)
    text = [c["source"] for c in cells]
    assert cells[2]["attrs"]["points"] == "3.5"
    assert text[0] == "# T (8.5: 4.5 + 4)"
    assert text[1] == "## Part (7.5)\n### Q1 (3.5, f gives 3.5)"
    assert text[3] == "### Q2 (4)" and text[5] == "Mark scheme (4 points)" and text[6] == "## Other part (1)"


@pytest.mark.parametrize("text,error", CELL_FILE_ERRORS, ids=[f"case{i}" for i in range(len(CELL_FILE_ERRORS))])
def test_a_broken_cells_file_is_refused_with_its_line(tmp_path, text, error):
    from dlgrade_grader.authoring import CellFileError, build
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "broken.cells").write_text(text)
    with pytest.raises(CellFileError, match=error):
        build(tmp_path / "course", tmp_path / "source")
    assert not (tmp_path / "source" / "broken").exists()
