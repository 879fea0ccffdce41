"""Checks for the probability assignment (seed 002, Q1-Q22): the grader's half.

Case generators, trusted references and mistake models for the specs in
:mod:`dlgrade.hw.probability` (the student's half: how each check calls the
student's code and compares the answer). Never installed where student code runs.

Every reference here is computed without the student's formula:
- finite spaces by exhaustive enumeration (bit masks over the outcomes, explicit
  loops over every pair of events, ``math.fsum`` for sums);
- densities by composite Gauss-Legendre quadrature, split at every point where
  the density is not smooth, on far more nodes than the trapezoid grid a student
  would use;
- covariances with ``np.cov``.

Tolerances (also stated in the notebook, and set on the student's side): exact or
float64 round-off (rtol 1e-7, atol 1e-9) for finite spaces; ``INTEGRAL_RTOL`` /
``INTEGRAL_ATOL`` for anything a student computes by numerical integration.
"""
from __future__ import annotations

import math
from itertools import product

import numpy as np

from dlgrade.hw import probability as student
from dlgrade.hw.probability import _G, BOOL_TOL, Sampler, _raw_pdf, _raw_pdf2, g_function  # the objects handed to students

from ..checks import Mistake, Registry
from . import DEFAULT_FORBIDDEN

REGISTRY = Registry(student.SPECS)
# np.cov is the grader's reference for the covariance questions; scipy and
# statistics would answer the integration and moment questions for the student.
FORBIDDEN_IN_SOLUTIONS = set(DEFAULT_FORBIDDEN) | {"scipy", "statistics", "np.cov", "numpy.cov"}


# ---------------------------------------------------------------------------
# trusted numerical integration (finer than any student grid)
# ---------------------------------------------------------------------------
def _breaks(spec) -> tuple:
    kind = spec[0]
    if kind == "exponential":
        return (0.0,)
    if kind == "uniform":
        return (spec[1], spec[2])
    if kind == "triangle":
        return tuple(spec[1:4])
    if kind in ("beta22", "wavy"):
        return (0.0, 1.0)
    if kind == "scaled":
        return _breaks(spec[2])
    return ()


_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)


def _gl_nodes(lo, hi, panels):
    edges = np.linspace(lo, hi, panels + 1)
    mid, half = (edges[:-1] + edges[1:]) / 2, (edges[1:] - edges[:-1]) / 2
    return (mid[:, None] + half[:, None] * _GL_X).ravel(), (half[:, None] * _GL_W).ravel()


def integrate(fn, a, b, breaks=(), panels=400) -> float:
    """Composite Gauss-Legendre on [a, b], split where ``fn`` is not smooth."""
    if a == b:
        return 0.0
    sign = 1.0
    if a > b:
        a, b, sign = b, a, -1.0
    pts = sorted({float(a), float(b)} | {float(t) for t in breaks if a < t < b})
    total = 0.0
    for lo, hi in zip(pts[:-1], pts[1:]):
        x, w = _gl_nodes(lo, hi, panels)
        total += float(np.dot(w, fn(x)))
    return sign * total


def integrate2(fn, a, b, c, d, panels=40) -> float:
    x, wx = _gl_nodes(a, b, panels)
    y, wy = _gl_nodes(c, d, panels)
    X, Y = np.meshgrid(x, y, indexing="ij")
    return float(wx @ fn(X, Y) @ wy)


# ---------------------------------------------------------------------------
# references by enumeration
# ---------------------------------------------------------------------------
def _sorted(omega):
    return sorted(omega, key=lambda v: (str(type(v)), v))


def ref_power_set(omega) -> frozenset:
    items = _sorted(omega)
    return frozenset(frozenset(x for i, x in enumerate(items) if mask >> i & 1)
                     for mask in range(1 << len(items)))


def ref_is_event_space(events, omega) -> bool:
    omega = frozenset(omega)
    fam = [frozenset(e) for e in events]
    members = set(fam)
    if omega not in members:
        return False
    for e in fam:
        if not e <= omega or (omega - e) not in members:
            return False
    for e1 in fam:
        for e2 in fam:
            if (e1 | e2) not in members:
                return False
    return True


def ref_is_probability_measure(P, omega, tol=BOOL_TOL) -> bool:
    omega = frozenset(omega)
    events = list(ref_power_set(omega))
    if any(e not in P for e in events):
        return False
    if any(P[e] < -tol for e in events):
        return False
    if abs(P[omega] - 1.0) > tol:
        return False
    for e1 in events:
        for e2 in events:
            if not (e1 & e2) and abs(P[e1 | e2] - (P[e1] + P[e2])) > tol:
                return False
    return True


def ref_measure_from_pmf(pmf) -> dict:
    items = _sorted(pmf)
    out = {}
    for mask in range(1 << len(items)):
        chosen = [x for i, x in enumerate(items) if mask >> i & 1]
        out[frozenset(chosen)] = math.fsum(pmf[x] for x in chosen)
    return out


def ref_pmf_of(X, P) -> dict:
    return {v: math.fsum(P[w] for w in X if X[w] == v) for v in set(X.values())}


def ref_is_countable(desc) -> bool:
    kind = desc["kind"]
    if kind in ("finite", "integers", "rationals"):
        return True
    if kind == "interval":
        return desc["lo"] >= desc["hi"]  # a point or empty: otherwise uncountable
    if kind == "union":
        return all(ref_is_countable(p) for p in desc["parts"])
    raise ValueError(kind)


def ref_cdf_pmf(pmf, xs):
    return np.array([math.fsum(p for a, p in pmf.items() if a <= x) for x in xs])


def ref_marginals(joint):
    joint = np.asarray(joint)
    n, m = joint.shape
    return (np.array([math.fsum(joint[i, j] for j in range(m)) for i in range(n)]),
            np.array([math.fsum(joint[i, j] for i in range(n)) for j in range(m)]))


