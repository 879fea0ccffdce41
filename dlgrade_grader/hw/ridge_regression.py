"""ridge_regression, the grader half: cases, references, mistake models (seed 002, Q25-Q26).

Convention: ``X`` has shape (m, n), m samples and n features, ``w`` shape (n,),
and the objective is f(w) = ||y - Xw||^2 + lam ||w||^2 (no 1/2, no 1/m).

The references never use the closed form a student is asked for:

- norms come from ``torch.linalg.vector_norm`` and the objective from torch;
- gradients and Hessians come from HIPS autograd applied to f;
- the minimiser comes from Newton's method on f (:mod:`._optim`), and on
  nearly collinear data from the augmented least-squares problem
  [X; sqrt(lam) I] w ~ [y; 0] solved by ``np.linalg.lstsq`` (orthogonal
  factorisation, so its conditioning is sqrt of that of X^T X + lam I);
  there a student's answer must also make autograd's gradient vanish to
  working precision, which an explicit inverse does not achieve;
- the step-size bound is confirmed by running gradient descent just below
  and just above the student's value;
- the degrees of freedom are the divergence of the fitted values with
  respect to y, sum_i d yhat_i / d y_i, assembled one unit vector at a time.
"""
from __future__ import annotations

import numpy as np

from dlgrade.compare import Mismatch
from dlgrade.hw import ridge_regression as student

from ..checks import Mistake, Registry
from . import DEFAULT_FORBIDDEN
from ._optim import anp, grad_at, hessian_at, newton_minimize
from ._torchref import tensor
from ._torchref import torch as lazy_torch

REGISTRY = Registry(student.SPECS)
# scipy.linalg and scipy.optimize would solve the problem without the derivation
FORBIDDEN_IN_SOLUTIONS = DEFAULT_FORBIDDEN | {"scipy"}


def objective(X, y, lam):
    """f(w) = ||y - Xw||^2 + lam ||w||^2 written for autograd."""
    X, y, lam = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64), float(lam)

    def f(w):
        r = y - anp.dot(X, w)
        return anp.sum(r ** 2) + lam * anp.sum(w ** 2)
    return f


def _relative_gradient(X, y, lam, w) -> float:
    """||grad f(w)|| relative to the size of its terms: the backward error of the normal equations."""
    X, y, w = (np.asarray(a, dtype=np.float64) for a in (X, y, w))
    g = grad_at(objective(X, y, lam), w)
    scale = 2 * ((np.linalg.norm(X, 2) ** 2 + lam) * np.linalg.norm(w) + np.linalg.norm(X.T @ y))
    return float(np.linalg.norm(g) / scale) if scale > 0 else float(np.linalg.norm(g))


# ----------------------------------------------------------------------------- lp_norm

def _lp_cases(rng):
    x = rng.normal(0, 2, int(rng.integers(5, 9)))
    x[int(rng.integers(len(x)))] = -9.0 - rng.uniform()  # the largest magnitude is negative
    return [("p = 1", {"x": x, "p": 1}), ("p = 2", {"x": x, "p": 2}), ("p = 3", {"x": x, "p": 3}),
            ("p = 1.5", {"x": x, "p": 1.5}), ("p = inf", {"x": x, "p": np.inf}),
            ("p = 4, one entry", {"x": x[:1], "p": 4})]


def _lp_reference(inp):
    torch = lazy_torch()
    return float(torch.linalg.vector_norm(tensor(inp["x"]), ord=float(inp["p"])))


def _lp_small_p_cases(rng):
    x = rng.normal(0, 1, 4)
    return [("p = 0.5", {"x": x, "p": 0.5}), ("p = 0", {"x": x, "p": 0}), ("p = -2", {"x": x, "p": -2}),
            ("p = 1 is still a norm", {"x": x, "p": 1})]


# ----------------------------------------------------------------------------- objective / gradient

def _problem_cases(rng):
    out = []
    for m, n in ((int(rng.integers(6, 10)), 3), (3, 5)):
        X = rng.standard_normal((m, n))
        out.append((f"X {X.shape}", {"w": rng.standard_normal(n), "X": X, "y": rng.standard_normal(m),
                                     "lam": float(rng.uniform(0.2, 3.0))}))
    X = rng.standard_normal((5, 2))
    out.append(("lam = 0", {"w": rng.standard_normal(2), "X": X, "y": rng.standard_normal(5), "lam": 0.0}))
    return out


def _objective_reference(inp):
    torch = lazy_torch()
    X, y, w = tensor(inp["X"]), tensor(inp["y"]), tensor(inp["w"])
    return float(torch.linalg.vector_norm(y - X @ w) ** 2 + inp["lam"] * torch.linalg.vector_norm(w) ** 2)


