"""Grade one assignment's reference, blank and catalogue through ``cohort.run`` and print the
findings as JSON. Run from a copy of the repository, with that copy first on ``PYTHONPATH``:

    python -m grader_tests.seventh_assignment.grade ASSIGNMENT COURSE_ROOT EXTRA_CONFIG
"""
import json
import sys
from pathlib import Path

from dlgrade_grader.submissions import BLANK, REFERENCE
from grader_tests.catalogue_batch import Batch
from grader_tests.catalogues import load
from grader_tests.expectations import autograded_total, problems_with
from grader_tests.uses import uses_graph


def main(hw: str, root: str, extra_config: str) -> dict:
    variants = load(hw, baselines=True)
    results = Batch(Path(root), {hw: variants}, workers=2, extra_config=extra_config).results[hw]
    reference, blank = results[REFERENCE.student_id], results[BLANK.student_id]
    uses = uses_graph(hw)
    return {
        "reference": {"awarded": autograded_total(reference), "out_of": sum(c["points"] for c in reference.checks),
                      "problems": reference.problems},
        "blank": {"awarded": autograded_total(blank), "checks": len(blank.checks)},
        "entries": {v.student_id: problems_with(v, results[v.student_id], blank if v.base_kind == "blank" else reference,
                                                audit=True, uses=uses)
                    for v in variants if v.kind in ("wrong", "alternative", "attack")},
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