def ref_conditional(joint, given_axis):
    joint = np.asarray(joint)
    n, m = joint.shape
    out = np.zeros((n, m))
    if given_axis == 0:
        for i in range(n):
            pb = math.fsum(joint[i, :])
            if pb == 0:
                return "raised ValueError"
            for j in range(m):
                out[i, j] = joint[i, j] / pb
    else:
        for j in range(m):
            pb = math.fsum(joint[:, j])
            if pb == 0:
                return "raised ValueError"
            for i in range(n):
                out[i, j] = joint[i, j] / pb
    return out


def ref_bayes(likelihood, prior):
    joint = [l * p for l, p in zip(likelihood, prior)]
    evidence = math.fsum(joint)
    if evidence == 0:
        return "raised ValueError"
    return np.array([j / evidence for j in joint])


def ref_posterior_counts(counts) -> dict:
    (tp, fn), (fp, tn) = np.asarray(counts, dtype=float).tolist()
    total = tp + fn + fp + tn
    # posterior by counting the people who tested positive: no Bayes formula involved
    return {"likelihood": tp / (tp + fn), "prior": (tp + fn) / total,
            "evidence": (tp + fp) / total, "posterior": tp / (tp + fp)}


def _factorises(joint, tol) -> bool:
    joint = np.asarray(joint, dtype=float)
    margs = []
    for axis in range(joint.ndim):
        margs.append([math.fsum(joint[idx] for idx in np.ndindex(joint.shape) if idx[axis] == k)
                      for k in range(joint.shape[axis])])
    for idx in np.ndindex(joint.shape):
        prod = 1.0
        for axis, k in enumerate(idx):
            prod *= margs[axis][k]
        if abs(joint[idx] - prod) > tol:
            return False
    return True


def ref_is_independent(joint, tol) -> bool:
    return _factorises(joint, tol)


def ref_is_ci(joint, tol) -> bool:
    joint = np.asarray(joint, dtype=float)
    for z in range(joint.shape[2]):
        pz = math.fsum(joint[:, :, z].ravel())
        if pz == 0:
            continue  # P(. | Z=z) is undefined and imposes nothing
        if not _factorises(joint[:, :, z] / pz, tol):
            return False
    return True


def ref_is_iid(joint, tol) -> bool:
    joint = np.asarray(joint, dtype=float)
    if len(set(joint.shape)) != 1:
        return False
    if not _factorises(joint, tol):
        return False
    margs = [joint.sum(axis=tuple(a for a in range(joint.ndim) if a != axis)) for axis in range(joint.ndim)]
    return all(np.max(np.abs(m - margs[0])) <= tol for m in margs[1:])


def ref_expectation(pmf, g) -> float:
    return math.fsum(p * float(g(x)) for x, p in pmf.items())


def ref_variance(pmf, g) -> float:
    mean = ref_expectation(pmf, g)
    return math.fsum(p * (float(g(x)) - mean) ** 2 for x, p in pmf.items())


def ref_sample_mean(xs):
    xs = np.asarray(xs, dtype=float)
    if xs.shape[0] == 0:
        return "raised ValueError"
    if xs.ndim == 1:
        return math.fsum(xs.tolist()) / len(xs)
    return np.array([math.fsum(xs[:, j].tolist()) / xs.shape[0] for j in range(xs.shape[1])])


def ref_lln(spec, ns, seed):
    sampler, rng = Sampler(*spec), np.random.default_rng(seed)
    out = []
    for n in ns:
        xs = sampler(n, rng)
        out.append(abs(math.fsum(xs.tolist()) / n - sampler.mean))
    return np.array(out)


def ref_covariance_matrix(values, probs):
    values = np.asarray(values, dtype=float)
    return np.atleast_2d(np.cov(values, rowvar=False, aweights=np.asarray(probs, float), bias=True))


def ref_sample_covariance(samples, ddof):
    return np.atleast_2d(np.cov(np.asarray(samples, dtype=float), rowvar=False, ddof=ddof))


# ---------------------------------------------------------------------------
# case generators
# ---------------------------------------------------------------------------
DIE = frozenset(range(1, 7))
COIN2 = frozenset({"HH", "HT", "TH", "TT"})


def _random_pmf(rng, outcomes, zero=False):
    w = rng.uniform(0.2, 1.0, size=len(outcomes))
    if zero:
        w[rng.integers(len(outcomes))] = 0.0
    w = w / w.sum()
    return {o: float(p) for o, p in zip(outcomes, w)}


def _sigma_algebra(atoms):
    fam = set()
    for mask in range(1 << len(atoms)):
        fam.add(frozenset().union(*[a for i, a in enumerate(atoms) if mask >> i & 1]))
    return fam


def _random_partition(rng, omega, k):
    items = list(omega)
    rng.shuffle(items)
    cuts = sorted(rng.choice(np.arange(1, len(items)), size=k - 1, replace=False).tolist())
    return [frozenset(items[a:b]) for a, b in zip([0] + cuts, cuts + [len(items)])]


def _coin_cases_visible(rng):
    return [("2 tosses", {"n": 2})]


def _coin_cases_hidden(rng):
    return [(f"{n} toss{'es' * (n != 1)}", {"n": n}) for n in (1, 3, int(rng.choice([4, 5])))]


def _power_set_cases(rng):
    return [("a coin {H, T}", {"omega": frozenset({"H", "T"})}),
            ("two coins", {"omega": COIN2}),
            ("a die", {"omega": DIE})]


def _power_set_hidden(rng):
    k = int(rng.integers(3, 6))
    omega = frozenset(int(v) for v in rng.choice(np.arange(10, 99), size=k, replace=False))
    return [("the empty set", {"omega": frozenset()}),
            ("a single outcome", {"omega": frozenset({"only"})}),
            (f"{k} outcomes", {"omega": omega})]


