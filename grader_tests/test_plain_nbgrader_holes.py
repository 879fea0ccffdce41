"""The three holes of plain nbgrader 0.9.6, each shown open there and closed here.

Each test grades the same attack twice: in a plain nbgrader course (default
preprocessors, assert-based test cell), where it earns full marks, and
against a real assignment of this course, where it earns nothing.
"""
import pytest

from grader_tests import localcourse
from grader_tests.expectations import autograded_total
from dlgrade_grader.submissions import Attack, build_submission

PLAIN_NOTEBOOK = '''\
# %% setup id=setup
import numpy as np

# %% solution id=double
def double(x):
    ### BEGIN SOLUTION
    return 2 * np.asarray(x, dtype=float)
    ### END SOLUTION

# %% tests id=test_double
assert np.allclose(double(np.arange(3.0)), [0.0, 2.0, 4.0])
'''
PLAIN_CONFIG = 'c = get_config()\nc.CourseDirectory.course_id = "plain"\n'

TRANSFORMER = (
    "def _skip_tests(lines):\n"
    "    text = ''.join(lines)\n"
    "    return ['pass\\n'] if ('assert' in text or 'check(' in text) else lines\n"
    "get_ipython().input_transformers_post.append(_skip_tests)\n"
)
ALLCLOSE = "import numpy\nnumpy.allclose = lambda *a, **k: True\nnumpy.isclose = lambda *a, **k: True\n"
READ_SOURCE = (
    "import glob, json\n"
    "_code = 'import numpy as np\\n'\n"
    "for _path in sorted(glob.glob('../../../source/*/*.ipynb')):\n"
    "    for _cell in json.load(open(_path))['cells']:\n"
    "        if _cell.get('metadata', {}).get('nbgrader', {}).get('solution') and _cell['cell_type'] == 'code':\n"
    "            _code += ''.join(_cell['source']) + '\\n'\n"
    "open('leaked_solution.py', 'w').write(_code)\n"
    "from leaked_solution import *\n"
)


def _wrong_answers(nb):
    """Every function returns 0: wrong everywhere, so only a hole can score."""
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            cell.source = cell.source.replace("raise NotImplementedError()", "return 0")


def _use_leaked_solution(nb):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            cell.source = "from leaked_solution import *\n"


HOLES = {
    "input_transformer": Attack("hole_transformer", insert=[(None, TRANSFORMER)]),
    "patched_allclose": Attack("hole_allclose", insert=[(None, ALLCLOSE)], edit=_wrong_answers),
    "reading_source": Attack("hole_source", insert=[(None, READ_SOURCE)], edit=_use_leaked_solution),
}


def _grade_all(root, hw):
    src = localcourse.read_notebook(root, "source", hw)
    rel = localcourse.read_notebook(root, "release", hw)
    subs = {name: build_submission(v, src, rel) for name, v in HOLES.items()}
    return localcourse.grade(root, hw, subs, workers=2)


@pytest.fixture(scope="module")
def plain_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("plain")
    (root / "nbgrader_config.py").write_text(PLAIN_CONFIG)
    nb_path = root / "source" / "hole" / "hole.ipynb"
    nb_path.parent.mkdir(parents=True)
    import nbformat
    nbformat.write(localcourse.plain_notebook(PLAIN_NOTEBOOK), str(nb_path))
    proc = localcourse.run_nbgrader(["generate_assignment", "hole", "--force"], root)
    assert proc.returncode == 0, proc.stderr
    return _grade_all(root, "hole")


@pytest.fixture(scope="module")
def our_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("ours")
    return _grade_all(localcourse.init_course(root, ["vjp_autograd"]), "vjp_autograd")


@pytest.mark.parametrize("hole", sorted(HOLES))
def test_hole_open_in_plain_nbgrader_closed_here(hole, plain_results, our_results):
    plain = plain_results[hole]
    assert plain.score == 1.0, f"plain nbgrader no longer shows the {hole} hole: {plain.log[-1500:]}"
    ours = our_results[hole]
    assert ours.score is not None, ours.log[-2000:]
    assert autograded_total(ours) == 0, (ours.checks, ours.audit)
