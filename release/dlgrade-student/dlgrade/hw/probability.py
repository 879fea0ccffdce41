"""Checks for the probability assignment (seed 002, Q1-Q22): the student's half.

This module is shipped into the student's kernel. It holds:

- the objects the notebook hands to the student's code and imports itself:
  ``density`` and ``joint_density`` (a density from a small spec tuple),
  ``g_function`` (a function g by name) and ``Sampler`` (an IID sampler whose
  ``mean`` attribute is the exact E[X] the problem statement gives);
- for each check, how it calls the student's code (``run``), how an answer is
  compared (tolerances, or a ``judge`` that only compares an expected value with
  the answer) and what hint a failure shows.

It holds no case generator, no reference answer and no mistake model: those live
in the grader package (``dlgrade_grader.hw.probability``), which is never
installed where student code runs.

Every check ``id`` has a hidden twin ``hidden_twin_id(id)`` (``id.hidden``: same
run, more cases and edge cases, drawn only when graded), except
``die_sample_space`` and ``conditional.zero_prob``.

Tolerances (also stated in the notebook): exact or float64 round-off for finite
spaces; ``INTEGRAL_RTOL`` / ``INTEGRAL_ATOL`` for anything a student computes by
numerical integration.

Longer than 400 lines because it holds a spec for each of the notebook's 28
functions, with the densities, samplers and judges those specs use.
"""
from __future__ import annotations

import math

import numpy as np

from ..checks import Spec, Specs, make_check, outcome
from ..compare import Mismatch, compare

SPECS = Specs("probability")

INTEGRAL_RTOL = 1e-5
INTEGRAL_ATOL = 1e-5
BOOL_TOL = 1e-9   # the tol handed to the student's true/false tests


# ---------------------------------------------------------------------------
# callables handed to the student: densities, functions g, samplers
# ---------------------------------------------------------------------------
class _Function:
    """A numpy-friendly function of one variable: scalars in, floats out."""

    def __init__(self, fn, name):
        self._fn, self.name = fn, name

    def __call__(self, x):
        arr = np.asarray(x, dtype=np.float64)
        out = np.asarray(self._fn(arr), dtype=np.float64)
        return float(out) if out.ndim == 0 else out

    def __repr__(self):
        return f"<{self.name}>"


class _JointFunction:
    """A numpy-friendly function of two variables (a joint density)."""

    def __init__(self, fn, name):
        self._fn, self.name = fn, name

    def __call__(self, x, y):
        xa, ya = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        out = np.asarray(self._fn(xa, ya), dtype=np.float64)
        return float(out) if out.ndim == 0 else out

    def __repr__(self):
        return f"<{self.name}>"