def _event_space_visible(rng):
    evens, odds = frozenset({2, 4, 6}), frozenset({1, 3, 5})
    return [("power set of a coin", {"events": ref_power_set({"H", "T"}), "omega": frozenset({"H", "T"})}),
            ("{empty, evens, odds, die}", {"events": {frozenset(), evens, odds, DIE}, "omega": DIE}),
            ("Omega missing", {"events": {frozenset(), frozenset({1}), frozenset(range(2, 7))}, "omega": DIE}),
            ("not closed under union",
             {"events": {frozenset(), frozenset({1}), frozenset({2}), frozenset({2, 3, 4, 5, 6}),
                         frozenset({1, 3, 4, 5, 6}), DIE}, "omega": DIE})]


def _event_space_hidden(rng):
    atoms = _random_partition(rng, DIE, int(rng.integers(3, 5)))
    good = _sigma_algebra(atoms)
    a = atoms[0]
    no_compl = {frozenset(), a, a | atoms[1], DIE}  # closed under union, not complement
    a0, a1 = atoms[0], atoms[1]
    no_union = {frozenset(), DIE, a0, DIE - a0, a1, DIE - a1}  # closed under complement only
    return [("generated by a random partition", {"events": good, "omega": DIE}),
            ("closed under complement but not union", {"events": no_union, "omega": DIE}),
            ("the trivial family", {"events": {frozenset(), DIE}, "omega": DIE}),
            ("closed under union but not complement", {"events": no_compl, "omega": DIE}),
            ("an event outside Omega", {"events": good | {frozenset({7})}, "omega": DIE}),
            ("Omega only (no empty set)", {"events": {DIE}, "omega": DIE}),
            ("empty Omega", {"events": {frozenset()}, "omega": frozenset()})]


def _measure_visible(rng):
    die = ref_measure_from_pmf({k: 1 / 6 for k in range(1, 7)})
    coin = {frozenset(): 0.0, frozenset({"H"}): -0.1, frozenset({"T"}): 1.1, frozenset({"H", "T"}): 1.0}
    short = {e: 0.9 * p for e, p in ref_measure_from_pmf({"H": 0.5, "T": 0.5}).items()}
    coin_add = {frozenset(): 0.0, frozenset({"H"}): 0.5, frozenset({"T"}): 0.4, frozenset({"H", "T"}): 1.0}
    return [("a fair die", {"P": die, "omega": DIE}),
            ("a negative probability", {"P": coin, "omega": frozenset({"H", "T"})}),
            ("P(Omega) = 0.9", {"P": short, "omega": frozenset({"H", "T"})}),
            ("P(H) + P(T) != P(Omega)", {"P": coin_add, "omega": frozenset({"H", "T"})})]


def _measure_hidden(rng):
    pmf = _random_pmf(rng, list(range(1, 7)))
    good = ref_measure_from_pmf(pmf)
    noisy = {e: p + float(rng.uniform(-1e-12, 1e-12)) for e, p in good.items()}
    pair = frozenset(int(v) for v in rng.choice(np.arange(1, 7), size=2, replace=False))
    bad_pair = dict(good)
    bad_pair[pair] = good[pair] + 0.05
    bad_empty = dict(good)
    bad_empty[frozenset()] = 0.1
    coin = {"HH": 0.25, "HT": 0.25, "TH": 0.25, "TT": 0.25}
    return [("a loaded die", {"P": good, "omega": DIE}),
            ("round-off below tol", {"P": noisy, "omega": DIE}),
            ("fails only additivity (a pair of outcomes)", {"P": bad_pair, "omega": DIE}),
            ("P(empty set) = 0.1", {"P": bad_empty, "omega": DIE}),
            ("two fair coins", {"P": ref_measure_from_pmf(coin), "omega": COIN2})]


def _singletons_only(inp):
    P, omega = inp["P"], frozenset(inp["omega"])
    return (all(v >= -BOOL_TOL for v in P.values()) and abs(P[omega] - 1) <= BOOL_TOL
            and abs(math.fsum(P[frozenset({w})] for w in omega) - 1) <= BOOL_TOL)


def _mfp_visible(rng):
    return [("a fair coin", {"pmf": {"H": 0.5, "T": 0.5}}),
            ("a loaded die", {"pmf": {1: 0.1, 2: 0.1, 3: 0.1, 4: 0.1, 5: 0.1, 6: 0.5}})]


def _mfp_hidden(rng):
    return [("random pmf on 4 outcomes", {"pmf": _random_pmf(rng, ["a", "b", "c", "d"])}),
            ("a zero-probability outcome", {"pmf": _random_pmf(rng, [1, 2, 3, 4, 5], zero=True)}),
            ("a single outcome", {"pmf": {"only": 1.0}})]


def _heads(w):
    return sum(c == "H" for c in w)


def _coin_space(n):
    return frozenset("".join(t) for t in product("HT", repeat=n))


def _preimage_visible(rng):
    X = {w: _heads(w) for w in COIN2}
    return [("one head in two tosses", {"X": X, "values": {1}, "omega": COIN2}),
            ("0 or 2 heads", {"X": X, "values": {0, 2}, "omega": COIN2})]


def _preimage_hidden(rng):
    omega = _coin_space(3)
    X = {w: _heads(w) for w in omega}
    k = int(rng.integers(0, 4))
    Y = {d: d % 3 for d in DIE}
    return [(f"{k} heads in three tosses", {"X": X, "values": {k}, "omega": omega}),
            ("a value X never takes", {"X": X, "values": {7}, "omega": omega}),
            ("die mod 3 in {0, 2}", {"X": Y, "values": {0, 2}, "omega": DIE}),
            ("no values at all", {"X": Y, "values": set(), "omega": DIE})]


def _pmf_of_visible(rng):
    X = {w: _heads(w) for w in COIN2}
    return [("heads in two fair tosses", {"X": X, "P": {w: 0.25 for w in COIN2}})]


