"""Part 6, expectation, the law of large numbers and covariance: expectation, variance,
expectation_pdf, sample_mean, lln_errors, covariance_matrix, sample_covariance."""
from __future__ import annotations

import math

import numpy as np

from dlgrade.hw.probability import G_FUNCTIONS, Sampler, g_function, raw_density

from ...checks import Mistake, Registry
from .common import add_check, random_pmf
from .integration import integrate, nonsmooth_points


# --------------------------------------------------------------------------- references
def ref_expectation(pmf, g) -> float:
    return math.fsum(p * float(g(x)) for x, p in pmf.items())


def ref_variance(pmf, g) -> float:
    mean = ref_expectation(pmf, g)
    return math.fsum(p * (float(g(x)) - mean) ** 2 for x, p in pmf.items())


def ref_expectation_pdf(inp):
    f, g = raw_density(inp["pdf"]), G_FUNCTIONS[inp["g"]]
    return integrate(lambda x: f(x) * g(x), inp["lo"], inp["hi"], nonsmooth_points(inp["pdf"]))


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


# --------------------------------------------------------------------------- expectation, variance
def _pmf_visible(rng):
    die = {k: 1 / 6 for k in range(1, 7)}
    loaded = {1: 0.1, 2: 0.1, 3: 0.1, 4: 0.1, 5: 0.1, 6: 0.5}
    return [("a fair die, g(x) = x", {"pmf": die, "g": "x"}),
            ("a loaded die, g(x) = x^2", {"pmf": loaded, "g": "x^2"})]


def _pmf_hidden(rng):
    # distinct values: two equal keys would merge in the dict and the pmf would lose mass
    vals = [float(v) for v in rng.choice(np.arange(-300, 301), size=5, replace=False) / 100]
    pmf = random_pmf(rng, vals, zero=True)
    return [(f"random pmf, g(x) = {g}", {"pmf": pmf, "g": g}) for g in ("|x|", "(x-1)^2", "exp(x/4)", "1[x>1]")]


def _unweighted_mean_of_g(inp):
    g = G_FUNCTIONS[inp["g"]]
    return math.fsum(float(g(v)) for v in inp["pmf"]) / len(inp["pmf"])


def _variance_terms_swapped(inp):
    g = g_function(inp["g"])
    return ref_expectation(inp["pmf"], g) ** 2 - ref_expectation(inp["pmf"], lambda x: g(x) ** 2)


def _expectation_pdf_visible(rng):
    return [("E[X] for N(1, 2^2)", {"pdf": ("normal", 1.0, 2.0), "g": "x", "lo": -19.0, "hi": 21.0}),
            ("E[X^2] for 6x(1 - x)", {"pdf": ("beta22",), "g": "x^2", "lo": 0.0, "hi": 1.0})]


def _expectation_pdf_hidden(rng):
    lam = float(rng.uniform(0.5, 2))
    mu = float(rng.uniform(-1, 1))
    return [("E[X] exponential", {"pdf": ("exponential", lam), "g": "x", "lo": 0.0, "hi": 40.0 / lam}),
            ("E[X^3] normal", {"pdf": ("normal", mu, 1.0), "g": "x^3", "lo": mu - 12, "hi": mu + 12}),
            ("E[exp(X/4)] triangle", {"pdf": ("triangle", -1.0, 0.0, 2.0), "g": "exp(x/4)", "lo": -1.0, "hi": 2.0})]


# --------------------------------------------------------------------------- sample_mean, lln_errors
def _sample_mean_visible(rng):
    return [("ten numbers", {"xs": rng.standard_normal(10)})]


def _sample_mean_hidden(rng):
    return [("a sample of vectors, shape (12, 3)", {"xs": rng.standard_normal((12, 3)) * 3 + 1}),
            ("one number", {"xs": rng.standard_normal(1)}),
            ("no samples", {"xs": np.zeros(0)})]


def _mean_along_last_axis(inp):
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
                                "seed": int(rng.integers(1 << 30))}),
            # "for each n in ns, in order, one fresh sample": sizes out of order and one repeated
            ("a fair die, sizes out of order, one repeated",
             {"sampler": ("discrete", [1, 2, 3, 4, 5, 6], [1 / 6] * 6), "ns": [300, 30, 300, 3],
              "seed": int(rng.integers(1 << 30))})]


def _lln_signed_errors(inp):
    sampler, rng = Sampler(*inp["sampler"]), np.random.default_rng(inp["seed"])
    return np.array([sampler(n, rng).mean() - sampler.mean for n in inp["ns"]])


def _lln_sorted_distinct_sizes(inp):
    sampler, rng = Sampler(*inp["sampler"]), np.random.default_rng(inp["seed"])
    error_at = {n: abs(sampler(n, rng).mean() - sampler.mean) for n in sorted(set(inp["ns"]))}
    return np.array([error_at[n] for n in inp["ns"]])


# --------------------------------------------------------------------------- covariance_matrix
def _covariance_visible(rng):
    return [("three points in the plane", {"values": np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0]]),
                                           "probs": np.array([0.5, 0.25, 0.25])})]


