"""Catalogue for mle_map: classic wrong answers, correct alternatives.

Each wrong answer replaces one or two solution cells of the reference and
names every check it must lose. Where a function is reused (map_linear_gaussian
calls ridge_lambda_from_prior), a wrong helper also fails its caller.
"""
from dlgrade_grader.submissions import Alternative, Wrong

WRONG = [
    Wrong("nll_without_constants", {"gaussian_nll": (
        "def gaussian_nll(y, y_hat, sigma):\n"
        "    r = np.asarray(y, dtype=float) - np.asarray(y_hat, dtype=float)\n"
        "    return float(np.sum(r ** 2 / (2 * np.asarray(sigma, dtype=float) ** 2)))\n")},
        fails=["gaussian_nll.values"]),
    Wrong("nll_without_half_log_two_pi", {"gaussian_nll": (
        "def gaussian_nll(y, y_hat, sigma):\n"
        "    r = np.asarray(y, dtype=float) - np.asarray(y_hat, dtype=float)\n"
        "    s = np.broadcast_to(np.asarray(sigma, dtype=float), r.shape)\n"
        "    return float(np.sum(r ** 2 / (2 * s ** 2) + np.log(s)))\n")},
        fails=["gaussian_nll.values"], says=("off by exactly n * (1/2) log(2 pi)",)),
    Wrong("nll_sigma_as_variance", {"gaussian_nll": (
        "def gaussian_nll(y, y_hat, sigma):\n"
        "    r = np.asarray(y, dtype=float) - np.asarray(y_hat, dtype=float)\n"
        "    v = np.broadcast_to(np.asarray(sigma, dtype=float), r.shape)\n"
        "    return float(np.sum(r ** 2 / (2 * v) + 0.5 * np.log(2 * np.pi * v)))\n")},
        fails=["gaussian_nll.values"]),
    Wrong("variance_one_over_n_minus_1", {"gaussian_mle": (
        "def gaussian_mle(x):\n"
        "    return float(np.mean(x)), float(np.var(x, ddof=1))\n")},
        fails=["gaussian_mle.values"]),
    Wrong("bernoulli_add_one_smoothing", {"bernoulli_mle": (
        "def bernoulli_mle(x):\n"
        "    return float((np.sum(x) + 1) / (len(x) + 2))\n")},
        fails=["bernoulli_mle.values"]),
    Wrong("laplace_location_is_mean", {"laplace_mle": (
        "def laplace_mle(x):\n"
        "    mu = float(np.mean(x))\n"
        "    return mu, float(np.mean(np.abs(x - mu)))\n")},
        fails=["laplace_mle.values"]),
    Wrong("laplace_scale_is_std", {"laplace_mle": (
        "def laplace_mle(x):\n"
        "    return float(np.median(x)), float(np.std(x))\n")},
        fails=["laplace_mle.values"]),
    Wrong("log_likelihood_adds_log_Z", {"loss_to_log_likelihood": (
        "def loss_to_log_likelihood(loss_values, log_Z):\n"
        "    return -np.asarray(loss_values, dtype=float) + log_Z\n")},
        fails=["loss_to_log_likelihood.values"]),
    Wrong("linear_sigma2_unbiased", {"mle_linear_gaussian": (
        "def mle_linear_gaussian(X, y):\n"
        "    w = np.linalg.lstsq(X, y, rcond=None)[0]\n"
        "    n, d = X.shape\n"
        "    return w, float(np.sum((y - X @ w) ** 2) / (n - d))\n")},
        fails=["mle_linear_gaussian.values"]),
    Wrong("gls_ignores_sigma", {"gls_mle": (
        "def gls_mle(X, y, Sigma):\n"
        "    return np.linalg.lstsq(X, y, rcond=None)[0]\n")},
        fails=["gls_mle.values"]),
    Wrong("gls_weights_by_sigma", {"gls_mle": (
        "def gls_mle(X, y, Sigma):\n"
        "    return np.linalg.solve(X.T @ Sigma @ X, X.T @ Sigma @ y)\n")},
        fails=["gls_mle.values"]),
    Wrong("ridge_lambda_inverted", {"ridge_lambda_from_prior": (
        "def ridge_lambda_from_prior(sigma2, tau2):\n"
        "    return tau2 / sigma2\n")},
        fails=["ridge_lambda_from_prior.values"]),
    Wrong("map_ignores_prior", {"map_linear_gaussian": (
        "def map_linear_gaussian(X, y, sigma2, tau2):\n"
        "    return np.linalg.lstsq(X, y, rcond=None)[0]\n")},
        fails=["map_linear_gaussian.values"]),
    Wrong("lasso_lambda_missing_factor_2", {"lasso_lambda_from_laplace_prior": (
        "def lasso_lambda_from_laplace_prior(sigma2, b):\n"
        "    return sigma2 / b\n")},
        fails=["lasso_lambda_from_laplace_prior.values"]),
    Wrong("beta_mode_formula_everywhere", {"beta_bernoulli_map": (
        "def beta_bernoulli_map(x, a, b):\n"
        "    k, n = np.sum(x), len(x)\n"
        "    return float((a + k - 1) / (a + b + n - 2))\n")},
        fails=["beta_bernoulli_map.edge"]),
    Wrong("beta_posterior_mean", {"beta_bernoulli_map": (
        "def beta_bernoulli_map(x, a, b):\n"
        "    return float((a + np.sum(x)) / (a + b + len(x)))\n")},
        fails=["beta_bernoulli_map.interior", "beta_bernoulli_map.edge"]),
    Wrong("beta_boundary_swapped", {"beta_bernoulli_map": (
        "def beta_bernoulli_map(x, a, b):\n"
        "    a1, b1 = a + np.sum(x), b + len(x) - np.sum(x)\n"
        "    if a1 > 1 and b1 > 1:\n"
        "        return float((a1 - 1) / (a1 + b1 - 2))\n"
        "    if (a1 < 1 and b1 < 1) or (a1 == 1 and b1 == 1):\n"
        "        raise ValueError('no unique mode')\n"
        "    return 1.0 if a1 <= 1 else 0.0\n")},
        fails=["beta_bernoulli_map.edge"]),
    Wrong("beta_map_without_prior_check", {"beta_bernoulli_map": (
        "def beta_bernoulli_map(x, a, b):\n"
        "    a1, b1 = a + np.sum(x), b + len(x) - np.sum(x)\n"
        "    if a1 > 1 and b1 > 1:\n"
        "        return float((a1 - 1) / (a1 + b1 - 2))\n"
        "    if (a1 < 1 and b1 < 1) or (a1 == 1 and b1 == 1):\n"
        "        raise ValueError('no unique mode')\n"
        "    return 0.0 if a1 <= 1 <= b1 else 1.0\n")},
        fails=["beta_bernoulli_map.edge"], note="right on every proper prior, but a <= 0 or b <= 0 is not refused"),
    Wrong("beta_map_accepts_a_zero_parameter", {"beta_bernoulli_map": (
        "def beta_bernoulli_map(x, a, b):\n"
        "    if a < 0 or b < 0:\n"
        "        raise ValueError('the Beta prior needs a, b > 0')\n"
        "    a1, b1 = a + np.sum(x), b + len(x) - np.sum(x)\n"
        "    if a1 > 1 and b1 > 1:\n"
        "        return float((a1 - 1) / (a1 + b1 - 2))\n"
        "    if (a1 < 1 and b1 < 1) or (a1 == 1 and b1 == 1):\n"
        "        raise ValueError('no unique mode')\n"
        "    return 0.0 if a1 <= 1 <= b1 else 1.0\n")},
        fails=["beta_bernoulli_map.edge"], note="a < 0 instead of a <= 0: Beta(a, 0) is not a distribution either"),
]