def _pmf_of_hidden(rng):
    omega = sorted(_coin_space(3))
    X = {w: _heads(w) for w in omega}
    die = _random_pmf(rng, list(range(1, 7)), zero=True)
    return [("heads in three biased tosses", {"X": X, "P": _random_pmf(rng, omega)}),
            ("a loaded die, parity", {"X": {d: d % 2 for d in DIE}, "P": die}),
            ("a loaded die, half the face", {"X": {d: d / 2 for d in DIE}, "P": die})]


def _count_outcomes(inp):
    out = {}
    for w, v in inp["X"].items():
        out[v] = out.get(v, 0) + 1
    return out


def _countable_visible(rng):
    return [("the integers", {"desc": {"kind": "integers"}}),
            ("the interval [0, 1]", {"desc": {"kind": "interval", "lo": 0.0, "hi": 1.0}}),
            ("{0.5, 1.5, 2.5}", {"desc": {"kind": "finite", "items": [0.5, 1.5, 2.5]}}),
            ("the rationals", {"desc": {"kind": "rationals"}})]


def _countable_hidden(rng):
    a = float(np.round(rng.uniform(-3, 3), 2))
    return [("a single point [a, a]", {"desc": {"kind": "interval", "lo": a, "hi": a}}),
            ("an empty interval", {"desc": {"kind": "interval", "lo": a + 1, "hi": a}}),
            ("integers with {pi, e}", {"desc": {"kind": "union", "parts": [
                {"kind": "integers"}, {"kind": "finite", "items": [math.pi, math.e]}]}}),
            ("rationals with a short interval", {"desc": {"kind": "union", "parts": [
                {"kind": "rationals"}, {"kind": "interval", "lo": a, "hi": a + 1e-6}]}}),
            ("a finite set of irrationals", {"desc": {"kind": "finite", "items": [math.sqrt(2), math.pi]}})]


def _integer_valued(inp):
    def walk(d):
        if d["kind"] == "finite":
            return all(float(v).is_integer() for v in d["items"])
        if d["kind"] == "integers":
            return True
        if d["kind"] == "interval":
            return d["lo"] == d["hi"] and float(d["lo"]).is_integer()
        if d["kind"] == "union":
            return all(walk(p) for p in d["parts"])
        return False
    return walk(inp["desc"])


def _cdf_points(atoms):
    atoms = sorted(atoms)
    pts = [atoms[0] - 1.0] + list(atoms) + [(a + b) / 2 for a, b in zip(atoms[:-1], atoms[1:])] + [atoms[-1] + 2.0]
    return sorted(pts)


def _cdf_pmf_visible(rng):
    die = {k: 1 / 6 for k in range(1, 7)}
    return [("a fair die", {"pmf": die, "xs": _cdf_points(die)})]


def _cdf_pmf_hidden(rng):
    vals = sorted(float(v) for v in np.round(rng.uniform(-2, 2, size=4), 1) + np.arange(4) * 5)
    pmf = _random_pmf(rng, vals, zero=True)
    half = {k / 2: 0.25 for k in range(4)}
    return [("random atoms (one of zero mass)", {"pmf": pmf, "xs": _cdf_points(vals)}),
            ("atoms at multiples of 0.5", {"pmf": half, "xs": _cdf_points(list(half))})]


def _cdf_strict(inp):
    return np.array([math.fsum(p for a, p in inp["pmf"].items() if a < x) for x in inp["xs"]])


def _valid_pdf_visible(rng):
    return [("N(0, 1) on [-10, 10]", {"pdf": ("normal", 0.0, 1.0), "lo": -10.0, "hi": 10.0}),
            ("uniform on [0, 2]", {"pdf": ("uniform", 0.0, 2.0), "lo": 0.0, "hi": 2.0}),
            ("1 + 2 cos(2 pi x) on [0, 1]", {"pdf": ("wavy",), "lo": 0.0, "hi": 1.0}),
            ("twice a triangle", {"pdf": ("scaled", 2.0, ("triangle", 0.0, 1.0, 3.0)), "lo": 0.0, "hi": 3.0})]


def _valid_pdf_hidden(rng):
    lam = float(rng.uniform(0.5, 3.0))
    mu = float(rng.uniform(-2, 2))
    return [("6x(1 - x) on [0, 1]", {"pdf": ("beta22",), "lo": 0.0, "hi": 1.0}),
            ("exponential", {"pdf": ("exponential", lam), "lo": 0.0, "hi": 40.0 / lam}),
            ("a triangle with 97% of the mass", {"pdf": ("scaled", 0.97, ("triangle", -1.0, 0.5, 2.0)),
                                                  "lo": -1.0, "hi": 2.0}),
            ("half a normal's range", {"pdf": ("normal", mu, 1.0), "lo": mu, "hi": mu + 10.0}),
            ("a negative dip", {"pdf": ("scaled", 1.0, ("wavy",)), "lo": 0.0, "hi": 1.0})]


def _ref_valid_pdf(inp):
    f, lo, hi = _raw_pdf(inp["pdf"]), inp["lo"], inp["hi"]
    x, _ = _gl_nodes(lo, hi, 2000)
    grid = np.concatenate([x, np.linspace(lo, hi, 20001)])
    if np.min(f(grid)) < 0:
        return False
    return abs(integrate(f, lo, hi, _breaks(inp["pdf"])) - 1.0) <= 1e-3


def _prob_between_visible(rng):
    return [("N(0, 1) on [-1, 1]", {"pdf": ("normal", 0.0, 1.0), "a": -1.0, "b": 1.0}),
            ("exponential(2) on [0.5, 1.5]", {"pdf": ("exponential", 2.0), "a": 0.5, "b": 1.5})]


def _prob_between_hidden(rng):
    mu, s = float(rng.uniform(-1, 1)), float(rng.uniform(0.5, 2))
    a = float(rng.uniform(-0.8, 0.3))
    return [("a normal", {"pdf": ("normal", mu, s), "a": mu - s, "b": mu + 2 * s}),
            ("across a triangle's peak", {"pdf": ("triangle", -1.0, 0.4, 1.0), "a": a, "b": a + 1.0}),
            ("a = b", {"pdf": ("normal", mu, s), "a": mu, "b": mu}),
            ("6x(1 - x) on [0.1, 0.7]", {"pdf": ("beta22",), "a": 0.1, "b": 0.7})]