def _covariance_hidden(rng):
    v = rng.standard_normal((5, 3))
    p = rng.dirichlet(np.ones(5))
    p0 = p.copy()
    p0[1] = 0.0
    p0 /= p0.sum()
    return [("5 values in 3-D", {"values": v, "probs": p}),
            ("a zero-probability value", {"values": v * 2 - 1, "probs": p0}),
            ("uniform over 4 values in 2-D", {"values": rng.standard_normal((4, 2)), "probs": np.full(4, 0.25)}),
            ("a scalar variable, d = 1", {"values": rng.standard_normal((4, 1)), "probs": rng.dirichlet(np.ones(4))})]


def _covariance_unweighted(inp):
    v = np.asarray(inp["values"], dtype=float)
    c = v - v.mean(axis=0)
    return c.T @ c / (len(v) - 1)


def _covariance_sample_form(inp):
    v, k = np.asarray(inp["values"]), len(inp["probs"])
    return ref_covariance_matrix(v, inp["probs"]) * k / (k - 1)


# --------------------------------------------------------------------------- sample_covariance
def _ddof_or_default(inp):
    return 1 if inp["ddof"] is None else inp["ddof"]


def _sample_covariance_visible(rng):
    return [("20 samples in 2-D, default ddof", {"samples": rng.standard_normal((20, 2)), "ddof": None}),
            ("15 samples in 3-D, ddof = 0", {"samples": rng.standard_normal((15, 3)), "ddof": 0})]


def _sample_covariance_hidden(rng):
    A = rng.standard_normal((3, 3))
    return [("30 correlated samples, ddof = 1", {"samples": rng.standard_normal((30, 3)) @ A + 2.0, "ddof": 1}),
            ("10 samples of a scalar", {"samples": rng.standard_normal((10, 1)), "ddof": 1}),
            ("25 samples, ddof = 0", {"samples": rng.standard_normal((25, 2)) * 4, "ddof": 0}),
            # the normaliser is 1/(n - ddof) for any ddof, as in np.cov, not a choice between two
            ("12 samples, ddof = 2", {"samples": rng.standard_normal((12, 2)) + 1.0, "ddof": 2})]


def _sample_covariance_ddof_swapped(inp):
    n, ddof = len(inp["samples"]), _ddof_or_default(inp)
    return ref_sample_covariance(inp["samples"], ddof) * (n - ddof) / (n - (1 - ddof))


def _sample_covariance_ddof_as_flag(inp):
    return ref_sample_covariance(inp["samples"], 1 if _ddof_or_default(inp) else 0)


# --------------------------------------------------------------------------- checks
def register(registry: Registry) -> None:
    add_check(registry, "expectation", _pmf_visible, lambda x: ref_expectation(x["pmf"], G_FUNCTIONS[x["g"]]),
              hidden_twin_cases=_pmf_hidden,
              mistakes=(Mistake(_unweighted_mean_of_g,
                                "averaged g over the values without weighting by their probabilities."),))

    add_check(registry, "variance", _pmf_visible, lambda x: ref_variance(x["pmf"], G_FUNCTIONS[x["g"]]),
              hidden_twin_cases=_pmf_hidden,
              mistakes=(Mistake(_variance_terms_swapped,
                                "computed E[g]^2 - E[g^2]; the variance is E[g^2] - E[g]^2."),))

    add_check(registry, "expectation_pdf", _expectation_pdf_visible, ref_expectation_pdf,
              hidden_twin_cases=_expectation_pdf_hidden)

    add_check(registry, "sample_mean", _sample_mean_visible, lambda x: ref_sample_mean(x["xs"]),
              hidden_twin_cases=_sample_mean_hidden,
              mistakes=(Mistake(_mean_along_last_axis, "averaged along the wrong axis."),))

    add_check(registry, "lln_errors", _lln_visible, lambda x: ref_lln(x["sampler"], x["ns"], x["seed"]),
              hidden_twin_cases=_lln_hidden,
              mistakes=(Mistake(_lln_signed_errors, "the error must be the absolute value |mean - E[X]|."),
                        Mistake(_lln_sorted_distinct_sizes,
                                "the samples were not drawn in the order of ns: draw one fresh sample for each"
                                " entry, in the order given, a repeated size too.")))

    add_check(registry, "covariance_matrix", _covariance_visible,
              lambda x: ref_covariance_matrix(x["values"], x["probs"]),
              hidden_twin_cases=_covariance_hidden,
              mistakes=(Mistake(_covariance_sample_form, "a 1/(k - 1) sample correction: this is a population"
                                                         " covariance, weighted by the probabilities."),
                        Mistake(_covariance_unweighted, "the values were treated as samples (1/(k - 1), probs"
                                                        " ignored): weight each value by its probability.")))

    add_check(registry, "sample_covariance", _sample_covariance_visible,
              lambda x: ref_sample_covariance(x["samples"], _ddof_or_default(x)),
              hidden_twin_cases=_sample_covariance_hidden,
              mistakes=(Mistake(_sample_covariance_ddof_swapped, "1/n and 1/(n - 1) are swapped (ddof ignored?)."),
                        Mistake(_sample_covariance_ddof_as_flag,
                                "ddof used as a switch between 1/(n - 1) and 1/n; the normaliser is"
                                " 1/(n - ddof) for any ddof.")))