ALTERNATIVES = [
    Alternative("closed_forms_written_differently", {
        "gaussian_nll": (
            "def gaussian_nll(y, y_hat, sigma):\n"
            "    var = np.asarray(sigma, dtype=np.float64) ** 2 * np.ones(np.shape(y))\n"
            "    r = np.asarray(y, dtype=np.float64) - y_hat\n"
            "    return float(0.5 * np.sum(np.log(2 * np.pi * var)) + np.sum(r * r / var) / 2)\n"),
        "gaussian_mle": (
            "def gaussian_mle(x):\n"
            "    return float(np.mean(x)), float(np.var(x))\n"),
        "bernoulli_mle": (
            "def bernoulli_mle(x):\n"
            "    return np.count_nonzero(x) / len(x)\n"),
        "lasso_lambda_from_laplace_prior": (
            "def lasso_lambda_from_laplace_prior(sigma2, b):\n"
            "    return sigma2 / (b / 2)\n"),
    }),
    Alternative("laplace_lower_median", {"laplace_mle": (
        "def laplace_mle(x):\n"
        "    s = np.sort(x)\n"
        "    mu = s[(len(s) - 1) // 2]\n"
        "    return float(mu), float(np.mean(np.abs(s - mu)))\n")}),
    Alternative("linear_via_normal_equations_and_qr", {
        "mle_linear_gaussian": (
            "def mle_linear_gaussian(X, y):\n"
            "    Q, R = np.linalg.qr(X)\n"
            "    w = np.linalg.solve(R, Q.T @ y)\n"
            "    return w, float(np.sum((y - X @ w) ** 2) / len(y))\n"),
        "map_linear_gaussian": (
            "def map_linear_gaussian(X, y, sigma2, tau2):\n"
            "    n, d = X.shape\n"
            "    lam = ridge_lambda_from_prior(sigma2, tau2)\n"
            "    if d > n:  # dual form: an n x n system\n"
            "        return X.T @ np.linalg.solve(X @ X.T + lam * np.eye(n), y)\n"
            "    return np.linalg.solve(X.T @ X + lam * np.eye(d), X.T @ y)\n"),
    }),
    Alternative("gls_by_cholesky_whitening", {"gls_mle": (
        "def gls_mle(X, y, Sigma):\n"
        "    L = np.linalg.cholesky(Sigma)\n"
        "    Xw, yw = np.linalg.solve(L, X), np.linalg.solve(L, y)\n"
        "    return np.linalg.lstsq(Xw, yw, rcond=None)[0]\n")}),
    Alternative("map_with_augmented_lstsq", {"map_linear_gaussian": (
        "def map_linear_gaussian(X, y, sigma2, tau2):\n"
        "    d = X.shape[1]\n"
        "    A = np.vstack([X / np.sqrt(sigma2), np.eye(d) / np.sqrt(tau2)])\n"
        "    t = np.concatenate([y / np.sqrt(sigma2), np.zeros(d)])\n"
        "    return np.linalg.lstsq(A, t, rcond=None)[0]\n")}),
    Alternative("beta_map_by_cases_on_signs", {"beta_bernoulli_map": (
        "def beta_bernoulli_map(x, a, b):\n"
        "    if min(a, b) <= 0:\n"
        "        raise ValueError('improper prior')\n"
        "    k = int(np.sum(x))\n"
        "    da, db = a + k - 1, b + len(x) - k - 1\n"
        "    if da > 0 and db > 0:\n"
        "        return da / (da + db)\n"
        "    if (da < 0 and db < 0) or da == db == 0:\n"
        "        raise ValueError('no unique mode')\n"
        "    # the log-density falls fastest away from the boundary with the smaller exponent\n"
        "    return 0.0 if da < db else 1.0\n")}),
]

ATTACKS = []
