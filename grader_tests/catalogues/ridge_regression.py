"""Catalogue for ridge_regression: classic wrong answers, correct alternatives.

The reference ridge_gd calls ridge_gradient and ridge_objective, and
ridge_with_intercept calls ridge_closed_form, so a wrong helper also fails the
checks of its callers; ``fails`` lists all of them.
"""
from dlgrade_grader.submissions import Alternative, Wrong

WRONG = [
    Wrong("lp_without_root", {"lp_norm": (
        "def lp_norm(x, p):\n"
        "    if p < 1:\n"
        "        raise ValueError('p < 1')\n"
        "    a = np.abs(x)\n"
        "    return float(a.max()) if p == np.inf else float(np.sum(a ** p))\n")},
        fails=["lp_norm.values"]),
    Wrong("lp_inf_without_abs", {"lp_norm": (
        "def lp_norm(x, p):\n"
        "    if p < 1:\n"
        "        raise ValueError('p < 1')\n"
        "    if p == np.inf:\n"
        "        return float(np.max(x))\n"
        "    return float(np.sum(np.abs(x) ** p) ** (1 / p))\n")},
        fails=["lp_norm.values"]),
    Wrong("lp_accepts_small_p", {"lp_norm": (
        "def lp_norm(x, p):\n"
        "    a = np.abs(x)\n"
        "    if p == np.inf:\n"
        "        return float(a.max())\n"
        "    return float(np.sum(a ** p) ** (1 / p)) if p != 0 else float(np.count_nonzero(a))\n")},
        fails=["lp_norm.rejects_p_below_one"]),
    Wrong("objective_mean_squared_error", {"ridge_objective": (
        "def ridge_objective(w, X, y, lam):\n"
        "    return float(np.mean((y - X @ w) ** 2) + lam * w @ w)\n")},
        fails=["ridge_objective.values"]),
    Wrong("gradient_missing_factor_2", {"ridge_gradient": (
        "def ridge_gradient(w, X, y, lam):\n"
        "    return X.T @ (X @ w - y) + lam * w\n")},
        fails=["ridge_gradient.values"],
        says=("this function calls ridge_gradient (its check ridge_gradient.values fails)",)),
    Wrong("gradient_missing_penalty", {"ridge_gradient": (
        "def ridge_gradient(w, X, y, lam):\n"
        "    return 2 * X.T @ (X @ w - y)\n")},
        fails=["ridge_gradient.values"]),
    Wrong("closed_form_explicit_inverse", {"ridge_closed_form": (
        "def ridge_closed_form(X, y, lam):\n"
        "    return np.linalg.inv(X.T @ X + lam * np.eye(X.shape[1])) @ (X.T @ y)\n")},
        fails=["ridge_closed_form.ill_conditioned"]),
    Wrong("closed_form_half_lambda", {"ridge_closed_form": (
        "def ridge_closed_form(X, y, lam):\n"
        "    return np.linalg.solve(X.T @ X + lam / 2 * np.eye(X.shape[1]), X.T @ y)\n")},
        fails=["ridge_closed_form.values", "ridge_closed_form.wide", "ridge_closed_form.ill_conditioned"]),
    Wrong("closed_form_min_norm_when_wide", {"ridge_closed_form": (
        "def ridge_closed_form(X, y, lam):\n"
        "    m, n = X.shape\n"
        "    if n > m:  # 'lam is negligible when the system is underdetermined'\n"
        "        return np.linalg.lstsq(X, y, rcond=None)[0]\n"
        "    return np.linalg.solve(X.T @ X + lam * np.eye(n), X.T @ y)\n")},
        fails=["ridge_closed_form.wide"]),
    Wrong("gd_history_without_start", {"ridge_gd": (
        "def ridge_gd(X, y, lam, lr, steps, w0):\n"
        "    w = np.array(w0, dtype=float)\n"
        "    history = []\n"
        "    for _ in range(steps):\n"
        "        w = w - lr * ridge_gradient(w, X, y, lam)\n"
        "        history.append(ridge_objective(w, X, y, lam))\n"
        "    return w, np.array(history)\n")},
        fails=["ridge_gd.trajectory"]),
    Wrong("gd_ascent", {"ridge_gd": (
        "def ridge_gd(X, y, lam, lr, steps, w0):\n"
        "    w = np.array(w0, dtype=float)\n"
        "    history = [ridge_objective(w, X, y, lam)]\n"
        "    for _ in range(steps):\n"
        "        w = w + lr * ridge_gradient(w, X, y, lam)\n"
        "        history.append(ridge_objective(w, X, y, lam))\n"
        "    return w, np.array(history)\n")},
        fails=["ridge_gd.trajectory"]),
    Wrong("gd_updates_w0_in_place", {"ridge_gd": (
        "def ridge_gd(X, y, lam, lr, steps, w0):\n"
        "    w = w0\n"
        "    history = [ridge_objective(w, X, y, lam)]\n"
        "    for _ in range(steps):\n"
        "        w -= lr * ridge_gradient(w, X, y, lam)\n"
        "        history.append(ridge_objective(w, X, y, lam))\n"
        "    return w, np.array(history)\n")},
        fails=["ridge_gd.trajectory"], note="right trajectory, but the caller's w0 ends up as the final w"),
    Wrong("lr_bound_without_lambda", {"ridge_max_stable_lr": (
        "def ridge_max_stable_lr(X, lam):\n"
        "    return 2.0 / (2.0 * np.linalg.norm(X, 2) ** 2)\n")},
        fails=["ridge_max_stable_lr.threshold"]),
    Wrong("lr_bound_one_over_L", {"ridge_max_stable_lr": (
        "def ridge_max_stable_lr(X, lam):\n"
        "    return 1.0 / (2.0 * (np.linalg.norm(X, 2) ** 2 + lam))\n")},
        fails=["ridge_max_stable_lr.threshold"]),
    Wrong("lr_bound_hessian_without_2", {"ridge_max_stable_lr": (
        "def ridge_max_stable_lr(X, lam):\n"
        "    return 2.0 / (np.linalg.norm(X, 2) ** 2 + lam)\n")},
        fails=["ridge_max_stable_lr.threshold"]),
    Wrong("intercept_penalised", {"ridge_with_intercept": (
        "def ridge_with_intercept(X, y, lam):\n"
        "    X1 = np.column_stack([X, np.ones(len(y))])\n"
        "    t = ridge_closed_form(X1, y, lam)\n"
        "    return t[:-1], float(t[-1])\n")},
        fails=["ridge_with_intercept.values"]),
    Wrong("intercept_centres_y_only", {"ridge_with_intercept": (
        "def ridge_with_intercept(X, y, lam):\n"
        "    w = ridge_closed_form(X, y - y.mean(), lam)\n"
        "    return w, float(y.mean())\n")},
        fails=["ridge_with_intercept.values"]),
    Wrong("edf_counts_parameters", {"effective_degrees_of_freedom": (
        "def effective_degrees_of_freedom(X, lam):\n"
        "    return float(X.shape[1])\n")},
        fails=["effective_degrees_of_freedom.values"]),
    Wrong("edf_unsquared_singular_values", {"effective_degrees_of_freedom": (
        "def effective_degrees_of_freedom(X, lam):\n"
        "    s = np.linalg.svd(X, compute_uv=False)\n"
        "    return float(np.sum(s / (s + lam)))\n")},
        fails=["effective_degrees_of_freedom.values"]),
]