def _gradient_reference(inp):
    return grad_at(objective(inp["X"], inp["y"], inp["lam"]), inp["w"])


# ----------------------------------------------------------------------------- closed form

def _closed_reference(inp):
    X = np.asarray(inp["X"], dtype=np.float64)
    return newton_minimize(objective(X, inp["y"], inp["lam"]), np.zeros(X.shape[1]))


def _augmented_reference(inp):
    X, y, lam = np.asarray(inp["X"], dtype=np.float64), np.asarray(inp["y"], dtype=np.float64), float(inp["lam"])
    n = X.shape[1]
    A = np.vstack([X, np.sqrt(lam) * np.eye(n)])
    return np.linalg.lstsq(A, np.concatenate([y, np.zeros(n)]), rcond=None)[0]


def _minimiser_judge(coef_rtol: float, grad_tol: float):
    """The student-side coefficient test, then: the gradient at the student's w must vanish."""
    coefficients = student.coefficient_judge(coef_rtol)

    def judge(expected, got, inputs, reveal):
        out = coefficients(expected, got, inputs, reveal)
        if out:
            return out
        got = np.asarray(got, dtype=np.float64)
        rel = _relative_gradient(inputs["X"], inputs["y"], inputs["lam"], got)
        if rel > grad_tol:
            out.append(Mismatch("", f"the gradient of the objective at your w is not zero to working precision:"
                                    f" ||grad f(w)|| relative to its terms is {rel:.2g} (allowed {grad_tol:.0e};"
                                    " a backward-stable solve reaches about 1e-16). Forming an explicit inverse"
                                    " loses this accuracy on ill-conditioned data: use np.linalg.solve."))
        return out
    return judge


def _tall_cases(rng):
    out = []
    for m, n, lam in ((int(rng.integers(8, 14)), 3, float(rng.uniform(0.1, 2))),
                      (int(rng.integers(15, 25)), 5, float(rng.uniform(2, 10)))):
        out.append((f"X {(m, n)}, lam = {lam:.3g}", {"X": rng.standard_normal((m, n)), "y": rng.normal(0, 3, m), "lam": lam}))
    return out


def _wide_cases(rng):
    out = []
    for m, n, lam in ((3, int(rng.integers(6, 9)), float(rng.uniform(0.1, 1))),
                      (int(rng.integers(4, 6)), int(rng.integers(10, 13)), float(rng.uniform(0.01, 0.1)))):
        out.append((f"X {(m, n)} (n > m), lam = {lam:.3g}",
                    {"X": rng.standard_normal((m, n)), "y": rng.normal(0, 3, m), "lam": lam}))
    return out


def _collinear_cases(rng):
    out = []
    for i in range(3):
        m, n = int(rng.integers(20, 40)), int(rng.integers(4, 8))
        X = rng.standard_normal((m, 1)) + 1e-6 * rng.standard_normal((m, n))
        out.append((f"nearly collinear X {(m, n)} #{i + 1}", {"X": X, "y": rng.standard_normal(m), "lam": 1e-8}))
    return out


def _explicit_inverse(inp):
    X = inp["X"]
    return np.linalg.inv(X.T @ X + inp["lam"] * np.eye(X.shape[1])) @ X.T @ inp["y"]


_CLOSED_MISTAKES = (
    Mistake(lambda x: np.linalg.lstsq(x["X"], x["y"], rcond=None)[0], "lam is ignored (this is least squares)."),
    Mistake(lambda x: np.linalg.solve(x["X"].T @ x["X"] + x["lam"] / 2 * np.eye(x["X"].shape[1]), x["X"].T @ x["y"]),
            "the identity is scaled by lam/2: with f = ||y - Xw||^2 + lam ||w||^2 it is lam."),
)


# ----------------------------------------------------------------------------- gradient descent

def _gd_cases(rng):
    out = []
    for m, n, frac, steps in ((8, 3, 0.5, 20), (6, 4, 0.9, 30), (5, 2, 1.5, 15)):
        X = rng.standard_normal((m, n))
        lam = float(rng.uniform(0.1, 1.0))
        L = 2 * (np.linalg.norm(X, 2) ** 2 + lam)
        out.append((f"lr = {frac:g}/L, {steps} steps", {
            "X": X, "y": rng.standard_normal(m), "lam": lam, "lr": frac / L, "steps": steps,
            "w0": rng.standard_normal(n)}))
    return out


