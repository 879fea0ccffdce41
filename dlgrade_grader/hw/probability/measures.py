"""Part 2, probability measures and random variables: is_probability_measure, measure_from_pmf,
preimage, pmf_of, is_discrete_rv_range."""
from __future__ import annotations

import math

import numpy as np

from dlgrade.hw.probability import BOOL_TOL

from ...checks import Mistake, Registry
from .common import COIN2, DIE, add_check, coin_space, random_pmf, sorted_outcomes
from .sample_spaces import ref_power_set


# --------------------------------------------------------------------------- references
def ref_is_probability_measure(P, omega, tol=BOOL_TOL, *, negative_below=None, normalised=True) -> bool:
    """Kolmogorov's axioms within ``tol``. The keywords model mistakes: ``negative_below`` moves the
    threshold below which a value counts as negative (None: ``-tol``, or no check for ``-inf``), and
    ``normalised=False`` skips P(Omega) = 1."""
    omega = frozenset(omega)
    events = list(ref_power_set(omega))
    if any(e not in P for e in events):
        return False
    threshold = -tol if negative_below is None else negative_below
    if any(P[e] < threshold for e in events):
        return False
    if normalised and abs(P[omega] - 1.0) > tol:
        return False
    for e1 in events:
        for e2 in events:
            if not (e1 & e2) and abs(P[e1 | e2] - (P[e1] + P[e2])) > tol:
                return False
    return True


def ref_measure_from_pmf(pmf) -> dict:
    items = sorted_outcomes(pmf)
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


# --------------------------------------------------------------------------- cases and mistakes
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
    pmf = random_pmf(rng, list(range(1, 7)))
    good = ref_measure_from_pmf(pmf)
    noisy = {e: p + float(rng.uniform(-1e-12, 1e-12)) for e, p in good.items()}
    pair = frozenset(int(v) for v in rng.choice(np.arange(1, 7), size=2, replace=False))
    bad_pair = dict(good)
    bad_pair[pair] = good[pair] + 0.05
    bad_empty = dict(good)
    bad_empty[frozenset()] = 0.1
    coin = {"HH": 0.25, "HT": 0.25, "TH": 0.25, "TT": 0.25}
    # each of the next three breaks (or, within tol, only seems to break) one axiom and keeps the others
    signed_pmf = dict(pmf)
    signed_pmf[int(rng.integers(1, 7))] = -float(rng.uniform(0.05, 0.2))
    total = math.fsum(signed_pmf.values())
    signed = ref_measure_from_pmf({w: p / total for w, p in signed_pmf.items()})
    mass = float(rng.uniform(0.8, 0.95))
    scaled = {e: mass * p for e, p in good.items()}
    just_below_zero = dict(good)
    just_below_zero[frozenset()] = -float(rng.uniform(0.2, 0.8)) * BOOL_TOL
    return [("a loaded die", {"P": good, "omega": DIE}),
            ("round-off below tol", {"P": noisy, "omega": DIE}),
            ("fails only additivity (a pair of outcomes)", {"P": bad_pair, "omega": DIE}),
            ("P(empty set) = 0.1", {"P": bad_empty, "omega": DIE}),
            ("two fair coins", {"P": ref_measure_from_pmf(coin), "omega": COIN2}),
            ("additive with P(Omega) = 1, one outcome of negative mass", {"P": signed, "omega": DIE}),
            ("additive and non-negative, P(Omega) < 1", {"P": scaled, "omega": DIE}),
            ("P(empty set) negative by less than tol (round-off)", {"P": just_below_zero, "omega": DIE})]


def _additive_on_singletons_only(inp):
    P, omega = inp["P"], frozenset(inp["omega"])
    return (all(v >= -BOOL_TOL for v in P.values()) and abs(P[omega] - 1) <= BOOL_TOL
            and abs(math.fsum(P[frozenset({w})] for w in omega) - 1) <= BOOL_TOL)


def _measure_from_pmf_visible(rng):
    return [("a fair coin", {"pmf": {"H": 0.5, "T": 0.5}}),
            ("a loaded die", {"pmf": {1: 0.1, 2: 0.1, 3: 0.1, 4: 0.1, 5: 0.1, 6: 0.5}})]


def _measure_from_pmf_hidden(rng):
    return [("random pmf on 4 outcomes", {"pmf": random_pmf(rng, ["a", "b", "c", "d"])}),
            ("a zero-probability outcome", {"pmf": random_pmf(rng, [1, 2, 3, 4, 5], zero=True)}),
            ("a single outcome", {"pmf": {"only": 1.0}})]


def _heads(outcome):
    return sum(c == "H" for c in outcome)


def _preimage_visible(rng):
    X = {w: _heads(w) for w in COIN2}
    return [("one head in two tosses", {"X": X, "values": {1}, "omega": COIN2}),
            ("0 or 2 heads", {"X": X, "values": {0, 2}, "omega": COIN2})]


def _preimage_hidden(rng):
    omega = coin_space(3)
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
    omega = sorted(coin_space(3))
    X = {w: _heads(w) for w in omega}
    die = random_pmf(rng, list(range(1, 7)), zero=True)
    return [("heads in three biased tosses", {"X": X, "P": random_pmf(rng, omega)}),
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


# --------------------------------------------------------------------------- checks
def register(registry: Registry) -> None:
    add_check(registry, "is_probability_measure", _measure_visible,
              lambda x: ref_is_probability_measure(x["P"], x["omega"]),
              hidden_twin_cases=_measure_hidden,
              mistakes=(Mistake(_additive_on_singletons_only,
                                "additivity checked on singletons only; it must hold for every"
                                " pair of disjoint events (including the empty set)."),
                        Mistake(lambda x: ref_is_probability_measure(x["P"], x["omega"], negative_below=-math.inf),
                                "non-negativity not checked: an additive table with P(Omega) = 1 can still"
                                " give an event a negative value."),
                        Mistake(lambda x: ref_is_probability_measure(x["P"], x["omega"], negative_below=0.0),
                                "a value counts as negative only below -tol; round-off just below 0 is"
                                " allowed."),
                        Mistake(lambda x: ref_is_probability_measure(x["P"], x["omega"], normalised=False),
                                "P(Omega) = 1 not checked.")))

    add_check(registry, "measure_from_pmf", _measure_from_pmf_visible, lambda x: ref_measure_from_pmf(x["pmf"]),
              hidden_twin_cases=_measure_from_pmf_hidden)

    add_check(registry, "preimage", _preimage_visible,
              lambda x: frozenset(w for w in x["omega"] if x["X"][w] in x["values"]),
              hidden_twin_cases=_preimage_hidden)

    add_check(registry, "pmf_of", _pmf_of_visible, lambda x: ref_pmf_of(x["X"], x["P"]),
              hidden_twin_cases=_pmf_of_hidden,
              mistakes=(Mistake(_count_outcomes, "counted outcomes instead of adding their probabilities."),
                        Mistake(lambda x: {v: p for v, p in ref_pmf_of(x["X"], x["P"]).items() if p > 0},
                                "a value of X whose outcomes all have probability 0 is still a key, with"
                                " p_X = 0."),
                        Mistake(lambda x: dict(x["P"]), "returned the pmf of the outcomes, not of X.")))

    add_check(registry, "is_discrete_rv_range", _countable_visible, lambda x: ref_is_countable(x["desc"]),
              hidden_twin_cases=_countable_hidden,
              mistakes=(Mistake(_integer_valued, "'discrete' tested as 'integer-valued'; it means countable."),))
