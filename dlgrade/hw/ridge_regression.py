"""ridge_regression, the student half: how each check calls the student's functions.

Convention: ``X`` has shape (m, n), m samples and n features, ``w`` shape (n,), and
the objective is f(w) = ||y - Xw||^2 + lam ||w||^2 (no 1/2, no 1/m).

This module is shipped into the student's kernel. Cases, references and mistake
models live in the grader package (``dlgrade_grader.hw.ridge_regression``), which
never enters the kernel. The two judges here compute no answer: everything they
test an answer against comes from the grader in ``expected``.

- ``minimiser_judge`` gets {"w": the minimiser, "hessian": the Hessian of f,
  "gradient": the gradient of f at that minimiser, "scale_w", "scale_0"}. f is
  quadratic, so its gradient at the student's w is gradient + hessian (w - w*),
  and ``scale_w ||w|| + scale_0`` is the size of the gradient's terms.
- ``step_size_judge`` gets {"lr": the bound, "hessian": the Hessian of f} and
  runs gradient descent on the quadratic with that Hessian just below and just
  above the student's step size.
"""
from __future__ import annotations

import numpy as np

from ..checks import Spec, Specs, make_check, outcome
from ..compare import Mismatch, compare

SPECS = Specs("ridge_regression")


# ----------------------------------------------------------------------------- judges

def _relative_gradient(expected, w) -> float:
    """||grad f(w)|| relative to the size of its terms: the backward error of the normal equations."""
    w = np.asarray(w, dtype=np.float64)
    w_star = np.asarray(expected["w"], dtype=np.float64)
    g = (np.asarray(expected["gradient"], dtype=np.float64)
         + np.asarray(expected["hessian"], dtype=np.float64) @ (w - w_star))
    scale = float(expected["scale_w"]) * np.linalg.norm(w) + float(expected["scale_0"])
    return float(np.linalg.norm(g) / scale) if scale > 0 else float(np.linalg.norm(g))


def minimiser_judge(coef_rtol: float, grad_tol: float):
    """Within ``coef_rtol`` (relative, in norm) of the grader's minimiser, and a vanishing gradient."""
    def judge(expected, got, inputs, reveal):
        w_star = np.asarray(expected["w"], dtype=np.float64)
        out = compare(w_star, got, rtol=0.0, atol=1e300, reveal=reveal)  # shape and type only
        if out:
            return out
        got = np.asarray(got, dtype=np.float64)
        if not np.all(np.isfinite(got)):
            return [Mismatch("", "the answer has NaN or inf entries")]
        err = float(np.linalg.norm(got - w_star) / max(np.linalg.norm(w_star), 1e-300))
        if err > coef_rtol:
            out.append(Mismatch("", f"relative error ||w - w*|| / ||w*|| = {err:.3g} exceeds {coef_rtol:g}"
                                    + ("; " + compare(w_star, got, 0, 0, reveal=True)[0].message if reveal else ".")))
            return out
        rel = _relative_gradient(expected, got)
        if rel > grad_tol:
            out.append(Mismatch("", f"the gradient of the objective at your w is not zero to working precision:"
                                    f" ||grad f(w)|| relative to its terms is {rel:.2g} (allowed {grad_tol:.0e};"
                                    " a backward-stable solve reaches about 1e-16). Forming an explicit inverse"
                                    " loses this accuracy on ill-conditioned data: use np.linalg.solve."))
        return out
    return judge


def _gd_gap_ratio(H, lr, steps=1500) -> float:
    """(f(w_K) - f*) / (f(w_0) - f*) for gradient descent on a quadratic with Hessian H."""
    vals, vecs = np.linalg.eigh(H)
    e = vecs @ np.ones(len(vals))  # every eigen-direction starts with the same weight
    gap0 = 0.5 * e @ H @ e
    for _ in range(steps):
        e = e - lr * (H @ e)
    return float(0.5 * e @ H @ e / gap0)


def step_size_judge(expected, got, inputs, reveal):
    """Gradient descent converges just below the answer and diverges just above; then the value."""
    try:
        lr = float(got)
    except (TypeError, ValueError):
        return [Mismatch("", f"expected a float step size, got {type(got).__name__}")]
    if not (np.isfinite(lr) and lr > 0):
        return [Mismatch("", "the step size must be a positive finite number")]
    H = np.asarray(expected["hessian"], dtype=np.float64)
    out = []
    with np.errstate(all="ignore"):
        below, above = _gd_gap_ratio(H, 0.99 * lr), _gd_gap_ratio(H, 1.01 * lr)
    if not below < 1e-6:
        out.append(Mismatch("", "gradient descent with 0.99 x your step size does not converge"
                                f" (the objective gap changed by a factor {below:.3g} in 1500 steps): the bound is too large."))
    if not above > 1e6:
        out.append(Mismatch("", "gradient descent with 1.01 x your step size still converges"
                                f" (gap factor {above:.3g} in 1500 steps): the bound is too small, so it is not the largest stable step."))
    if not out:
        out += compare(expected["lr"], lr, 1e-6, 0.0, "", "", reveal)
    return out