def _ref_prob_between(inp):
    return integrate(_raw_pdf(inp["pdf"]), inp["a"], inp["b"], _breaks(inp["pdf"]))


def _cdf_pdf_visible(rng):
    return [("N(0, 1) from -8", {"pdf": ("normal", 0.0, 1.0), "lo": -8.0, "xs": [-8.0, -1.0, 0.0, 1.5]})]


def _cdf_pdf_hidden(rng):
    lam = float(rng.uniform(0.5, 2.0))
    mu = float(rng.uniform(-1, 1))
    return [("exponential from 0", {"pdf": ("exponential", lam), "lo": 0.0,
                                    "xs": [0.0, 0.3 / lam, 1.0 / lam, 3.0 / lam]}),
            ("a normal from mu - 8", {"pdf": ("normal", mu, 1.0), "lo": mu - 8.0, "xs": [mu - 2, mu, mu + 1.7]}),
            ("a triangle, x below lo too", {"pdf": ("triangle", 0.0, 0.3, 1.0), "lo": 0.0,
                                           "xs": [-0.5, 0.2, 0.6, 1.0]})]


def _ref_cdf_pdf(inp):
    f, lo = _raw_pdf(inp["pdf"]), inp["lo"]
    return np.array([0.0 if x <= lo else integrate(f, lo, x, _breaks(inp["pdf"])) for x in inp["xs"]])


def _rect_visible(rng):
    return [("independent normals", {"pdf": ("indep_normal", 0.0, 1.0, 1.0, 2.0), "box": (-1.0, 1.0, 0.0, 3.0)}),
            ("x + y on the unit square", {"pdf": ("xy_sum",), "box": (0.0, 0.5, 0.25, 1.0)})]


def _rect_hidden(rng):
    rho = float(np.round(rng.uniform(-0.8, 0.8), 3))
    a = float(rng.uniform(-1, 0))
    l1, l2 = float(rng.uniform(0.5, 2)), float(rng.uniform(0.5, 2))
    return [("a correlated normal", {"pdf": ("bvn", rho), "box": (a, a + 1.5, -0.5, 1.0)}),
            ("two exponentials", {"pdf": ("exp2", l1, l2), "box": (0.2, 1.2, 0.1, 2.0)}),
            ("x + y, a thin strip", {"pdf": ("xy_sum",), "box": (0.1, 0.9, 0.4, 0.45)})]


def _ref_rect(inp):
    a, b, c, d = inp["box"]
    return integrate2(_raw_pdf2(inp["pdf"]), a, b, c, d)


def _random_joint(rng, shape, zero_row=None, zero_col=None):
    j = rng.uniform(0.05, 1.0, size=shape)
    if zero_row is not None:
        j[zero_row, :] = 0.0
    if zero_col is not None:
        j[:, zero_col] = 0.0
    return j / j.sum()


def _marginals_visible(rng):
    return [("a 2x3 table", {"joint": np.array([[0.1, 0.2, 0.1], [0.3, 0.1, 0.2]])})]


def _marginals_hidden(rng):
    return [("a random 3x4 table", {"joint": _random_joint(rng, (3, 4))}),
            ("a zero row", {"joint": _random_joint(rng, (4, 2), zero_row=1)})]


def _cond_visible(rng):
    j = np.array([[0.1, 0.2, 0.1], [0.3, 0.1, 0.2]])
    return [("given X (rows)", {"joint": j, "axis": 0}), ("given Y (columns)", {"joint": j, "axis": 1})]


def _cond_hidden(rng):
    j = _random_joint(rng, (3, 4))
    j[0, 1] = 0.0
    j = j / j.sum()
    return [("given X, 3x4", {"joint": j, "axis": 0}), ("given Y, 3x4", {"joint": j, "axis": 1}),
            ("given Y, 4x4", {"joint": _random_joint(rng, (4, 4)), "axis": 1})]


def _cond_zero_visible(rng):
    j = np.array([[0.2, 0.3], [0.0, 0.0], [0.1, 0.4]])
    return [("given X with P(X = 1) = 0", {"joint": j, "axis": 0}),
            ("same table given Y", {"joint": j, "axis": 1})]


def _cond_zero_hidden(rng):
    return [("a zero column, given Y", {"joint": _random_joint(rng, (3, 4), zero_col=2), "axis": 1}),
            ("a zero column, given X", {"joint": _random_joint(rng, (3, 4), zero_col=0), "axis": 0}),
            ("a zero row, given X", {"joint": _random_joint(rng, (4, 3), zero_row=3), "axis": 0})]


def _cond_wrong_axis(inp):
    return ref_conditional(inp["joint"], 1 - inp["axis"])


def _bayes_visible(rng):
    return [("two hypotheses", {"likelihood": np.array([0.9, 0.2]), "prior": np.array([0.1, 0.9])}),
            ("three hypotheses", {"likelihood": np.array([0.5, 0.5, 0.1]), "prior": np.array([0.2, 0.3, 0.5])})]


def _bayes_hidden(rng):
    prior = rng.dirichlet(np.ones(5))
    prior0 = prior.copy()
    prior0[2] = 0.0
    prior0 /= prior0.sum()
    return [("five hypotheses", {"likelihood": rng.uniform(0, 1, 5), "prior": prior}),
            ("a hypothesis with prior 0", {"likelihood": rng.uniform(0.1, 1, 5), "prior": prior0}),
            ("evidence 0", {"likelihood": np.array([0.0, 0.7, 0.0]), "prior": np.array([0.6, 0.0, 0.4])})]


def _bayes_unnormalised(inp):
    return np.asarray(inp["likelihood"]) * np.asarray(inp["prior"])