def _gd_reference(inp):
    f = objective(inp["X"], inp["y"], inp["lam"])
    import autograd
    grad = autograd.grad(f)
    w = np.array(inp["w0"], dtype=np.float64)
    history = [float(f(w))]
    for _ in range(int(inp["steps"])):
        w = w - inp["lr"] * np.asarray(grad(w))
        history.append(float(f(w)))
    # "do not modify w0 in place": the run reports whether the caller's w0 survived the call
    return {"w": w, "history": np.array(history), "w0_left_unchanged": True}


# ----------------------------------------------------------------------------- step-size bound

def _lr_cases(rng):
    out = []
    for m, n in ((10, 3), (6, 5), (4, 6)):
        X = rng.standard_normal((m, n)) * rng.uniform(0.5, 2.0)
        lam = float(rng.uniform(0.3, 1.0) * np.linalg.norm(X, 2) ** 2)
        out.append((f"X {(m, n)}, lam = {lam:.3g}", {"X": X, "lam": lam}))
    return out


def _lr_reference(inp):
    X = np.asarray(inp["X"], dtype=np.float64)
    H = hessian_at(objective(X, np.zeros(X.shape[0]), inp["lam"]), np.zeros(X.shape[1]))
    return 2.0 / float(np.linalg.eigvalsh(H)[-1])


def _gd_gap_ratio(H, lr, steps=1500) -> float:
    """(f(w_K) - f*) / (f(w_0) - f*) for gradient descent on a quadratic with Hessian H."""
    vals, vecs = np.linalg.eigh(H)
    e = vecs @ np.ones(len(vals))  # every eigen-direction starts with the same weight
    gap0 = 0.5 * e @ H @ e
    for _ in range(steps):
        e = e - lr * (H @ e)
    return float(0.5 * e @ H @ e / gap0)


def _lr_judge(expected, got, inputs, reveal):
    lr, wrong = student.as_step_size(got)
    if wrong:
        return wrong
    X = np.asarray(inputs["X"], dtype=np.float64)
    H = hessian_at(objective(X, np.zeros(X.shape[0]), inputs["lam"]), np.zeros(X.shape[1]))
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
        out += student.step_size_judge(expected, lr, inputs, reveal)
    return out


# ----------------------------------------------------------------------------- intercept

def _intercept_cases(rng):
    out = []
    for m, n in ((int(rng.integers(10, 16)), 2), (int(rng.integers(16, 24)), 4)):
        X = rng.normal(rng.uniform(1, 4, n), 1.0, (m, n))
        y = X @ rng.normal(0, 1, n) + rng.uniform(5, 10) + rng.normal(0, 0.5, m)
        out.append((f"X {(m, n)}, offset data", {"X": X, "y": y, "lam": float(rng.uniform(1, 5))}))
    return out


def _intercept_reference(inp):
    X, y, lam = np.asarray(inp["X"], dtype=np.float64), np.asarray(inp["y"], dtype=np.float64), float(inp["lam"])
    n = X.shape[1]

    def f(theta):
        w, b = theta[:n], theta[n]
        r = y - anp.dot(X, w) - b
        return anp.sum(r ** 2) + lam * anp.sum(w ** 2)

    theta = newton_minimize(f, np.zeros(n + 1))
    return (theta[:n], float(theta[n]))


def _penalised_intercept(inp):
    X1 = np.column_stack([inp["X"], np.ones(len(inp["y"]))])
    t = np.linalg.solve(X1.T @ X1 + inp["lam"] * np.eye(X1.shape[1]), X1.T @ inp["y"])
    return (t[:-1], float(t[-1]))


# ----------------------------------------------------------------------------- degrees of freedom

def _edf_cases(rng):
    out = [("X (12, 4)", {"X": rng.standard_normal((12, 4)), "lam": float(rng.uniform(0.5, 5))}),
           ("X (4, 9), n > m", {"X": rng.standard_normal((4, 9)), "lam": float(rng.uniform(0.1, 2))})]
    X = rng.standard_normal((15, 5)) * np.logspace(3, -3, 5)
    out.append(("columns scaled from 1e3 to 1e-3", {"X": X, "lam": 1e-2}))
    return out


def _edf_reference(inp):
    X, lam = np.asarray(inp["X"], dtype=np.float64), float(inp["lam"])
    m, n = X.shape
    A = np.vstack([X, np.sqrt(lam) * np.eye(n)])
    # the fit is linear in y: the j-th column of the hat matrix is the fit to the j-th unit vector
    W = np.linalg.lstsq(A, np.vstack([np.eye(m), np.zeros((n, m))]), rcond=None)[0]
    fits = X @ W
    return float(sum(fits[j, j] for j in range(m)))


# ----------------------------------------------------------------------------- bindings, by check id

