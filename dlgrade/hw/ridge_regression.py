"""ridge_regression, the student half: how each check calls the student's functions.

Convention: ``X`` has shape (m, n), m samples and n features, ``w`` shape (n,), and
the objective is f(w) = ||y - Xw||^2 + lam ||w||^2 (no 1/2, no 1/m).

Cases, references and mistake models live in the grader package
(``dlgrade_grader.hw.ridge_regression``), which never enters the student's kernel.
The two judges here only compare an answer with the grader's; the grader adds
tests that need its own tools (the gradient at the student's minimiser, gradient
descent run around the student's step size).
"""
from __future__ import annotations

import numpy as np

from ..checks import Spec, Specs, make_check, outcome
from ..compare import Mismatch, compare

SPECS = Specs("ridge_regression")


def coefficient_judge(coef_rtol: float):
    """A minimiser within ``coef_rtol`` (relative, in norm) of the grader's."""
    def judge(expected, got, inputs, reveal):
        expected = np.asarray(expected, dtype=np.float64)
        out = compare(expected, got, rtol=0.0, atol=1e300, reveal=reveal)  # shape and type only
        if out:
            return out
        got = np.asarray(got, dtype=np.float64)
        if not np.all(np.isfinite(got)):
            return [Mismatch("", "the answer has NaN or inf entries")]
        err = float(np.linalg.norm(got - expected) / max(np.linalg.norm(expected), 1e-300))
        if err > coef_rtol:
            out.append(Mismatch("", f"relative error ||w - w*|| / ||w*|| = {err:.3g} exceeds {coef_rtol:g}"
                                    + ("; " + compare(expected, got, 0, 0, reveal=True)[0].message if reveal else ".")))
        return out
    return judge


def as_step_size(got) -> tuple[float | None, list]:
    """The answer as a positive finite float, or None and why it is not one."""
    try:
        lr = float(got)
    except (TypeError, ValueError):
        return None, [Mismatch("", f"expected a float step size, got {type(got).__name__}")]
    if not (np.isfinite(lr) and lr > 0):
        return None, [Mismatch("", "the step size must be a positive finite number")]
    return lr, []


def step_size_judge(expected, got, inputs, reveal):
    """A positive float within 1e-6 of the grader's bound."""
    lr, wrong = as_step_size(got)
    return wrong or compare(expected, lr, 1e-6, 0.0, "", "", reveal)


def _gd_run(ns, x):
    w0 = np.array(x["w0"], dtype=np.float64)
    before = w0.copy()
    w, history = ns.ridge_gd(x["X"], x["y"], x["lam"], x["lr"], x["steps"], w0)
    return {"w": np.asarray(w, dtype=np.float64), "history": np.asarray(history, dtype=np.float64),
            "w0_left_unchanged": bool(np.array_equal(w0, before))}


def _closed_run(ns, x):
    return ns.ridge_closed_form(x["X"], x["y"], x["lam"])


for _spec in (
    Spec(id="lp_norm.values",
         title="lp_norm matches torch.linalg.vector_norm for p = 1, 1.5, 2, 3, 4 and inf",
         run=lambda ns, x: ns.lp_norm(x["x"], x["p"]), functions=("lp_norm",)),
    Spec(id="lp_norm.rejects_p_below_one",
         title="lp_norm raises ValueError for p < 1 (not a norm) and accepts p = 1",
         run=lambda ns, x: outcome(ns.lp_norm, x["x"], x["p"]), functions=("lp_norm",),
         hint="for p < 1 the triangle inequality fails, so the formula is not a norm: raise ValueError."),
    Spec(id="ridge_objective.values", title="ridge_objective equals ||y - Xw||^2 + lam ||w||^2 (torch)",
         run=lambda ns, x: ns.ridge_objective(x["w"], x["X"], x["y"], x["lam"]), functions=("ridge_objective",)),
    Spec(id="ridge_gradient.values", title="ridge_gradient equals autograd's gradient of the ridge objective",
         run=lambda ns, x: ns.ridge_gradient(x["w"], x["X"], x["y"], x["lam"]), functions=("ridge_gradient",)),
    Spec(id="ridge_closed_form.values",
         title="ridge_closed_form: the minimiser found by Newton's method (m > n)",
         run=_closed_run, functions=("ridge_closed_form",), judge=coefficient_judge(1e-9)),
    Spec(id="ridge_closed_form.wide",
         title="ridge_closed_form: the minimiser when there are more features than samples (n > m)",
         run=_closed_run, functions=("ridge_closed_form",), judge=coefficient_judge(1e-9)),
    Spec(id="ridge_closed_form.ill_conditioned",
         title="ridge_closed_form: accurate on nearly collinear X (augmented least squares) with a vanishing"
               " gradient",
         run=_closed_run, functions=("ridge_closed_form",), judge=coefficient_judge(1e-4)),
    Spec(id="ridge_gd.trajectory",
         title="ridge_gd follows gradient descent exactly (final w, objective before and after every step)",
         run=_gd_run, functions=("ridge_gd",), uses=("ridge_gradient", "ridge_objective"), rtol=1e-8, atol=1e-10,
         hint="history[0] is the objective at w0 and history[k] after k steps: steps + 1 values;"
              " w0 itself must not change (start from a copy, np.array(w0, dtype=float))."),
    Spec(id="ridge_max_stable_lr.threshold",
         title="ridge_max_stable_lr: gradient descent converges just below the value and diverges just above it",
         run=lambda ns, x: ns.ridge_max_stable_lr(x["X"], x["lam"]), functions=("ridge_max_stable_lr",),
         judge=step_size_judge),
    Spec(id="ridge_with_intercept.values",
         title="ridge_with_intercept minimises ||y - Xw - b 1||^2 + lam ||w||^2 (intercept not penalised)",
         run=lambda ns, x: tuple(ns.ridge_with_intercept(x["X"], x["y"], x["lam"])),
         functions=("ridge_with_intercept",)),
    Spec(id="effective_degrees_of_freedom.values",
         title="effective_degrees_of_freedom equals sum_i d yhat_i / d y_i (the trace of the hat matrix)",
         run=lambda ns, x: ns.effective_degrees_of_freedom(x["X"], x["lam"]),
         functions=("effective_degrees_of_freedom",), rtol=1e-8),
):
    SPECS.add(_spec)

check = make_check(SPECS)
