"""Synthetic submissions for the probability assignment.

Each wrong answer is a classic mistake, and ``fails`` names every check it must lose. The reference
solutions do not call one another, so a mistake in one function never costs points on another.
"""
from dlgrade_grader.submissions import Alternative, Wrong

WRONG = [
    Wrong("power_set_without_empty", {"power_set": (
        "def power_set(omega):\n"
        "    items = list(omega)\n"
        "    return {frozenset(c) for r in range(1, len(items) + 1) for c in combinations(items, r)}\n")},
        fails=["power_set", "power_set.hidden"]),
    Wrong("power_set_without_omega", {"power_set": (
        "def power_set(omega):\n"
        "    items = list(omega)\n"
        "    return {frozenset(c) for r in range(len(items)) for c in combinations(items, r)}\n")},
        fails=["power_set", "power_set.hidden"]),
    Wrong("event_space_without_union", {"is_event_space": (
        "def is_event_space(events, omega):\n"
        "    omega = frozenset(omega)\n"
        "    if omega not in events:\n"
        "        return False\n"
        "    return all(e <= omega and (omega - e) in events for e in events)\n")},
        fails=["is_event_space", "is_event_space.hidden"]),
    Wrong("additivity_on_singletons_only", {"is_probability_measure": (
        "def is_probability_measure(P, omega, tol=1e-9):\n"
        "    omega = frozenset(omega)\n"
        "    if any(v < -tol for v in P.values()) or abs(P[omega] - 1) > tol:\n"
        "        return False\n"
        "    return abs(sum(P[frozenset({w})] for w in omega) - 1) <= tol\n")},
        fails=["is_probability_measure.hidden"]),
    Wrong("pmf_counts_outcomes", {"pmf_of": (
        "def pmf_of(X, P_outcome):\n"
        "    pmf = {}\n"
        "    for w, x in X.items():\n"
        "        pmf[x] = pmf.get(x, 0) + 1\n"
        "    return pmf\n")},
        fails=["pmf_of", "pmf_of.hidden"]),
    Wrong("discrete_means_integer_valued", {"is_discrete_rv_range": (
        "def is_discrete_rv_range(values):\n"
        "    kind = values['kind']\n"
        "    if kind == 'integers':\n"
        "        return True\n"
        "    if kind == 'finite':\n"
        "        return all(float(v).is_integer() for v in values['items'])\n"
        "    if kind == 'union':\n"
        "        return all(is_discrete_rv_range(p) for p in values['parts'])\n"
        "    return False\n")},
        fails=["is_discrete_rv_range", "is_discrete_rv_range.hidden"]),
    Wrong("cdf_strict_inequality", {"cdf_from_pmf": (
        "def cdf_from_pmf(pmf):\n"
        "    def F(x):\n"
        "        return sum(p for a, p in pmf.items() if a < x)\n"
        "    return F\n")},
        fails=["cdf_from_pmf", "cdf_from_pmf.hidden"], says=("F(x) at x =",)),
    Wrong("pdf_check_skips_nonnegativity", {"is_valid_pdf": (
        "def is_valid_pdf(f, lo, hi, n=10_001, tol=1e-3):\n"
        "    x = np.linspace(lo, hi, n)\n"
        "    return bool(abs(np.trapezoid(f(x), x) - 1.0) <= tol)\n")},
        fails=["is_valid_pdf", "is_valid_pdf.hidden"]),
    Wrong("integral_on_a_coarse_grid", {"prob_between": (
        "def prob_between(f, a, b, n=11):\n"
        "    x = np.linspace(a, b, n)\n"
        "    return float(np.trapezoid(f(x), x))\n")},
        fails=["prob_between", "prob_between.hidden"]),
    Wrong("rectangle_ranges_swapped", {"joint_prob_rectangle": (
        "def joint_prob_rectangle(f_xy, a, b, c, d, n=1001):\n"
        "    x, y = np.linspace(c, d, n), np.linspace(a, b, n)\n"
        "    X, Y = np.meshgrid(x, y, indexing='ij')\n"
        "    return float(np.trapezoid(np.trapezoid(f_xy(X, Y), y, axis=1), x))\n")},
        fails=["joint_prob_rectangle", "joint_prob_rectangle.hidden"]),
    Wrong("marginals_swapped", {"marginals": (
        "def marginals(joint):\n"
        "    joint = np.asarray(joint)\n"
        "    return joint.sum(axis=0), joint.sum(axis=1)\n")},
        fails=["marginals", "marginals.hidden"]),
    Wrong("conditional_on_wrong_axis", {"conditional": (
        "def conditional(joint, given_axis):\n"
        "    joint = np.asarray(joint, dtype=float)\n"
        "    p_given = joint.sum(axis=given_axis, keepdims=True)\n"
        "    if np.any(p_given == 0):\n"
        "        raise ValueError('P(B) = 0')\n"
        "    return joint / p_given\n")},
        fails=["conditional", "conditional.hidden", "conditional.zero_prob"]),
    Wrong("conditional_returns_nan", {"conditional": (
        "def conditional(joint, given_axis):\n"
        "    joint = np.asarray(joint, dtype=float)\n"
        "    with np.errstate(invalid='ignore', divide='ignore'):\n"
        "        return joint / joint.sum(axis=1 - given_axis, keepdims=True)\n")},
        fails=["conditional", "conditional.zero_prob"]),
    Wrong("bayes_without_evidence", {"bayes_posterior": (
        "def bayes_posterior(likelihood, prior):\n"
        "    return np.asarray(likelihood, dtype=float) * np.asarray(prior, dtype=float)\n")},
        fails=["bayes_posterior", "bayes_posterior.hidden"]),
    Wrong("base_rate_fallacy", {"posterior_from_counts": (
        "def posterior_from_counts(counts):\n"
        "    (tp, fn), (fp, tn) = np.asarray(counts, dtype=float)\n"
        "    total = tp + fn + fp + tn\n"
        "    likelihood = tp / (tp + fn)\n"
        "    return {'likelihood': likelihood, 'prior': (tp + fn) / total,\n"
        "            'evidence': (tp + fp) / total, 'posterior': likelihood}\n")},
        fails=["posterior_from_counts", "posterior_from_counts.hidden"]),
    Wrong("independence_from_marginals_only", {"is_independent": (
        "def is_independent(joint, tol=1e-9):\n"
        "    joint = np.asarray(joint, dtype=float)\n"
        "    p_x, p_y = joint.sum(axis=1), joint.sum(axis=0)\n"
        "    product_table = np.outer(p_x, p_y)\n"
        "    return bool(np.allclose(product_table.sum(axis=1), p_x, atol=tol)\n"
        "                and np.allclose(product_table.sum(axis=0), p_y, atol=tol))\n")},
        fails=["is_independent", "is_independent.hidden"]),
    Wrong("ci_divides_by_zero", {"is_conditionally_independent": (
        "def is_conditionally_independent(joint_xyz, tol=1e-9):\n"
        "    joint = np.asarray(joint_xyz, dtype=float)\n"
        "    with np.errstate(invalid='ignore', divide='ignore'):\n"
        "        given_z = joint / joint.sum(axis=(0, 1))\n"
        "    product_table = np.einsum('iz,jz->ijz', given_z.sum(axis=1), given_z.sum(axis=0))\n"
        "    return bool(np.all(np.abs(given_z - product_table) <= tol))\n")},
        fails=["is_conditionally_independent.hidden"]),
    Wrong("iid_pairwise_only", {"is_iid_sample_model": (
        "def is_iid_sample_model(joint, tol=1e-9):\n"
        "    joint = np.asarray(joint, dtype=float)\n"
        "    if len(set(joint.shape)) != 1:\n"
        "        return False\n"
        "    pairs = [joint] if joint.ndim == 2 else [joint.sum(axis=k) for k in range(3)]\n"
        "    for pair in pairs:\n"
        "        p, q = pair.sum(axis=1), pair.sum(axis=0)\n"
        "        if np.max(np.abs(pair - np.outer(p, q))) > tol or np.max(np.abs(p - q)) > tol:\n"
        "            return False\n"
        "    return True\n")},
        fails=["is_iid_sample_model.hidden"]),
    Wrong("expectation_unweighted", {"expectation": (
        "def expectation(pmf, g):\n"
        "    return float(np.mean([g(x) for x in pmf]))\n")},
        fails=["expectation", "expectation.hidden"]),
    Wrong("variance_terms_reversed", {"variance": (
        "def variance(pmf, g):\n"
        "    mean = sum(p * g(x) for x, p in pmf.items())\n"
        "    mean_sq = sum(p * g(x) ** 2 for x, p in pmf.items())\n"
        "    return float(mean ** 2 - mean_sq)\n")},
        fails=["variance", "variance.hidden"]),
    Wrong("sample_mean_wrong_axis", {"sample_mean": (
        "def sample_mean(xs):\n"
        "    return np.mean(np.asarray(xs, dtype=float), axis=-1)\n")},
        fails=["sample_mean.hidden"]),
    Wrong("lln_signed_error", {"lln_errors": (
        "def lln_errors(sampler, ns, rng):\n"
        "    return np.array([np.mean(sampler(n, rng)) - sampler.mean for n in ns])\n")},
        fails=["lln_errors", "lln_errors.hidden"]),
    Wrong("population_covariance_with_sample_normaliser", {"covariance_matrix": (
        "def covariance_matrix(values, probs):\n"
        "    values = np.asarray(values, dtype=float)\n"
        "    centred = values - values.mean(axis=0)\n"
        "    return centred.T @ centred / (len(values) - 1)\n")},
        fails=["covariance_matrix", "covariance_matrix.hidden"]),
    Wrong("sample_covariance_ignores_ddof", {"sample_covariance": (
        "def sample_covariance(samples, ddof=1):\n"
        "    samples = np.asarray(samples, dtype=float)\n"
        "    centred = samples - samples.mean(axis=0)\n"
        "    return centred.T @ centred / len(samples)\n")},
        fails=["sample_covariance", "sample_covariance.hidden"]),
    # right numbers, forbidden shortcut: numpy cannot be taken out of the kernel, so only the
    # static audit sees this one and withholds the function's points
    Wrong("sample_covariance_calls_np_cov", {"sample_covariance": (
        "def sample_covariance(samples, ddof=1):\n"
        "    return np.atleast_2d(np.cov(samples, rowvar=False, ddof=ddof))\n")},
        fails=["sample_covariance", "sample_covariance.hidden"], needs_audit=True),
    # one classic slip per function not covered above
    Wrong("coin_outcomes_as_tuples", {"coin_sample_space": (
        "from itertools import product\n"
        "def coin_sample_space(n):\n"
        "    return set(product('HT', repeat=n))\n")},
        fails=["coin_sample_space", "coin_sample_space.hidden"]),
    Wrong("die_faces_from_zero", {"die_sample_space": (
        "def die_sample_space():\n"
        "    return set(range(6))\n")},
        fails=["die_sample_space"]),
    Wrong("measure_without_normalisation", {"is_probability_measure": (
        "def is_probability_measure(P, omega, tol=1e-9):\n"
        "    if any(v < -tol for v in P.values()):\n"
        "        return False\n"
        "    return all(abs(P[a | b] - P[a] - P[b]) <= tol for a in P for b in P if not (a & b))\n")},
        fails=["is_probability_measure", "is_probability_measure.hidden"], says=("P(Omega) = 1 not checked",)),
    Wrong("measure_without_empty_event", {"measure_from_pmf": (
        "def measure_from_pmf(pmf):\n"
        "    outcomes = list(pmf)\n"
        "    return {frozenset(c): float(sum(pmf[w] for w in c))\n"
        "            for r in range(1, len(outcomes) + 1) for c in combinations(outcomes, r)}\n")},
        fails=["measure_from_pmf", "measure_from_pmf.hidden"]),
    Wrong("image_instead_of_preimage", {"preimage": (
        "def preimage(X, values, omega):\n"
        "    return {X[w] for w in omega if X[w] in values}\n")},
        fails=["preimage", "preimage.hidden"]),
    Wrong("cdf_pdf_riemann_step_off_by_one", {"cdf_from_pdf": (
        "def cdf_from_pdf(f, lo, n=10_001):\n"
        "    def F(x):\n"
        "        if x <= lo:\n"
        "            return 0.0\n"
        "        t = np.linspace(lo, x, n)\n"
        "        return float(np.sum(f(t)) * (x - lo) / n)\n"
        "    return F\n")},
        fails=["cdf_from_pdf", "cdf_from_pdf.hidden"]),
    Wrong("conditional_independence_as_marginal", {"is_conditionally_independent": (
        "def is_conditionally_independent(joint_xyz, tol=1e-9):\n"
        "    joint = np.asarray(joint_xyz, dtype=float).sum(axis=2)\n"
        "    return bool(np.max(np.abs(joint - np.outer(joint.sum(axis=1), joint.sum(axis=0)))) <= tol)\n")},
        fails=["is_conditionally_independent", "is_conditionally_independent.hidden"]),
    Wrong("iid_without_identical_marginals", {"is_iid_sample_model": (
        "def is_iid_sample_model(joint, tol=1e-9):\n"
        "    joint = np.asarray(joint, dtype=float)\n"
        "    axes = range(joint.ndim)\n"
        "    margs = [joint.sum(axis=tuple(a for a in axes if a != k)) for k in axes]\n"
        "    product_table = margs[0]\n"
        "    for m in margs[1:]:\n"
        "        product_table = np.multiply.outer(product_table, m)\n"
        "    return bool(np.max(np.abs(joint - product_table)) <= tol)\n")},
        fails=["is_iid_sample_model", "is_iid_sample_model.hidden"]),
    Wrong("expectation_pdf_without_density", {"expectation_pdf": (
        "def expectation_pdf(f, g, lo, hi, n=10_001):\n"
        "    x = np.linspace(lo, hi, n)\n"
        "    return float(np.trapezoid(g(x), x))\n")},
        fails=["expectation_pdf", "expectation_pdf.hidden"]),
    Wrong("sample_mean_over_n_minus_1", {"sample_mean": (
        "def sample_mean(xs):\n"
        "    xs = np.asarray(xs, dtype=float)\n"
        "    if xs.shape[0] == 0:\n"
        "        raise ValueError('no samples')\n"
        "    return xs.sum(axis=0) / (xs.shape[0] - 1)\n")},
        fails=["sample_mean", "sample_mean.hidden"]),
    # one sentence of a contract each, which no graded case exercised before
    Wrong("measure_without_nonnegativity", {"is_probability_measure": (
        "def is_probability_measure(P, omega, tol=1e-9):\n"
        "    omega = frozenset(omega)\n"
        "    if abs(P[omega] - 1.0) > tol:\n"
        "        return False\n"
        "    return all(abs(P[a | b] - P[a] - P[b]) <= tol for a in P for b in P if not (a & b))\n")},
        fails=["is_probability_measure", "is_probability_measure.hidden"], says=("non-negativity not checked",)),
    Wrong("measure_negative_without_tol", {"is_probability_measure": (
        "def is_probability_measure(P, omega, tol=1e-9):\n"
        "    omega = frozenset(omega)\n"
        "    if any(v < 0 for v in P.values()) or abs(P[omega] - 1.0) > tol:\n"
        "        return False\n"
        "    return all(abs(P[a | b] - P[a] - P[b]) <= tol for a in P for b in P if not (a & b))\n")},
        fails=["is_probability_measure.hidden"], says=("negative only below -tol",)),
    Wrong("pdf_integral_compared_without_tol", {"is_valid_pdf": (
        "def is_valid_pdf(f, lo, hi, n=10_001, tol=1e-3):\n"
        "    x = np.linspace(lo, hi, n)\n"
        "    y = f(x)\n"
        "    return bool(np.all(y >= 0) and np.isclose(np.trapezoid(y, x), 1.0))\n")},
        fails=["is_valid_pdf.hidden"], says=("use the tol argument",)),
    Wrong("conditional_raises_on_any_zero_row", {"conditional": (
        "def conditional(joint, given_axis):\n"
        "    joint = np.asarray(joint, dtype=float)\n"
        "    p_given = joint.sum(axis=1 - given_axis, keepdims=True)\n"
        "    if np.any(joint.sum(axis=1) == 0) or np.any(p_given == 0):\n"
        "        raise ValueError('a value conditioned on has probability 0')\n"
        "    return joint / p_given\n")},
        fails=["conditional", "conditional.zero_prob"], says=("raised on a zero row while conditioning on Y",)),
    Wrong("iid_compares_sizes_not_laws", {"is_iid_sample_model": (
        "def is_iid_sample_model(joint, tol=1e-9):\n"
        "    joint = np.asarray(joint, dtype=float)\n"
        "    if len(set(joint.shape)) != 1:\n"
        "        return False\n"
        "    axes = range(joint.ndim)\n"
        "    margs = [joint.sum(axis=tuple(a for a in axes if a != k)) for k in axes]\n"
        "    product_table = margs[0]\n"
        "    for m in margs[1:]:\n"
        "        product_table = np.multiply.outer(product_table, m)\n"
        "    return bool(np.max(np.abs(joint - product_table)) <= tol)\n")},
        fails=["is_iid_sample_model", "is_iid_sample_model.hidden"], says=("laws are identical",)),
    Wrong("lln_sizes_sorted", {"lln_errors": (
        "def lln_errors(sampler, ns, rng):\n"
        "    error_at = {n: abs(np.mean(sampler(n, rng)) - sampler.mean) for n in sorted(set(ns))}\n"
        "    return np.array([error_at[n] for n in ns])\n")},
        fails=["lln_errors.hidden"], says=("in the order given",)),
    Wrong("sample_covariance_ddof_as_flag", {"sample_covariance": (
        "def sample_covariance(samples, ddof=1):\n"
        "    samples = np.asarray(samples, dtype=float)\n"
        "    centred = samples - samples.mean(axis=0)\n"
        "    n = samples.shape[0]\n"
        "    return centred.T @ centred / (n - 1 if ddof else n)\n")},
        fails=["sample_covariance.hidden"], says=("1/(n - ddof) for any ddof",)),
    Wrong("pmf_drops_zero_probability_values", {"pmf_of": (
        "def pmf_of(X, P_outcome):\n"
        "    pmf = {}\n"
        "    for w, x in X.items():\n"
        "        if P_outcome[w] > 0:\n"
        "            pmf[x] = pmf.get(x, 0.0) + P_outcome[w]\n"
        "    return pmf\n")},
        fails=["pmf_of.hidden"], says=("is still a key",)),
]