# ----------------------------------------------------------------------------- runners

def _closed_run(ns, x):
    return ns.ridge_closed_form(x["X"], x["y"], x["lam"])


def _gd_run(ns, x):
    w, history = ns.ridge_gd(x["X"], x["y"], x["lam"], x["lr"], x["steps"], x["w0"])
    return (np.asarray(w, dtype=np.float64), np.asarray(history, dtype=np.float64))


# ----------------------------------------------------------------------------- checks

SPECS.add(Spec(
    id="lp_norm.values",
    title="lp_norm matches torch.linalg.vector_norm for p = 1, 1.5, 2, 3, 4 and inf",
    run=lambda ns, x: ns.lp_norm(x["x"], x["p"]),
    functions=("lp_norm",),
))
SPECS.add(Spec(
    id="lp_norm.rejects_p_below_one",
    title="lp_norm raises ValueError for p < 1 (not a norm) and accepts p = 1",
    run=lambda ns, x: outcome(ns.lp_norm, x["x"], x["p"]),
    functions=("lp_norm",),
    hint="for p < 1 the triangle inequality fails, so the formula is not a norm: raise ValueError.",
))
SPECS.add(Spec(
    id="ridge_objective.values",
    title="ridge_objective equals ||y - Xw||^2 + lam ||w||^2 (torch)",
    run=lambda ns, x: ns.ridge_objective(x["w"], x["X"], x["y"], x["lam"]),
    functions=("ridge_objective",),
))
SPECS.add(Spec(
    id="ridge_gradient.values",
    title="ridge_gradient equals autograd's gradient of the ridge objective",
    run=lambda ns, x: ns.ridge_gradient(x["w"], x["X"], x["y"], x["lam"]),
    functions=("ridge_gradient",),
))
for _id, _title, _rtol, _gtol in (
        ("ridge_closed_form.values", "the minimiser found by Newton's method (m > n)", 1e-9, 1e-12),
        ("ridge_closed_form.wide", "the minimiser when there are more features than samples (n > m)", 1e-9, 1e-12),
        ("ridge_closed_form.ill_conditioned",
         "accurate on nearly collinear X (augmented least squares) with a vanishing gradient", 1e-4, 4e-15)):
    SPECS.add(Spec(
        id=_id,
        title="ridge_closed_form: " + _title,
        run=_closed_run,
        functions=("ridge_closed_form",),
        judge=minimiser_judge(_rtol, _gtol),
    ))
SPECS.add(Spec(
    id="ridge_gd.trajectory",
    title="ridge_gd follows gradient descent exactly (final w, objective before and after every step)",
    run=_gd_run,
    functions=("ridge_gd",),
    rtol=1e-8, atol=1e-10,
    hint="history[0] is the objective at w0 and history[k] after k steps: steps + 1 values.",
))
SPECS.add(Spec(
    id="ridge_max_stable_lr.threshold",
    title="ridge_max_stable_lr: gradient descent converges just below the value and diverges just above it",
    run=lambda ns, x: ns.ridge_max_stable_lr(x["X"], x["lam"]),
    functions=("ridge_max_stable_lr",),
    judge=step_size_judge,
))
SPECS.add(Spec(
    id="ridge_with_intercept.values",
    title="ridge_with_intercept minimises ||y - Xw - b 1||^2 + lam ||w||^2 (intercept not penalised)",
    run=lambda ns, x: tuple(ns.ridge_with_intercept(x["X"], x["y"], x["lam"])),
    functions=("ridge_with_intercept",),
))
SPECS.add(Spec(
    id="effective_degrees_of_freedom.values",
    title="effective_degrees_of_freedom equals sum_i d yhat_i / d y_i (the trace of the hat matrix)",
    run=lambda ns, x: ns.effective_degrees_of_freedom(x["X"], x["lam"]),
    functions=("effective_degrees_of_freedom",),
    rtol=1e-8,
))

check = make_check(SPECS)