def _counts_visible(rng):
    return [("1% prevalence", {"counts": np.array([[9, 1], [99, 891]])})]


def _counts_hidden(rng):
    tp, fn = (int(v) for v in rng.integers(5, 40, size=2))
    fp, tn = int(rng.integers(20, 200)), int(rng.integers(500, 3000))
    return [("a random study", {"counts": np.array([[tp, fn], [fp, tn]])}),
            ("a perfect test", {"counts": np.array([[30, 0], [0, 970]])})]


def _counts_base_rate(inp):
    out = ref_posterior_counts(inp["counts"])
    out["posterior"] = out["likelihood"]
    return out


def _indep_visible(rng):
    px, py = np.array([0.3, 0.7]), np.array([0.2, 0.5, 0.3])
    return [("a product table", {"joint": np.outer(px, py)}),
            ("a dependent table", {"joint": np.array([[0.3, 0.0, 0.1], [0.0, 0.4, 0.2]])})]


def _indep_hidden(rng):
    px, py = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(4))
    prod = np.outer(px, py)
    noisy = prod + rng.uniform(-1e-12, 1e-12, size=prod.shape)
    d = float(rng.uniform(0.05, 0.2))
    looks = np.array([[0.25 + d, 0.25 - d], [0.25 - d, 0.25 + d]])  # uniform marginals, dependent
    zero = np.outer(np.array([0.5, 0.0, 0.5]), py)
    return [("a random product", {"joint": prod}),
            ("a product with round-off", {"joint": noisy}),
            ("dependent with uniform marginals", {"joint": looks}),
            ("a product with a zero row", {"joint": zero})]


def _ci_from(pz, px_z, py_z):
    return np.einsum("k,ik,jk->ijk", pz, px_z, py_z)


def _ci_visible(rng):
    pz = np.array([0.5, 0.5])
    px_z = np.array([[0.9, 0.2], [0.1, 0.8]])
    py_z = np.array([[0.8, 0.3], [0.2, 0.7]])
    xor = np.zeros((2, 2, 2))
    for x in range(2):
        for y in range(2):
            xor[x, y, x ^ y] = 0.25
    return [("X, Y independent given Z only", {"joint": _ci_from(pz, px_z, py_z)}),
            ("Z = X xor Y", {"joint": xor})]


def _ci_hidden(rng):
    pz = rng.dirichlet(np.ones(3))
    px_z, py_z = rng.dirichlet(np.ones(2), size=3).T, rng.dirichlet(np.ones(3), size=3).T
    ci = _ci_from(pz, px_z, py_z)
    broken = ci.copy()
    e = 0.3 * float(broken[:, :, 1].min())
    broken[0, 0, 1] += e
    broken[1, 0, 1] -= e
    broken[0, 1, 1] -= e
    broken[1, 1, 1] += e
    pz0 = pz.copy()
    pz0[1] = 0.0
    pz0 /= pz0.sum()
    with_zero = _ci_from(pz0, px_z, py_z)
    indep = np.einsum("i,j,k->ijk", rng.dirichlet(np.ones(2)), rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(2)))
    return [("a random CI table", {"joint": ci}),
            ("CI broken in one slice", {"joint": broken}),
            ("a slice with P(Z = z) = 0", {"joint": with_zero}),
            ("fully independent", {"joint": indep})]


def _iid_visible(rng):
    p = np.array([0.2, 0.5, 0.3])
    return [("two IID draws", {"joint": np.outer(p, p)}),
            ("independent, different laws", {"joint": np.outer(p, p[::-1])}),
            ("same marginals, dependent", {"joint": np.array([[0.4, 0.1], [0.1, 0.4]])})]


def _iid_hidden(rng):
    p = rng.dirichlet(np.ones(3))
    triple = np.einsum("i,j,k->ijk", p, p, p)
    xor = np.zeros((2, 2, 2))
    for x in range(2):
        for y in range(2):
            xor[x, y, x ^ y] = 0.25
    q = rng.dirichlet(np.ones(2))
    return [("three IID draws", {"joint": triple}),
            ("pairwise but not mutually independent", {"joint": xor}),
            ("independent, 2 and 3 values", {"joint": np.outer(q, p)}),
            ("two IID draws with round-off", {"joint": np.outer(p, p) + rng.uniform(-1e-12, 1e-12, (3, 3))})]


def _pairwise_only(inp):
    j = np.asarray(inp["joint"])
    if j.ndim == 2:
        return ref_is_iid(j, BOOL_TOL)
    for a, b in ((0, 1), (0, 2), (1, 2)):
        other = 3 - a - b
        if not ref_is_iid(j.sum(axis=other), BOOL_TOL):
            return False
    return True


def _pmf_visible(rng):
    die = {k: 1 / 6 for k in range(1, 7)}
    loaded = {1: 0.1, 2: 0.1, 3: 0.1, 4: 0.1, 5: 0.1, 6: 0.5}
    return [("a fair die, g(x) = x", {"pmf": die, "g": "x"}),
            ("a loaded die, g(x) = x^2", {"pmf": loaded, "g": "x^2"})]


def _pmf_hidden(rng):
    # distinct values: two equal keys would merge in the dict and the pmf would lose mass
    vals = [float(v) for v in rng.choice(np.arange(-300, 301), size=5, replace=False) / 100]
    pmf = _random_pmf(rng, vals, zero=True)
    return [(f"random pmf, g(x) = {g}", {"pmf": pmf, "g": g}) for g in ("|x|", "(x-1)^2", "exp(x/4)", "1[x>1]")]


def _var_wrong_order(inp):
    g = g_function(inp["g"])
    return ref_expectation(inp["pmf"], g) ** 2 - ref_expectation(inp["pmf"], lambda x: g(x) ** 2)


def _epdf_visible(rng):
    return [("E[X] for N(1, 2^2)", {"pdf": ("normal", 1.0, 2.0), "g": "x", "lo": -19.0, "hi": 21.0}),
            ("E[X^2] for 6x(1 - x)", {"pdf": ("beta22",), "g": "x^2", "lo": 0.0, "hi": 1.0})]