ALTERNATIVES = [
    Alternative("closed_form_cholesky", {"ridge_closed_form": (
        "def ridge_closed_form(X, y, lam):\n"
        "    L = np.linalg.cholesky(X.T @ X + lam * np.eye(X.shape[1]))\n"
        "    return np.linalg.solve(L.T, np.linalg.solve(L, X.T @ y))\n")}),
    Alternative("closed_form_svd", {"ridge_closed_form": (
        "def ridge_closed_form(X, y, lam):\n"
        "    U, s, Vt = np.linalg.svd(X, full_matrices=False)\n"
        "    return Vt.T @ (s / (s ** 2 + lam) * (U.T @ y))\n")}),
    Alternative("closed_form_primal_always_and_augmented_lstsq_intercept", {
        "ridge_closed_form": (
            "def ridge_closed_form(X, y, lam):\n"
            "    n = X.shape[1]\n"
            "    return np.linalg.solve(X.T @ X + lam * np.eye(n), X.T @ y)\n"),
        "ridge_with_intercept": (
            "def ridge_with_intercept(X, y, lam):\n"
            "    m, n = X.shape\n"
            "    # the intercept's row of the penalty block is zero: it is not shrunk\n"
            "    A = np.vstack([np.column_stack([X, np.ones(m)]),\n"
            "                   np.column_stack([np.sqrt(lam) * np.eye(n), np.zeros(n)])])\n"
            "    t = np.linalg.lstsq(A, np.concatenate([y, np.zeros(n)]), rcond=None)[0]\n"
            "    return t[:n], float(t[n])\n"),
    }),
    Alternative("closed_form_augmented_qr", {"ridge_closed_form": (
        "def ridge_closed_form(X, y, lam):\n"
        "    n = X.shape[1]\n"
        "    Q, R = np.linalg.qr(np.vstack([X, np.sqrt(lam) * np.eye(n)]))\n"
        "    return np.linalg.solve(R, Q.T @ np.concatenate([y, np.zeros(n)]))\n")}),
    Alternative("gd_in_place_on_a_copy", {"ridge_gd": (
        "def ridge_gd(X, y, lam, lr, steps, w0):\n"
        "    w = w0.copy()\n"
        "    history = [ridge_objective(w, X, y, lam)]\n"
        "    for _ in range(steps):\n"
        "        w -= lr * ridge_gradient(w, X, y, lam)\n"
        "        history.append(ridge_objective(w, X, y, lam))\n"
        "    return w, history\n")}),
    Alternative("vectorised_helpers", {
        "lp_norm": (
            "def lp_norm(x, p):\n"
            "    if p < 1:\n"
            "        raise ValueError('not a norm for p < 1')\n"
            "    return float(np.linalg.norm(np.asarray(x, dtype=float), ord=p))\n"),
        "ridge_objective": (
            "def ridge_objective(w, X, y, lam):\n"
            "    return float(np.linalg.norm(y - X @ w) ** 2 + lam * np.linalg.norm(w) ** 2)\n"),
        "ridge_gradient": (
            "def ridge_gradient(w, X, y, lam):\n"
            "    return 2 * (X.T @ X + lam * np.eye(len(w))) @ w - 2 * X.T @ y\n"),
        "ridge_max_stable_lr": (
            "def ridge_max_stable_lr(X, lam):\n"
            "    top = np.linalg.eigvalsh(2 * (X.T @ X + lam * np.eye(X.shape[1])))[-1]\n"
            "    return float(2 / top)\n"),
        "effective_degrees_of_freedom": (
            "def effective_degrees_of_freedom(X, lam):\n"
            "    n = X.shape[1]\n"
            "    A = X.T @ X + lam * np.eye(n)\n"
            "    return float(np.trace(np.linalg.solve(A, X.T @ X)))\n"),
    }),
]

ATTACKS = []
