"""Part 4, marginals, conditioning and Bayes: marginals, conditional, bayes_posterior,
posterior_from_counts."""
from __future__ import annotations

import math

import numpy as np

from ...checks import Mistake, Registry
from .common import add_check


# --------------------------------------------------------------------------- references
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


# --------------------------------------------------------------------------- cases and mistakes
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


def _conditional_visible(rng):
    j = np.array([[0.1, 0.2, 0.1], [0.3, 0.1, 0.2]])
    zero = np.array([[0.2, 0.3], [0.0, 0.0], [0.1, 0.4]])
    return [("given X (rows)", {"joint": j, "axis": 0}), ("given Y (columns)", {"joint": j, "axis": 1}),
            ("given X with P(X = 1) = 0", {"joint": zero, "axis": 0}),
            ("same table given Y", {"joint": zero, "axis": 1})]


def _conditional_hidden(rng):
    j = _random_joint(rng, (3, 4))
    j[0, 1] = 0.0
    j = j / j.sum()
    return [("given X, 3x4", {"joint": j, "axis": 0}), ("given Y, 3x4", {"joint": j, "axis": 1}),
            ("given Y, 4x4", {"joint": _random_joint(rng, (4, 4)), "axis": 1})]


def _conditional_zero_prob(rng):
    return [("a zero column, given Y", {"joint": _random_joint(rng, (3, 4), zero_col=2), "axis": 1}),
            ("a zero column, given X", {"joint": _random_joint(rng, (3, 4), zero_col=0), "axis": 0}),
            ("a zero row, given X", {"joint": _random_joint(rng, (4, 3), zero_row=3), "axis": 0}),
            # the prompt's "a zero row is harmless when you condition on Y"
            ("a zero row, given Y: no value of Y has probability 0",
             {"joint": _random_joint(rng, (3, 4), zero_row=int(rng.integers(3))), "axis": 1})]


def _conditional_wrong_axis(inp):
    return ref_conditional(inp["joint"], 1 - inp["axis"])


def _conditional_raises_on_zero_rows(inp):
    if np.any(np.asarray(inp["joint"]).sum(axis=1) == 0):
        return "raised ValueError"
    return ref_conditional(inp["joint"], inp["axis"])


# listed before the wrong axis, which also raises on a zero row given Y but gets other cases wrong too
_ZERO_ROW_GIVEN_Y = Mistake(_conditional_raises_on_zero_rows,
                            "raised on a zero row while conditioning on Y: only a value conditioned on"
                            " (a column, for given_axis=1) must have positive probability.")


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


# --------------------------------------------------------------------------- checks
def register(registry: Registry) -> None:
    add_check(registry, "marginals", _marginals_visible, lambda x: ref_marginals(x["joint"]),
              hidden_twin_cases=_marginals_hidden,
              mistakes=(Mistake(lambda x: ref_marginals(x["joint"])[::-1], "p_X and p_Y are swapped."),))

    add_check(registry, "conditional", _conditional_visible, lambda x: ref_conditional(x["joint"], x["axis"]),
              hidden_twin_cases=_conditional_hidden,
              mistakes=(_ZERO_ROW_GIVEN_Y, Mistake(_conditional_wrong_axis, "conditioned on the wrong axis.")))

    add_check(registry, "conditional.zero_prob", _conditional_zero_prob,
              lambda x: ref_conditional(x["joint"], x["axis"]), mistakes=(_ZERO_ROW_GIVEN_Y,))

    add_check(registry, "bayes_posterior", _bayes_visible, lambda x: ref_bayes(x["likelihood"], x["prior"]),
              hidden_twin_cases=_bayes_hidden,
              mistakes=(Mistake(_bayes_unnormalised, "not divided by the evidence P(D)."),))

    add_check(registry, "posterior_from_counts", _counts_visible, lambda x: ref_posterior_counts(x["counts"]),
              hidden_twin_cases=_counts_hidden,
              mistakes=(Mistake(_counts_base_rate, "the posterior P(sick | +) was taken to be the likelihood"
                                                   " P(+ | sick): the base-rate fallacy."),))