def raw_density(spec):
    """The numpy function behind ``density(spec)``, unwrapped (the grader integrates it)."""
    kind = spec[0]
    if kind == "normal":
        mu, s = spec[1], spec[2]
        return lambda x: np.exp(-0.5 * ((x - mu) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    if kind == "exponential":
        lam = spec[1]
        return lambda x: np.where(x >= 0, lam * np.exp(-lam * np.maximum(x, 0.0)), 0.0)
    if kind == "uniform":
        a, b = spec[1], spec[2]
        return lambda x: np.where((x >= a) & (x <= b), 1.0 / (b - a), 0.0)
    if kind == "triangle":
        a, c, b = spec[1], spec[2], spec[3]
        h = 2.0 / (b - a)
        return lambda x: np.where((x >= a) & (x <= c), h * (x - a) / (c - a),
                                  np.where((x > c) & (x <= b), h * (b - x) / (b - c), 0.0))
    if kind == "beta22":
        return lambda x: np.where((x >= 0) & (x <= 1), 6.0 * x * (1.0 - x), 0.0)
    if kind == "wavy":  # integrates to 1 on [0, 1] but dips below zero
        return lambda x: np.where((x >= 0) & (x <= 1), 1.0 + 2.0 * np.cos(2 * np.pi * x), 0.0)
    if kind == "scaled":
        k, inner = spec[1], raw_density(spec[2])
        return lambda x: k * inner(x)
    raise ValueError(f"unknown density {spec!r}")


def density(spec) -> _Function:
    return _Function(raw_density(spec), "density " + " ".join(str(s) for s in spec if not isinstance(s, tuple)))


def raw_joint_density(spec):
    """The numpy function behind ``joint_density(spec)``, unwrapped (the grader integrates it)."""
    kind = spec[0]
    if kind == "indep_normal":
        f1, f2 = raw_density(("normal", spec[1], spec[2])), raw_density(("normal", spec[3], spec[4]))
        return lambda x, y: f1(x) * f2(y)
    if kind == "bvn":
        rho = spec[1]
        c = 1.0 / (2 * math.pi * math.sqrt(1 - rho ** 2))
        return lambda x, y: c * np.exp(-(x ** 2 - 2 * rho * x * y + y ** 2) / (2 * (1 - rho ** 2)))
    if kind == "xy_sum":
        return lambda x, y: np.where((x >= 0) & (x <= 1) & (y >= 0) & (y <= 1), x + y, 0.0)
    if kind == "exp2":
        f1, f2 = raw_density(("exponential", spec[1])), raw_density(("exponential", spec[2]))
        return lambda x, y: f1(x) * f2(y)
    raise ValueError(f"unknown joint density {spec!r}")


def joint_density(spec) -> _JointFunction:
    return _JointFunction(raw_joint_density(spec), f"joint density {spec[0]}")


# the functions g that ``g_function(name)`` wraps, by name
G_FUNCTIONS = {
    "x": lambda x: x,
    "x^2": lambda x: x ** 2,
    "|x|": lambda x: np.abs(x),
    "(x-1)^2": lambda x: (x - 1.0) ** 2,
    "exp(x/4)": lambda x: np.exp(x / 4.0),
    "1[x>1]": lambda x: np.where(x > 1, 1.0, 0.0),
    "x^3": lambda x: x ** 3,
}


def g_function(name) -> _Function:
    return _Function(G_FUNCTIONS[name], f"g(x) = {name}")


class Sampler:
    """Draws IID samples: ``sampler(n, rng)`` returns n draws; ``sampler.mean`` is E[X]."""

    def __init__(self, kind, *params):
        self.kind, self.params = kind, params
        if kind == "discrete":
            values, probs = np.asarray(params[0], float), np.asarray(params[1], float)
            self.mean = math.fsum(v * p for v, p in zip(values.tolist(), probs.tolist()))
        elif kind == "exponential":
            self.mean = float(params[0])
        else:
            raise ValueError(f"unknown sampler {kind!r}")

    def __call__(self, n, rng):
        if self.kind == "discrete":
            return rng.choice(np.asarray(self.params[0], float), size=int(n), p=np.asarray(self.params[1], float))
        return rng.exponential(self.params[0], size=int(n))

    def __repr__(self):
        return f"Sampler({self.kind}, mean={self.mean:g})"


# ---------------------------------------------------------------------------
# helpers for runs and judges
# ---------------------------------------------------------------------------
def _plain_set(out):
    """A set-like answer as a frozenset; a list with repeats stays a list so it fails."""
    if isinstance(out, (set, frozenset)):
        return frozenset(out)
    if isinstance(out, (list, tuple)):
        try:
            s = frozenset(out)
        except TypeError:
            return list(out)
        return s if len(s) == len(out) else list(out)
    return out


def _family(out):
    """A family of events as a frozenset of frozensets (when it is one)."""
    if isinstance(out, (set, frozenset, list, tuple)):
        items = list(out)
        if all(isinstance(e, (set, frozenset)) for e in items):
            fam = frozenset(frozenset(e) for e in items)
            return fam if len(fam) == len(items) else [frozenset(e) for e in items]
    return out


def _describe_type(x) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    return type(x).__name__


def _fmt(x):
    if isinstance(x, frozenset):
        return "{" + ", ".join(sorted(repr(v) for v in x)) + "}"
    return repr(x)


def judge_set(expected, got, inputs, reveal):
    if not isinstance(got, frozenset):
        return [Mismatch("", f"expected a set of {len(expected)} elements, got {_describe_type(got)}"
                             + (" with repeated elements" if isinstance(got, list) else ""))]
    if got == expected:
        return []
    missing, extra = expected - got, got - expected
    msg = f"expected {len(expected)} elements, got {len(got)}: {len(missing)} missing, {len(extra)} unexpected"
    if reveal:
        if missing:
            msg += f"; missing e.g. {_fmt(sorted(missing, key=repr)[0])}"
        if extra:
            msg += f"; unexpected e.g. {_fmt(sorted(extra, key=repr)[0])}"
    elif not expected and got:
        msg += " (the answer here is the empty set)"
    return [Mismatch("", msg)]


def judge_family(expected, got, inputs, reveal):
    if isinstance(got, (frozenset, list)) and any(not isinstance(e, frozenset) for e in got):
        bad = next(e for e in got if not isinstance(e, frozenset))
        return [Mismatch("", f"every event must be a frozenset, got a {type(bad).__name__}"
                             " (itertools.combinations yields tuples: wrap them in frozenset)")]
    if not isinstance(got, frozenset):
        return [Mismatch("", f"expected a set of {len(expected)} frozensets, got {_describe_type(got)}"
                             + (" with repeated events" if isinstance(got, list) else ""))]
    if got == expected:
        return []
    omega = frozenset(inputs["omega"])
    missing, extra = expected - got, got - expected
    msg = f"expected {len(expected)} events, got {len(got)}: {len(missing)} missing, {len(extra)} unexpected"
    notes = []
    if frozenset() in missing:
        notes.append("the empty set is missing")
    if omega in missing and omega:
        notes.append("Omega itself is missing")
    if notes:
        msg += " (" + "; ".join(notes) + ")"
    if reveal and missing and not notes:
        msg += f"; missing e.g. {_fmt(sorted(missing, key=lambda e: (len(e), repr(sorted(map(repr, e)))))[0])}"
    if reveal and extra:
        msg += f"; unexpected e.g. {_fmt(sorted(extra, key=repr)[0])}"
    return [Mismatch("", msg)]


def judge_bool(expected, got, inputs, reveal):
    """True/false answers: a numpy bool is fine, a number or None is not."""
    if not isinstance(got, bool):
        return [Mismatch("", f"expected True or False, got {_describe_type(got)}")]
    if got == bool(expected):
        return []
    return [Mismatch("", f"answered {got}, which is wrong for this case")]


def judge_raise(expected, got, inputs, reveal):
    """For answers where raising ValueError is the right outcome on some cases."""
    if isinstance(expected, str) and not isinstance(got, str):
        return [Mismatch("", f"expected ValueError, got {_describe_type(got)}: the event conditioned on has"
                             " probability 0, so the conditional probability is undefined")]
    if isinstance(got, str) and not isinstance(expected, str):
        return [Mismatch("", f"your code {got}, but every event conditioned on here has positive"
                             " probability")]
    return compare(expected, got, reveal=reveal)


def _run_lln_errors(ns, x):
    rng = np.random.default_rng(x["seed"])
    return np.asarray(ns.lln_errors(Sampler(*x["sampler"]), list(x["ns"]), rng), dtype=float)


def _run_sample_covariance(ns, x):
    if x["ddof"] is None:
        return ns.sample_covariance(x["samples"])
    return ns.sample_covariance(x["samples"], ddof=x["ddof"])


# ---------------------------------------------------------------------------
# the specs: one check per function, plus its hidden twin
# ---------------------------------------------------------------------------
def hidden_twin_id(check_id: str) -> str:
    """The id of the hidden twin of check ``check_id``: run only in a hidden test, on more
    cases and the edge cases."""
    return f"{check_id}.hidden"


def _add_spec(check_id, title, run, functions, *, hidden_twin=True, **options):
    """Add the spec ``check_id`` and, with ``hidden_twin``, a twin spec under
    ``hidden_twin_id(check_id)`` that calls the student's code the same way."""
    SPECS.add(Spec(id=check_id, title=title, run=run, functions=functions, **options))
    if hidden_twin:
        SPECS.add(Spec(id=hidden_twin_id(check_id), title=title + " (more cases, edge cases)", run=run,
                       functions=functions, **options))


_add_spec("coin_sample_space", "the outcomes of n coin tosses as strings of H and T",
          lambda ns, x: _plain_set(ns.coin_sample_space(x["n"])),
          ("coin_sample_space",), judge=judge_set)

_add_spec("die_sample_space", "the six faces of a die, as integers",
          lambda ns, x: _plain_set(ns.die_sample_space()),
          ("die_sample_space",), hidden_twin=False, judge=judge_set)

_add_spec("power_set", "the power set contains every subset, including the empty set and Omega",
          lambda ns, x: _family(ns.power_set(x["omega"])),
          ("power_set",), judge=judge_family,
          hint="a set of n outcomes has 2**n subsets; count yours.")

_add_spec("is_event_space", "the finite sigma-algebra axioms: Omega, complements and unions",
          lambda ns, x: ns.is_event_space(x["events"], x["omega"]),
          ("is_event_space",), judge=judge_bool,
          hint="check all three axioms, and that every event is a subset of Omega.")

_add_spec("is_probability_measure", "non-negativity, P(Omega) = 1 and additivity on every disjoint pair",
          lambda ns, x: ns.is_probability_measure(x["P"], x["omega"], tol=BOOL_TOL),
          ("is_probability_measure",), judge=judge_bool)

_add_spec("measure_from_pmf", "P(E) is the sum of the pmf over the outcomes in E, for every E",
          lambda ns, x: ns.measure_from_pmf(x["pmf"]),
          ("measure_from_pmf",),
          hint="the keys are every subset of the outcomes, the empty set too (with P = 0).")

_add_spec("preimage", "X^-1(B) is the set of outcomes whose value lies in B",
          lambda ns, x: _plain_set(ns.preimage(x["X"], x["values"], x["omega"])),
          ("preimage",), judge=judge_set)

_add_spec("pmf_of", "the pmf of X sums P over each preimage and has the values of X as keys",
          lambda ns, x: ns.pmf_of(x["X"], x["P"]),
          ("pmf_of",))

_add_spec("is_discrete_rv_range", "a range is discrete when it is countable (not when it is in the integers)",
          lambda ns, x: ns.is_discrete_rv_range(x["desc"]),
          ("is_discrete_rv_range",), judge=judge_bool)


def _cdf_position(inputs, index, reveal):
    k = index[0]
    return f"F(x) at x = {inputs['xs'][k]:g}" if reveal else f"F(x) at the {k + 1}. of the x values asked"


_add_spec("cdf_from_pmf", "F(x) = P(X <= x), right at the atoms, between them and outside them",
          lambda ns, x: np.array([float(v) for v in map(ns.cdf_from_pmf(x["pmf"]), x["xs"])]),
          ("cdf_from_pmf",), position=_cdf_position)

_add_spec("is_valid_pdf", "a density is non-negative and integrates to 1 (within 1e-3)",
          lambda ns, x: ns.is_valid_pdf(density(x["pdf"]), x["lo"], x["hi"]),
          ("is_valid_pdf",), judge=judge_bool,
          hint="test both conditions: f >= 0 on the grid and the integral.")

_INTEGRAL_TOLERANCES = dict(rtol=INTEGRAL_RTOL, atol=INTEGRAL_ATOL)

_add_spec("prob_between", "P(a <= X <= b) by integrating the density",
          lambda ns, x: ns.prob_between(density(x["pdf"]), x["a"], x["b"]),
          ("prob_between",), **_INTEGRAL_TOLERANCES,
          hint="integrate on a fine grid (10 001 points with the trapezoid rule is plenty).")

_add_spec("cdf_from_pdf", "F(x) = integral of f from lo to x (0 for x <= lo)",
          lambda ns, x: np.array([float(v) for v in map(ns.cdf_from_pdf(density(x["pdf"]), x["lo"]), x["xs"])]),
          ("cdf_from_pdf",), **_INTEGRAL_TOLERANCES)

_add_spec("joint_prob_rectangle", "P(a <= X <= b, c <= Y <= d) by a double integral",
          lambda ns, x: ns.joint_prob_rectangle(joint_density(x["pdf"]), *x["box"]),
          ("joint_prob_rectangle",), **_INTEGRAL_TOLERANCES)

_add_spec("marginals", "p_X sums each row, p_Y each column",
          lambda ns, x: ns.marginals(x["joint"]),
          ("marginals",))

_add_spec("conditional", "P(Y | X) divides each row by its sum, P(X | Y) each column; P(B) = 0 raises ValueError",
          lambda ns, x: outcome(ns.conditional, x["joint"], x["axis"]),
          ("conditional",), judge=judge_raise)

_add_spec("conditional.zero_prob", "conditioning on a probability-0 value raises ValueError, and only then",
          lambda ns, x: outcome(ns.conditional, x["joint"], x["axis"]),
          ("conditional",), hidden_twin=False, judge=judge_raise)

_add_spec("bayes_posterior", "posterior = likelihood x prior / evidence (ValueError when the evidence is 0)",
          lambda ns, x: outcome(ns.bayes_posterior, x["likelihood"], x["prior"]),
          ("bayes_posterior",), judge=judge_raise)

_add_spec("posterior_from_counts", "likelihood, prior, evidence and posterior of a diagnostic test",
          lambda ns, x: ns.posterior_from_counts(x["counts"]),
          ("posterior_from_counts",))

_add_spec("is_independent", "p(x, y) = p(x) p(y) for every cell, within tol",
          lambda ns, x: ns.is_independent(x["joint"], BOOL_TOL),
          ("is_independent",), judge=judge_bool,
          hint="marginals alone cannot show independence: compare every cell with the product.")

_add_spec("is_conditionally_independent", "p(x, y | z) = p(x | z) p(y | z) for every z with P(Z = z) > 0",
          lambda ns, x: ns.is_conditionally_independent(x["joint"], BOOL_TOL),
          ("is_conditionally_independent",), judge=judge_bool,
          hint="skip the values of z with P(Z = z) = 0: dividing by 0 gives NaN, and NaN <= tol is False.")

_add_spec("is_iid_sample_model", "mutual independence (the full product) and identical marginals",
          lambda ns, x: ns.is_iid_sample_model(x["joint"], BOOL_TOL),
          ("is_iid_sample_model",), judge=judge_bool)

_add_spec("expectation", "E[g(X)] = sum over x of P(X = x) g(x)",
          lambda ns, x: ns.expectation(x["pmf"], g_function(x["g"])),
          ("expectation",))

_add_spec("variance", "V[g(X)] = E[(g(X) - E[g(X)])^2]",
          lambda ns, x: ns.variance(x["pmf"], g_function(x["g"])),
          ("variance",))

_add_spec("expectation_pdf", "E[g(X)] = integral of f(x) g(x) over [lo, hi]",
          lambda ns, x: ns.expectation_pdf(density(x["pdf"]), g_function(x["g"]), x["lo"], x["hi"]),
          ("expectation_pdf",), **_INTEGRAL_TOLERANCES)

_add_spec("sample_mean", "the average of the samples along the first axis (ValueError for no samples)",
          lambda ns, x: outcome(ns.sample_mean, x["xs"]),
          ("sample_mean",), judge=judge_raise)

_add_spec("lln_errors", "|sample mean - E[X]| for one fresh sample of each size n, in order",
          _run_lln_errors, ("lln_errors",),
          hint="call sampler(n, rng) once per n, in the order given, and nothing else with rng.")

_add_spec("covariance_matrix", "the population covariance sum_k p_k (v_k - mu)(v_k - mu)^T",
          lambda ns, x: ns.covariance_matrix(x["values"], x["probs"]),
          ("covariance_matrix",))

_add_spec("sample_covariance", "the sample covariance with 1/(n - ddof), as np.cov(samples, rowvar=False)",
          _run_sample_covariance, ("sample_covariance",))

check = make_check(SPECS)
