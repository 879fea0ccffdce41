"""Grade one assignment's reference, blank and catalogue submissions and report.

    python scripts/try_catalogue.py vjp_autograd [--only NAME ...] [--workers 2]

For authors of assignments: the same expectations as grader_tests, with a
readable table and each failing verdict printed.
"""
import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader_tests import localcourse  # noqa: E402
from grader_tests.expectations import problems_with  # noqa: E402
from grader_tests.uses import uses_graph  # noqa: E402
from dlgrade_grader.submissions import build_submission  # noqa: E402
from grader_tests.catalogues import BLANK, load  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("assignment")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--show", action="store_true", help="print the verdict text of every test cell")
    ap.add_argument("--shared", action="store_true", help="also run the shared and white-box attack catalogues")
    ap.add_argument("--audit-off", action="store_true", help="grade with the static audit switched off")
    args = ap.parse_args()
    hw = args.assignment
    root = Path(tempfile.mkdtemp(prefix=f"try-{hw}-"))
    t0 = time.time()
    localcourse.init_course(root, [hw])
    if args.audit_off:
        localcourse.add_config(root, localcourse.AUDIT_OFF)
    src, rel = localcourse.read_notebook(root, "source", hw), localcourse.read_notebook(root, "release", hw)
    variants = [v for v in load(hw, include_shared=args.shared, baselines=True)
                if v.kind in ("reference", "blank") or not args.only or v.name in args.only]
    subs = {v.student_id: build_submission(v, src, rel) for v in variants}
    results = localcourse.grade(root, hw, subs, workers=args.workers)
    blank = results[BLANK.student_id]
    bad = 0
    for v in variants:
        g = results[v.student_id]
        probs = problems_with(v, g, blank, audit=not args.audit_off, uses=uses_graph(hw))
        status = "ok " if not probs else "BAD"
        bad += bool(probs)
        print(f"{status} {v.student_id:45s} score={g.score}/{g.max_score}")
        for p in probs:
            print("      ", p)
        if (probs or args.show) and g.autograded and g.autograded.exists():
            import nbformat
            nb = nbformat.read(str(g.autograded), as_version=4)
            for cell in nb.cells:
                if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
                    for o in cell.outputs:
                        if o.get("output_type") == "stream":
                            print("        " + o["text"].replace("\n", "\n        "))
    print(f"{len(variants)} submissions, {bad} unexpected, {time.time() - t0:.0f}s; course in {root}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
