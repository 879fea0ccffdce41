"""The similarity report on a small synthetic cohort of ridge_regression.

No kernels and no grading: the report only reads submitted notebooks. Each student is
data (the cells they wrote); the flagged set the report must find is data too.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import nbformat
import pytest
from copydetect import compare_files

from dlgrade_grader import cli
from dlgrade_grader.similarity import (REPORT_DIR, compare_cohort, fingerprint, release_notebooks,
                                       similarity_report, skeleton_hashes)
from dlgrade_grader.submissions import fill, reference_answers, write_submission

REPO = Path(__file__).resolve().parents[1]
HW = "ridge_regression"
SKELETON_BODY = "    # YOUR CODE HERE\n    raise NotImplementedError()"

# Bodies written independently of the reference (and of each other): correct, idiomatic, and
# sharing only what any two people solving the same maths would.
DAVE = {
    "lp_norm": """\
    if p < 1:
        raise ValueError("p must be at least 1")
    v = np.abs(np.ravel(x)).astype(float)
    if len(v) == 0:
        return 0.0
    if np.isinf(p):
        return float(v.max())
    m = v.max()
    return 0.0 if m == 0 else float(m * ((v / m) ** p).sum() ** (1 / p))""",
    "ridge_objective": """\
    residual = X.dot(w) - y
    return float(np.dot(residual, residual) + lam * np.dot(w, w))""",
    "ridge_gradient": """\
    return 2 * X.T.dot(X.dot(w) - y) + 2 * lam * w""",
    "ridge_closed_form": """\
    m, n = np.shape(X)
    if n <= m:
        A = X.T.dot(X) + lam * np.identity(n)
        return np.linalg.solve(A, X.T.dot(y))
    alpha = np.linalg.solve(X.dot(X.T) + lam * np.identity(m), y)
    return X.T.dot(alpha)""",
    "ridge_gd": """\
    w = np.asarray(w0, dtype=float).copy()
    losses = np.empty(steps + 1)
    losses[0] = ridge_objective(w, X, y, lam)
    for t in range(1, steps + 1):
        w -= lr * ridge_gradient(w, X, y, lam)
        losses[t] = ridge_objective(w, X, y, lam)
    return w, losses""",
    "ridge_max_stable_lr": """\
    eigs = np.linalg.eigvalsh(X.T @ X)
    return 1.0 / (eigs.max() + lam)""",
    "ridge_with_intercept": """\
    mu = np.mean(X, axis=0)
    ybar = np.mean(y)
    Xc = X - mu
    w = np.linalg.solve(Xc.T @ Xc + lam * np.eye(X.shape[1]), Xc.T @ (y - ybar))
    return w, float(ybar - mu.dot(w))""",
    "effective_degrees_of_freedom": """\
    sv = np.linalg.svd(X, compute_uv=False)
    total = 0.0
    for s in sv:
        total += s * s / (s * s + lam)
    return float(total)""",
}
ERIN = {
    "lp_norm": """\
    arr = np.asarray(x, dtype=float).ravel()
    if p < 1:
        raise ValueError(f"invalid p={p}")
    if arr.size == 0:
        return 0.0
    if p == np.inf:
        return float(np.abs(arr).max())
    largest = np.abs(arr).max()
    if largest == 0:
        return 0.0
    scaled = np.abs(arr) / largest
    return float(largest * np.power(np.sum(np.power(scaled, p)), 1.0 / p))""",
    "ridge_objective": """\
    err = y - X @ w
    return float(np.sum(err ** 2) + lam * np.sum(w ** 2))""",
    "ridge_gradient": """\
    grad = -2 * X.T @ (y - X @ w)
    grad += 2 * lam * w
    return grad""",
    "ridge_closed_form": """\
    X = np.asarray(X, float); y = np.asarray(y, float)
    rows, cols = X.shape
    if cols > rows:
        gram = X @ X.T
        gram[np.diag_indices(rows)] += lam
        return X.T @ np.linalg.solve(gram, y)
    cov = X.T @ X
    cov[np.diag_indices(cols)] += lam
    return np.linalg.solve(cov, X.T @ y)""",
    "ridge_gd": """\
    w = np.array(w0, float)
    hist = [ridge_objective(w, X, y, lam)]
    step = 0
    while step < steps:
        g = ridge_gradient(w, X, y, lam)
        w = w - lr * g
        hist.append(ridge_objective(w, X, y, lam))
        step += 1
    return w, np.asarray(hist)""",
    "ridge_max_stable_lr": """\
    s_max = np.linalg.svd(X, compute_uv=False)[0]
    L = 2 * (s_max ** 2 + lam)
    return float(2 / L)""",
    "ridge_with_intercept": """\
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    col_means = X.mean(0)
    centred = X - col_means
    w = ridge_closed_form(centred, y - y.mean(), lam)
    b = y.mean() - col_means @ w
    return w, float(b)""",
    "effective_degrees_of_freedom": """\
    sq = np.linalg.svd(X, compute_uv=False) ** 2
    return float((sq / (sq + lam)).sum())""",
}

IVAN_LP_NORM = """\
    vals = [abs(float(t)) for t in np.ravel(x)]
    if p < 1:
        raise ValueError("need p >= 1")
    if not vals:
        return 0.0
    if p == float("inf"):
        return max(vals)
    return sum(t ** p for t in vals) ** (1.0 / p)"""
JUDY_OBJECTIVE = """\
    fit = np.matmul(X, w)
    loss = np.linalg.norm(y - fit) ** 2
    penalty = lam * np.linalg.norm(w) ** 2
    return float(loss + penalty)"""


# what a student hiding a copy does: swap independent lines and operands, split a line, add comments
# (and, in _renamed_copy, a comment before every return and new names)
COPY_EDITS = [
    ("    X = np.asarray(X, dtype=np.float64)\n    y = np.asarray(y, dtype=np.float64)\n",
     "    # make sure we work in floats\n    y = np.asarray(y, dtype=np.float64)\n"
     "    X = np.asarray(X, dtype=np.float64)\n"),
    ("    x_mean, y_mean = X.mean(axis=0), y.mean()\n",
     "    y_mean = y.mean()  # centre the targets\n    x_mean = X.mean(axis=0)\n"),
    ("p == np.inf or top == 0.0", "top == 0.0 or p == np.inf"),
    ("2.0 * (X.T @ (X @ w - y) + lam * np.asarray(w, dtype=np.float64))",
     "2.0 * (lam * np.asarray(w, dtype=np.float64) + X.T @ (X @ w - y))"),
    ("w = w - lr * ridge_gradient", "w -= lr * ridge_gradient"),
]
RENAMES = {"a": "mags", "top": "biggest", "r": "resid", "history": "trace", "x_mean": "mx",
           "y_mean": "my", "s": "sing_vals", "m": "n_rows", "n": "n_cols", "w": "weights"}


def _renamed_copy(reference: dict) -> dict:
    """The reference edited by COPY_EDITS, then every local renamed (whole words)."""
    out = dict(reference)
    for old, new in COPY_EDITS:
        assert any(old in body for body in out.values()), old
        out = {gid: body.replace(old, new) for gid, body in out.items()}
    out = {gid: re.sub(r"^( *)return ", r"\1# done\n\1return ", body, flags=re.M) for gid, body in out.items()}
    word = re.compile(r"\b(" + "|".join(RENAMES) + r")\b")
    return {gid: word.sub(lambda mt: RENAMES[mt.group(1)], body) for gid, body in out.items()}


def _blank_with_edits(release_cells: dict) -> dict:
    """Only the skeleton, with the marker comment deleted and whitespace changed."""
    return {gid: src.replace("    # YOUR CODE HERE\n", "\n    # TODO later\n\n")
            for gid, src in release_cells.items()}


def _cohort(source_nb, release_nb) -> dict[str, dict]:
    """student -> the solution cells they wrote (absent cells stay as released)."""
    release_cells = {c.metadata.nbgrader["grade_id"]: c.source for c in release_nb.cells
                     if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    reference = {gid: src for gid, src in reference_answers(source_nb).items() if gid in release_cells}

    def written(bodies):
        # a student keeps the given def line and docstring and replaces the marker lines
        return {gid: release_cells[gid].replace(SKELETON_BODY, body) for gid, body in bodies.items()}

    return {"alice": reference, "bob": dict(reference), "carol": _renamed_copy(reference),
            "dave": written(DAVE), "erin": written(ERIN), "frank": {}, "grace": {},
            "heidi": _blank_with_edits(release_cells),
            # one answer each, the rest as released: all they share is skeleton
            "ivan": written({"lp_norm": IVAN_LP_NORM}),
            "judy": written({"ridge_objective": JUDY_OBJECTIVE})}


# what a reviewer must be pointed to, and nothing else
FLAGGED = {("alice", "bob"), ("alice", "carol"), ("bob", "carol")}
SKELETON_ONLY = {"frank", "grace", "heidi"}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("similarity_course")
    source_nb = nbformat.read(str(REPO / "source" / HW / f"{HW}.ipynb"), as_version=4)
    release_nb = nbformat.read(str(REPO / "release" / HW / f"{HW}.ipynb"), as_version=4)
    write_submission(release_nb, root / "release" / HW / f"{HW}.ipynb")
    for student, cells in _cohort(source_nb, release_nb).items():
        write_submission(fill(release_nb, cells), root / "submitted" / student / HW / f"{HW}.ipynb")
    return root


@pytest.fixture(scope="module")
def report(course):
    return similarity_report(course, HW, course / REPORT_DIR)


def test_flagged_pairs_are_the_copies(course, report):
    comparison = compare_cohort(course, HW)
    for p in comparison.pairs:  # shown with -s: the scores behind the threshold
        print(f"{p.student_a:>6} {p.student_b:>6} score {p.score:.3f} "
              f"({p.similarity_a:.3f}/{p.similarity_b:.3f}) overlap {p.overlap_chars}")
    assert {(p.student_a, p.student_b) for p in report} == FLAGGED
    assert set(comparison.skeleton_only) == SKELETON_ONLY
    scores = {(p.student_a, p.student_b): p.score for p in comparison.pairs}
    lowest_copy = min(scores[pair] for pair in FLAGGED)
    honest = [s for pair, s in scores.items() if pair not in FLAGGED]
    assert max(honest) < lowest_copy - 0.2, "independent work must score clearly below the copies"
    assert all(len(p.cells) == 8 and p.html is not None for p in report)  # every answered cell


def test_skeleton_never_counts(course, report):
    comparison = compare_cohort(course, HW)
    assert not any({p.student_a, p.student_b} & SKELETON_ONLY for p in comparison.pairs)
    # ivan and judy each answered one (different) question and left the rest as released: all
    # they share is skeleton, which without copydetect's boilerplate would make them look alike
    assert not any({p.student_a, p.student_b} == {"ivan", "judy"} for p in comparison.pairs)
    skeleton = skeleton_hashes(release_notebooks(course, HW))

    def score(a, b, boilerplate):
        # as the report does, cell by cell, summed over the notebook
        shared = coverage = 0.0
        for (cell, source_a), (_, source_b) in zip(comparison.code[a].cells, comparison.code[b].cells):
            fa = fingerprint(f"{a}/{cell}", source_a, boilerplate)
            fb = fingerprint(f"{b}/{cell}", source_b, boilerplate)
            coverage += fa.token_coverage
            shared += compare_files(fa, fb)[0] if fa.token_coverage and fb.token_coverage else 0
        return shared / coverage if coverage else 0.0

    assert score("ivan", "judy", None) > 0.5
    assert score("ivan", "judy", skeleton) == 0
    assert score("frank", "heidi", None) == 1  # two blank notebooks, were the skeleton counted
    assert score("frank", "heidi", skeleton) == 0


def test_pages_show_both_students(course, report):
    out = course / REPORT_DIR
    for pair in report:
        assert pair.html == out / HW / f"{pair.student_a}__{pair.student_b}.html"
        page = pair.html.read_text()
        assert f"<h2>{pair.student_a}</h2>" in page and f"<h2>{pair.student_b}</h2>" in page
        assert "<mark>" in page
    carol = (out / HW / "alice__carol.html").read_text()
    assert "biggest" in carol and "top" in carol  # both versions of the renamed code
    index = (out / "index.html").read_text()
    assert all(f"{HW}/{a}__{b}.html" in index for a, b in FLAGGED)
    with open(out / f"{HW}.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["student_a"], r["student_b"]) for r in rows if r["flagged"] == "yes"} == FLAGGED


def test_cli_writes_the_report(course, tmp_path, capsys):
    import shutil
    copy = tmp_path / "course"
    shutil.copytree(course / "release", copy / "release")
    shutil.copytree(course / "submitted", copy / "submitted")
    assert cli.main(["similarity", "--course", str(copy), "--assignment", HW]) == 0
    out = copy / REPORT_DIR
    assert (out / "index.html").exists() and (out / f"{HW}.csv").exists()
    assert {p.name for p in (out / HW).glob("*.html")} == {f"{a}__{b}.html" for a, b in FLAGGED}
    assert "3 pairs flagged" in capsys.readouterr().out
    # above every score nothing is flagged, and last run's pages go
    assert cli.main(["similarity", "--course", str(copy), "--threshold", "1.01"]) == 0
    assert not list((out / HW).glob("*.html"))


def test_demo_cohort_plants_one_copied_pair_and_only_it_is_flagged(tmp_path):
    """The main job's cohort: the honest student's own solution and the disguised copy of it are
    flagged in every assignment; the other students (all built from the instructor's solution,
    which the demo discounts) are not."""
    import shutil
    import subprocess
    import sys

    from dlgrade_grader.hw import ASSIGNMENTS
    from dlgrade_grader.coursefolder import REPO, nbgrader_env

    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course)
    for folder in ("source", "release"):
        for hw in ASSIGNMENTS:
            shutil.copytree(REPO / folder / hw, course / folder / hw)

    def dlgrade(*args):
        proc = subprocess.run([sys.executable, "-m", "dlgrade_grader.cli", *args, "--course", str(course)],
                              cwd=course, env=nbgrader_env(), capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc.stdout

    dlgrade("demo-cohort")
    dlgrade("similarity", "--discount-reference")
    for hw in ASSIGNMENTS:
        with open(course / "reports" / "similarity" / f"{hw}.csv", newline="") as fh:
            flagged = {(r["student_a"], r["student_b"]) for r in csv.DictReader(fh) if r["flagged"] == "yes"}
        assert flagged == {("demo-copy-gus", "demo-honest-fay")}, (hw, flagged)
        assert (course / "reports" / "similarity" / hw / "demo-copy-gus__demo-honest-fay.html").exists()