def _epdf_hidden(rng):
    lam = float(rng.uniform(0.5, 2))
    mu = float(rng.uniform(-1, 1))
    return [("E[X] exponential", {"pdf": ("exponential", lam), "g": "x", "lo": 0.0, "hi": 40.0 / lam}),
            ("E[X^3] normal", {"pdf": ("normal", mu, 1.0), "g": "x^3", "lo": mu - 12, "hi": mu + 12}),
            ("E[exp(X/4)] triangle", {"pdf": ("triangle", -1.0, 0.0, 2.0), "g": "exp(x/4)", "lo": -1.0, "hi": 2.0})]


def _ref_epdf(inp):
    f, g = _raw_pdf(inp["pdf"]), _G[inp["g"]]
    return integrate(lambda x: f(x) * g(x), inp["lo"], inp["hi"], _breaks(inp["pdf"]))


def _mean_visible(rng):
    return [("ten numbers", {"xs": rng.standard_normal(10)})]


def _mean_hidden(rng):
    return [("a sample of vectors, shape (12, 3)", {"xs": rng.standard_normal((12, 3)) * 3 + 1}),
            ("one number", {"xs": rng.standard_normal(1)}),
            ("no samples", {"xs": np.zeros(0)})]


def _mean_last_axis(inp):
    xs = np.asarray(inp["xs"], dtype=float)
    if xs.size == 0:
        raise ValueError("no model for an empty sample")
    return xs.mean(axis=-1)


def _lln_visible(rng):
    return [("a fair die", {"sampler": ("discrete", [1, 2, 3, 4, 5, 6], [1 / 6] * 6),
                            "ns": [10, 100, 1000], "seed": 7})]


def _lln_hidden(rng):
    return [("a biased coin", {"sampler": ("discrete", [0.0, 1.0], [0.3, 0.7]), "ns": [5, 50, 500, 5000],
                               "seed": int(rng.integers(1 << 30))}),
            ("an exponential", {"sampler": ("exponential", float(rng.uniform(0.5, 3))), "ns": [20, 2000],
                                "seed": int(rng.integers(1 << 30))})]


def _lln_signed(inp):
    sampler, rng = Sampler(*inp["sampler"]), np.random.default_rng(inp["seed"])
    return np.array([sampler(n, rng).mean() - sampler.mean for n in inp["ns"]])


def _cov_visible(rng):
    return [("three points in the plane", {"values": np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0]]),
                                           "probs": np.array([0.5, 0.25, 0.25])})]


def _cov_hidden(rng):
    v = rng.standard_normal((5, 3))
    p = rng.dirichlet(np.ones(5))
    p0 = p.copy()
    p0[1] = 0.0
    p0 /= p0.sum()
    return [("5 values in 3-D", {"values": v, "probs": p}),
            ("a zero-probability value", {"values": v * 2 - 1, "probs": p0}),
            ("uniform over 4 values in 2-D", {"values": rng.standard_normal((4, 2)), "probs": np.full(4, 0.25)}),
            ("a scalar variable, d = 1", {"values": rng.standard_normal((4, 1)), "probs": rng.dirichlet(np.ones(4))})]


def _cov_unweighted(inp):
    v = np.asarray(inp["values"], dtype=float)
    c = v - v.mean(axis=0)
    return c.T @ c / (len(v) - 1)


def _cov_sample_form(inp):
    v, k = np.asarray(inp["values"]), len(inp["probs"])
    return ref_covariance_matrix(v, inp["probs"]) * k / (k - 1)


def _scov_visible(rng):
    return [("20 samples in 2-D, default ddof", {"samples": rng.standard_normal((20, 2)), "ddof": None}),
            ("15 samples in 3-D, ddof = 0", {"samples": rng.standard_normal((15, 3)), "ddof": 0})]


def _scov_hidden(rng):
    A = rng.standard_normal((3, 3))
    return [("30 correlated samples, ddof = 1", {"samples": rng.standard_normal((30, 3)) @ A + 2.0, "ddof": 1}),
            ("10 samples of a scalar", {"samples": rng.standard_normal((10, 1)), "ddof": 1}),
            ("25 samples, ddof = 0", {"samples": rng.standard_normal((25, 2)) * 4, "ddof": 0})]


def _scov_flip(inp):
    n = len(inp["samples"])
    ddof = 1 if inp["ddof"] is None else inp["ddof"]
    return ref_sample_covariance(inp["samples"], ddof) * (n - ddof) / (n - (1 - ddof))


# ---------------------------------------------------------------------------
# the registry: one check per function, visible and hidden cases from one generator
# ---------------------------------------------------------------------------
def _add(id, visible, hidden, reference, mistakes=()):
    """Two case groups per function: ``id`` (visible, fixed seed) and ``id.hidden``
    (hidden only: per-student cases and the edge cases)."""
    REGISTRY.add(id, cases=visible, reference=reference, mistakes=mistakes)
    if hidden is not None:
        REGISTRY.add(f"{id}.hidden", cases=hidden, reference=reference, mistakes=mistakes)


_add("coin_sample_space", _coin_cases_visible, _coin_cases_hidden,
     lambda x: _coin_space(x["n"]),
     mistakes=(Mistake(lambda x: frozenset(product("HT", repeat=x["n"])), "outcomes as tuples, not strings."),))

_add("die_sample_space", lambda rng: [("a die", {})], None,
     lambda x: DIE,
     mistakes=(Mistake(lambda x: frozenset(range(6)), "faces numbered 0..5 instead of 1..6."),))

_add("power_set", _power_set_cases, _power_set_hidden,
     lambda x: ref_power_set(x["omega"]))

_add("is_event_space", _event_space_visible, _event_space_hidden,
     lambda x: ref_is_event_space(x["events"], x["omega"]))

