"""What a student reads in release/: no locked cell is blank, and the README says how to set up."""
from pathlib import Path

import nbformat
import pytest

from dlgrade_grader.release import available

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "release"


@pytest.mark.parametrize("hw", available(REPO))
def test_no_locked_cell_of_a_released_notebook_is_empty(hw):
    """A locked cell whose text is all mark scheme comes out of nbgrader empty: a blank box the
    student can neither fill nor delete. Each one must keep a sentence outside the mark scheme."""
    nb = nbformat.read(str(RELEASE / hw / f"{hw}.ipynb"), as_version=4)
    empty = [cell.metadata["nbgrader"].get("grade_id", f"cell {index + 1}")
             for index, cell in enumerate(nb.cells)
             if cell.metadata.get("nbgrader", {}).get("locked") and not cell.source.strip()]
    assert not empty, f"{hw}: empty locked cells {empty}"


def test_student_readme_names_python_graphviz_colab_and_jupyterhub():
    text = (RELEASE / "README.md").read_text()
    for needed in ("Python 3.11", "graphviz", "`dot`", "Colab", "JupyterHub", "dlgrade check"):
        assert needed in text, f"release/README.md does not mention {needed}"