REGISTRY.add("lp_norm.values", cases=_lp_cases, reference=_lp_reference, mistakes=(
    Mistake(lambda x: float(np.sum(np.abs(x["x"]) ** x["p"])) if np.isfinite(x["p"]) else float(np.max(np.abs(x["x"]))),
            "the 1/p root is missing: ||x||_p = (sum |x_i|^p)^(1/p)."),
    Mistake(lambda x: float(np.max(x["x"])) if not np.isfinite(x["p"]) else float(np.linalg.norm(x["x"], x["p"])),
            "the inf-norm is the largest *absolute* value."),
    Mistake(lambda x: float(np.sum(x["x"] ** x["p"]) ** (1 / x["p"])) if np.isfinite(x["p"]) else float(np.max(np.abs(x["x"]))),
            "take absolute values before raising to the power p."),
))
REGISTRY.add("lp_norm.rejects_p_below_one", cases=_lp_small_p_cases,
             reference=lambda x: "raised ValueError" if x["p"] < 1 else _lp_reference(x))
REGISTRY.add("ridge_objective.values", cases=_problem_cases, reference=_objective_reference, mistakes=(
    Mistake(lambda x: float(np.mean((x["y"] - x["X"] @ x["w"]) ** 2) + x["lam"] * x["w"] @ x["w"]),
            "the data term is a sum of squares here, not a mean (no 1/m)."),
    Mistake(lambda x: float(np.linalg.norm(x["y"] - x["X"] @ x["w"]) + x["lam"] * np.linalg.norm(x["w"])),
            "the norms are squared."),
))
REGISTRY.add("ridge_gradient.values", cases=_problem_cases, reference=_gradient_reference, mistakes=(
    Mistake(lambda x: x["X"].T @ (x["X"] @ x["w"] - x["y"]) + x["lam"] * x["w"],
            "the factor 2 from differentiating the squares is missing."),
    Mistake(lambda x: 2 * x["X"].T @ (x["X"] @ x["w"] - x["y"]),
            "the gradient 2 lam w of the penalty is missing."),
    Mistake(lambda x: 2 * x["X"].T @ (x["y"] - x["X"] @ x["w"]) + 2 * x["lam"] * x["w"],
            "the sign of the data term is flipped: d/dw ||y - Xw||^2 = -2 X^T (y - Xw)."),
))
for _id, _cases, _ref, _rtol, _gtol in (
        ("ridge_closed_form.values", _tall_cases, _closed_reference, 1e-9, 1e-12),
        ("ridge_closed_form.wide", _wide_cases, _closed_reference, 1e-9, 1e-12),
        ("ridge_closed_form.ill_conditioned", _collinear_cases, _augmented_reference, 1e-4, 4e-15)):
    REGISTRY.add(_id, cases=_cases, reference=_ref, mistakes=_CLOSED_MISTAKES,
                 grader_judge=_minimiser_judge(_rtol, _gtol))
REGISTRY.add("ridge_gd.trajectory", cases=_gd_cases, reference=_gd_reference)
REGISTRY.add("ridge_max_stable_lr.threshold", cases=_lr_cases, reference=_lr_reference, grader_judge=_lr_judge,
             mistakes=(
    Mistake(lambda x: 1.0 / np.linalg.norm(x["X"], 2) ** 2, "the Hessian is 2 (X^T X + lam I): lam is missing."),
    Mistake(lambda x: 1.0 / (2 * (np.linalg.norm(x["X"], 2) ** 2 + x["lam"])),
            "1/L guarantees monotone decrease, but the largest stable step is 2/L."),
    Mistake(lambda x: 2.0 / (np.linalg.norm(x["X"], 2) ** 2 + x["lam"]),
            "the Hessian of ||y - Xw||^2 + lam ||w||^2 is 2 (X^T X + lam I): a factor 2 is missing."),
))
REGISTRY.add("ridge_with_intercept.values", cases=_intercept_cases, reference=_intercept_reference, mistakes=(
    Mistake(_penalised_intercept, "the intercept is penalised: a column of ones inside the ridge"
                                  " penalty shrinks b toward 0 and makes the fit depend on where y's origin is."),))
REGISTRY.add("effective_degrees_of_freedom.values", cases=_edf_cases, reference=_edf_reference, mistakes=(
    Mistake(lambda x: float(x["X"].shape[1]), "this counts the parameters; ridge shrinks them, so df < n."),
    Mistake(lambda x: float(np.sum((s := np.linalg.svd(x["X"], compute_uv=False)) / (s + x["lam"]))),
            "the singular values must be squared: df = sum s_i^2 / (s_i^2 + lam)."),
))
REGISTRY.complete()