_add("is_probability_measure", _measure_visible, _measure_hidden,
     lambda x: ref_is_probability_measure(x["P"], x["omega"]),
     mistakes=(Mistake(_singletons_only, "additivity checked on singletons only; it must hold for every"
                                         " pair of disjoint events (including the empty set)."),))

_add("measure_from_pmf", _mfp_visible, _mfp_hidden,
     lambda x: ref_measure_from_pmf(x["pmf"]))

_add("preimage", _preimage_visible, _preimage_hidden,
     lambda x: frozenset(w for w in x["omega"] if x["X"][w] in x["values"]))

_add("pmf_of", _pmf_of_visible, _pmf_of_hidden,
     lambda x: ref_pmf_of(x["X"], x["P"]),
     mistakes=(Mistake(_count_outcomes, "counted outcomes instead of adding their probabilities."),
               Mistake(lambda x: dict(x["P"]), "returned the pmf of the outcomes, not of X.")))

_add("is_discrete_rv_range", _countable_visible, _countable_hidden,
     lambda x: ref_is_countable(x["desc"]),
     mistakes=(Mistake(_integer_valued, "'discrete' tested as 'integer-valued'; it means countable."),))

_add("cdf_from_pmf", _cdf_pmf_visible, _cdf_pmf_hidden,
     lambda x: ref_cdf_pmf(x["pmf"], x["xs"]),
     mistakes=(Mistake(_cdf_strict, "used a < x instead of a <= x: F jumps at the atom itself."),))

_add("is_valid_pdf", _valid_pdf_visible, _valid_pdf_hidden,
     _ref_valid_pdf)

_add("prob_between", _prob_between_visible, _prob_between_hidden,
     _ref_prob_between)

_add("cdf_from_pdf", _cdf_pdf_visible, _cdf_pdf_hidden,
     _ref_cdf_pdf)

_add("joint_prob_rectangle", _rect_visible, _rect_hidden,
     _ref_rect,
     mistakes=(Mistake(lambda x: integrate2(_raw_pdf2(x["pdf"]), x["box"][2], x["box"][3], x["box"][0],
                                            x["box"][1]), "the x and y ranges are swapped."),))

_add("marginals", _marginals_visible, _marginals_hidden,
     lambda x: ref_marginals(x["joint"]),
     mistakes=(Mistake(lambda x: ref_marginals(x["joint"])[::-1], "p_X and p_Y are swapped."),))

_add("conditional", lambda rng: _cond_visible(rng) + _cond_zero_visible(rng), _cond_hidden,
     lambda x: ref_conditional(x["joint"], x["axis"]),
     mistakes=(Mistake(_cond_wrong_axis, "conditioned on the wrong axis."),))

_add("conditional.zero_prob", _cond_zero_hidden, None,
     lambda x: ref_conditional(x["joint"], x["axis"]))

_add("bayes_posterior", _bayes_visible, _bayes_hidden,
     lambda x: ref_bayes(x["likelihood"], x["prior"]),
     mistakes=(Mistake(_bayes_unnormalised, "not divided by the evidence P(D)."),))

_add("posterior_from_counts", _counts_visible, _counts_hidden,
     lambda x: ref_posterior_counts(x["counts"]),
     mistakes=(Mistake(_counts_base_rate, "the posterior P(sick | +) was taken to be the likelihood"
                                          " P(+ | sick): the base-rate fallacy."),))

_add("is_independent", _indep_visible, _indep_hidden,
     lambda x: ref_is_independent(x["joint"], BOOL_TOL))

_add("is_conditionally_independent", _ci_visible, _ci_hidden,
     lambda x: ref_is_ci(x["joint"], BOOL_TOL))

_add("is_iid_sample_model", _iid_visible, _iid_hidden,
     lambda x: ref_is_iid(x["joint"], BOOL_TOL),
     mistakes=(Mistake(_pairwise_only, "pairwise independence checked; IID needs the joint to be the"
                                       " product of all n marginals."),))

_add("expectation", _pmf_visible, _pmf_hidden,
     lambda x: ref_expectation(x["pmf"], _G[x["g"]]),
     mistakes=(Mistake(lambda x: math.fsum(float(_G[x["g"]](v)) for v in x["pmf"]) / len(x["pmf"]),
                       "averaged g over the values without weighting by their probabilities."),))

_add("variance", _pmf_visible, _pmf_hidden,
     lambda x: ref_variance(x["pmf"], _G[x["g"]]),
     mistakes=(Mistake(_var_wrong_order, "computed E[g]^2 - E[g^2]; the variance is E[g^2] - E[g]^2."),))

_add("expectation_pdf", _epdf_visible, _epdf_hidden,
     _ref_epdf)

_add("sample_mean", _mean_visible, _mean_hidden,
     lambda x: ref_sample_mean(x["xs"]),
     mistakes=(Mistake(_mean_last_axis, "averaged along the wrong axis."),))

_add("lln_errors", _lln_visible, _lln_hidden,
     lambda x: ref_lln(x["sampler"], x["ns"], x["seed"]),
     mistakes=(Mistake(_lln_signed, "the error must be the absolute value |mean - E[X]|."),))

_add("covariance_matrix", _cov_visible, _cov_hidden,
     lambda x: ref_covariance_matrix(x["values"], x["probs"]),
     mistakes=(Mistake(_cov_sample_form, "a 1/(k - 1) sample correction: this is a population"
                                         " covariance, weighted by the probabilities."),
               Mistake(_cov_unweighted, "the values were treated as samples (1/(k - 1), probs ignored):"
                                        " weight each value by its probability.")))

_add("sample_covariance", _scov_visible, _scov_hidden,
     lambda x: ref_sample_covariance(x["samples"], 1 if x["ddof"] is None else x["ddof"]),
     mistakes=(Mistake(_scov_flip, "1/n and 1/(n - 1) are swapped (ddof ignored?)."),))

REGISTRY.complete()