ALTERNATIVES = [
    Alternative("itertools_and_lists", {
        "coin_sample_space": (
            "def coin_sample_space(n):\n"
            "    return sorted(''.join(t) for t in product('HT', repeat=n))\n"),
        "power_set": (
            "def power_set(omega):\n"
            "    items = list(omega)\n"
            "    return {frozenset(c) for r in range(len(items) + 1) for c in combinations(items, r)}\n"),
        "measure_from_pmf": (
            "def measure_from_pmf(pmf):\n"
            "    items = list(pmf)\n"
            "    P = {}\n"
            "    for mask in range(2 ** len(items)):\n"
            "        chosen = [w for i, w in enumerate(items) if mask >> i & 1]\n"
            "        P[frozenset(chosen)] = math.fsum(pmf[w] for w in chosen)\n"
            "    return P\n"),
        "preimage": (
            "def preimage(X, values, omega):\n"
            "    out = set()\n"
            "    for w in omega:\n"
            "        if X[w] in values:\n"
            "            out.add(w)\n"
            "    return out\n"),
    }),
    Alternative("vectorised_and_loop_moments", {
        "expectation": (
            "def expectation(pmf, g):\n"
            "    xs = np.array(list(pmf), dtype=float)\n"
            "    ps = np.array(list(pmf.values()), dtype=float)\n"
            "    return float(ps @ g(xs))\n"),
        "variance": (
            "def variance(pmf, g):\n"
            "    total, total_sq = 0.0, 0.0\n"
            "    for x, p in pmf.items():\n"
            "        total += p * g(x)\n"
            "        total_sq += p * g(x) ** 2\n"
            "    return total_sq - total ** 2\n"),
        "sample_mean": (
            "def sample_mean(xs):\n"
            "    if len(xs) == 0:\n"
            "        raise ValueError('no samples')\n"
            "    return np.mean(np.asarray(xs, dtype=float), axis=0)\n"),
        "lln_errors": (
            "def lln_errors(sampler, ns, rng):\n"
            "    return np.abs(np.array([sampler(n, rng).mean() for n in ns]) - sampler.mean)\n"),
    }),
    Alternative("simpson_integration", {
        "prob_between": (
            "def prob_between(f, a, b, n=2001):\n"
            "    if a == b:\n"
            "        return 0.0\n"
            "    x = np.linspace(a, b, 2 * n + 1)\n"
            "    h = (b - a) / (2 * n)\n"
            "    y = f(x)\n"
            "    return float(h / 3 * (y[0] + y[-1] + 4 * y[1:-1:2].sum() + 2 * y[2:-1:2].sum()))\n"),
        "cdf_from_pdf": (
            "def cdf_from_pdf(f, lo, n=20_001):\n"
            "    def F(x):\n"
            "        t = np.linspace(lo, max(x, lo), n)\n"
            "        y = f(t)\n"
            "        return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(t)))\n"
            "    return F\n"),
        "expectation_pdf": (
            "def expectation_pdf(f, g, lo, hi):\n"
            "    x = np.linspace(lo, hi, 20_001)\n"
            "    y = f(x) * g(x)\n"
            "    h = x[1] - x[0]\n"
            "    return float(h / 3 * (y[0] + y[-1] + 4 * y[1:-1:2].sum() + 2 * y[2:-1:2].sum()))\n"),
        "joint_prob_rectangle": (
            "def joint_prob_rectangle(f_xy, a, b, c, d):\n"
            "    x, y = np.linspace(a, b, 801), np.linspace(c, d, 801)\n"
            "    wx = np.full(801, x[1] - x[0]); wx[[0, -1]] /= 2\n"
            "    wy = np.full(801, y[1] - y[0]); wy[[0, -1]] /= 2\n"
            "    return float(wx @ f_xy(x[:, None], y[None, :]) @ wy)\n"),
    }),
    Alternative("loops_over_tables", {
        "marginals": (
            "def marginals(joint):\n"
            "    n, m = len(joint), len(joint[0])\n"
            "    p_x = np.array([sum(joint[i][j] for j in range(m)) for i in range(n)])\n"
            "    p_y = np.array([sum(joint[i][j] for i in range(n)) for j in range(m)])\n"
            "    return p_x, p_y\n"),
        "conditional": (
            "def conditional(joint, given_axis):\n"
            "    table = np.asarray(joint, dtype=float)\n"
            "    if given_axis == 1:\n"
            "        return conditional(table.T, 0).T\n"
            "    out = np.empty_like(table)\n"
            "    for i, row in enumerate(table):\n"
            "        total = row.sum()\n"
            "        if total <= 0:\n"
            "            raise ValueError(f'P(X = x_{i}) = 0, so P(Y | X = x_{i}) is undefined')\n"
            "        out[i] = row / total\n"
            "    return out\n"),
        "is_independent": (
            "def is_independent(joint, tol=1e-9):\n"
            "    joint = np.asarray(joint, dtype=float)\n"
            "    p_x, p_y = joint.sum(axis=1), joint.sum(axis=0)\n"
            "    return all(abs(joint[i, j] - p_x[i] * p_y[j]) <= tol\n"
            "               for i in range(len(p_x)) for j in range(len(p_y)))\n"),
        "is_iid_sample_model": (
            "def is_iid_sample_model(joint, tol=1e-9):\n"
            "    joint = np.asarray(joint, dtype=float)\n"
            "    if len(set(joint.shape)) != 1:\n"
            "        return False\n"
            "    p = joint.sum(axis=tuple(range(1, joint.ndim)))\n"
            "    letters = 'ijk'[:joint.ndim]\n"
            "    model = np.einsum(','.join(letters) + '->' + letters, *[p] * joint.ndim)\n"
            "    return bool(np.all(np.abs(joint - model) <= tol))\n"),
        "cdf_from_pmf": (
            "def cdf_from_pmf(pmf):\n"
            "    def F(x):\n"
            "        total = 0.0\n"
            "        for a, p in pmf.items():\n"
            "            if a <= x:\n"
            "                total += p\n"
            "        return total\n"
            "    return F\n"),
    }),
    Alternative("einsum_covariances", {
        "covariance_matrix": (
            "def covariance_matrix(values, probs):\n"
            "    values, probs = np.asarray(values, dtype=float), np.asarray(probs, dtype=float)\n"
            "    mu = np.einsum('k,kd->d', probs, values)\n"
            "    c = values - mu\n"
            "    return np.einsum('k,ki,kj->ij', probs, c, c)\n"),
        "sample_covariance": (
            "def sample_covariance(samples, ddof=1):\n"
            "    x = np.asarray(samples, dtype=float)\n"
            "    n, d = x.shape\n"
            "    mean = x.mean(axis=0)\n"
            "    out = np.zeros((d, d))\n"
            "    for row in x:\n"
            "        out += np.outer(row - mean, row - mean)\n"
            "    return out / (n - ddof)\n"),
    }),
]

ATTACKS = []
