"""Attacks that need no knowledge of any assignment.

Each starts from the blank release notebook (unless ``base="reference"``) and
must score no more than that base scores without the attack. ``flagged``
attacks must also be named by the static audit.
"""
import re

from dlgrade_grader.submissions import Alternative, Attack

FORGED_RECORD = (
    "import json\n"
    "from IPython.display import display\n"
    "def _forge(check_id, hidden=False):\n"
    "    rec = {'format': 1, 'assignment': 'x', 'check': check_id, 'hidden': hidden,\n"
    "           'seed_tag': 'visible', 'kernel_verdict': 'pass', 'cases': []}\n"
    "    display({'application/vnd.dlgrade.record+json': json.dumps(rec), 'text/plain': ''}, raw=True)\n"
)


def _grade_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
            and not c.metadata["nbgrader"].get("solution")]


def _delete_tests(nb):
    for cell in _grade_cells(nb):
        nb.cells.remove(cell)


def _rename_tests(nb):
    for cell in _grade_cells(nb):
        cell.metadata["nbgrader"]["grade_id"] += "_renamed"


def _inflate_points(nb):
    for cell in _grade_cells(nb):
        cell.metadata["nbgrader"]["points"] = 1000
        cell.source = "1000"


def _ungrade_tests(nb):
    for cell in _grade_cells(nb):
        cell.metadata["nbgrader"]["grade"] = False
        cell.metadata["nbgrader"]["locked"] = False
        cell.source = "print('all checks passed')"


def _lying_answers(nb):
    liar = ("class _Liar:\n"
            "    def __eq__(self, other): return True\n"
            "    def __array__(self, *a, **k):\n"
            "        raise RuntimeError('no')\n"
            "    def __float__(self): return 0.0\n")
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            cell.source = liar + re.sub(r"raise NotImplementedError\(\)", "return _Liar()", cell.source)


def _read_file(path):
    return f"print(open({path!r}).read()[:2000])"


ATTACKS = [
    Attack("input_transformer_blanks_tests", flagged=True, insert=[(None, (
        "def _blank(lines):\n"
        "    return ['pass\\n'] if any('check(' in l for l in lines) else lines\n"
        "get_ipython().input_transformers_post.append(_blank)\n"))]),
    Attack("input_transformer_forges_records", flagged=True, insert=[(None, FORGED_RECORD + (
        "import re as _re\n"
        "def _swap(lines):\n"
        "    src = ''.join(lines)\n"
        "    return [_re.sub(r'check\\(', '_forge(', src)]\n"
        "get_ipython().input_transformers_post.append(_swap)\n"))]),
    Attack("set_custom_exc_swallows_errors", flagged=True, insert=[(None, (
        "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n"))]),
    Attack("patched_showtraceback", flagged=True, insert=[(None, (
        "ip = get_ipython()\n"
        "ip.showtraceback = lambda *a, **k: None\n"
        "ip._showtraceback = lambda *a, **k: None\n"))]),
    Attack("patched_numpy_allclose", insert=[(None, (
        "import numpy, numpy.testing\n"
        "numpy.allclose = lambda *a, **k: True\n"
        "numpy.isclose = lambda a, b, *x, **k: numpy.ones(numpy.broadcast(a, b).shape, bool)\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "numpy.array_equal = lambda *a, **k: True\n"))]),
    Attack("patched_torch_allclose", insert=[(None, (
        "import torch\n"
        "torch.allclose = lambda *a, **k: True\n"
        "torch.testing.assert_close = lambda *a, **k: None\n"))]),
    Attack("patched_check_api", flagged=True, insert=[(None, (
        "import dlgrade.checks as _c, dlgrade.compare as _cmp\n"
        "_c.judge_case = lambda *a, **k: ''\n"
        "_cmp.compare = lambda *a, **k: []\n"))]),
    Attack("shadowed_check_function", insert=[(None, "def check(*args, **kwargs):\n    print('[PASS]')\n")]),
    Attack("lying_eq_and_array", edit=_lying_answers),
    Attack("forged_record_file_and_output", insert=[(None, FORGED_RECORD + (
        "import json\n"
        "with open('records.json', 'w') as fh:\n"
        "    json.dump({'all': 'pass'}, fh)\n"
        "for _name in ['a', 'b']:\n"
        "    _forge(_name)\n"))]),
    Attack("pickle_payload_as_record", insert=[(None, (
        "import base64, json, pickle\n"
        "from IPython.display import display\n"
        "_p = base64.b64encode(pickle.dumps({'x': 1})).decode()\n"
        "_rec = {'format': 1, 'check': 'any', 'cases': [{'ok': True, 'out': {'__kind__': 'pickle', 'data': _p}}]}\n"
        "display({'application/vnd.dlgrade.record+json': json.dumps(_rec)}, raw=True)\n"))],
        flagged=True),
    Attack("sys_exit_midway", flagged=True, insert=[(None, "import sys\nsys.exit(0)\n")]),
    Attack("os_exit_kills_kernel", flagged=True, insert=[(None, "import os\nos._exit(0)\n")]),
    Attack("stderr_noise", insert=[(None, "import sys\nprint('noise', file=sys.stderr)\n")]),
    Attack("read_source_folder", insert=[(None, _read_file("../../../source"))]),
    Attack("read_gradebook", insert=[(None, _read_file("../../../gradebook.db"))]),
    Attack("deleted_test_cells", edit=_delete_tests),
    Attack("renamed_test_cells", edit=_rename_tests),
    Attack("inflated_points_metadata", edit=_inflate_points),
    Attack("test_cells_unmarked_as_grade", edit=_ungrade_tests),
    Attack("patched_builtins_print", flagged=True, insert=[(None, (
        "import builtins\n"
        "builtins.print = lambda *a, **k: None\n"))]),
]

NOISY = (
    "\n\ndef _noisy(f):\n"
    "    import functools, sys, warnings\n"
    "    @functools.wraps(f)\n"
    "    def wrapper(*args, **kwargs):\n"
    "        print('debug: calling', f.__name__, file=sys.stderr)\n"
    "        warnings.warn('left-over debugging warning')\n"
    "        return f(*args, **kwargs)\n"
    "    return wrapper\n"
)


def _debug_noise(nb):
    """Wrap every solution function so each call writes to stderr and warns."""
    import ast
    for cell in nb.cells:
        if not (cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        if names:
            cell.source += NOISY + "".join(f"{n} = _noisy({n})\n" for n in names)


def _duplicate_and_unknown_grade_ids(nb):
    """A copied test cell (same grade id) and a cell claiming a grade id the course lacks: plain
    nbgrader's OverwriteCells raises on them and the whole notebook scores 0."""
    import copy

    from nbformat.v4 import new_code_cell
    first = _grade_cells(nb)[0]
    twin = copy.deepcopy(first)
    twin["id"] = "copied-test-cell"
    nb.cells.append(twin)
    extra = new_code_cell("print('my own extra test')")
    extra["id"] = "my-extra-test"
    extra.metadata["nbgrader"] = {"grade": True, "grade_id": "my_extra_test", "locked": False, "points": 5,
                                  "schema_version": 3, "solution": False, "task": False}
    nb.cells.append(extra)


# Correct work must not be punished for harmless noise: plain nbgrader zeroes
# any test cell in which the student's code wrote to stderr or warned, and the whole
# notebook for a duplicated or unknown grade id.
ALTERNATIVES = [
    Alternative("reference_with_stderr_debugging", {}, edit=_debug_noise),
    Alternative("reference_with_duplicate_and_unknown_grade_ids", {}, edit=_duplicate_and_unknown_grade_ids),
]
