"""What several parts of the probability assignment share: sample spaces, a random pmf,
and the registration of a check with its hidden twin."""
from __future__ import annotations

from itertools import product

from dlgrade.hw.probability import hidden_twin_id

from ...checks import Registry

DIE = frozenset(range(1, 7))
COIN2 = frozenset({"HH", "HT", "TH", "TT"})


def add_check(registry: Registry, check_id: str, visible_cases, reference, *, hidden_twin_cases=None,
              mistakes=()) -> None:
    """Register the check ``check_id`` on ``visible_cases`` and, when ``hidden_twin_cases`` is given,
    its hidden twin ``hidden_twin_id(check_id)`` on those: more per-student cases and the edge cases,
    run only in a hidden test. Both share ``reference`` and ``mistakes``."""
    registry.add(check_id, cases=visible_cases, reference=reference, mistakes=mistakes)
    if hidden_twin_cases is not None:
        registry.add(hidden_twin_id(check_id), cases=hidden_twin_cases, reference=reference, mistakes=mistakes)


def sorted_outcomes(omega) -> list:
    """Outcomes in a fixed order, also when they mix types (strings and numbers)."""
    return sorted(omega, key=lambda v: (str(type(v)), v))


def coin_space(n) -> frozenset:
    return frozenset("".join(t) for t in product("HT", repeat=n))


def random_pmf(rng, outcomes, zero=False) -> dict:
    """A pmf on ``outcomes`` with weights drawn from ``rng``; ``zero`` gives one outcome mass 0."""
    weights = rng.uniform(0.2, 1.0, size=len(outcomes))
    if zero:
        weights[rng.integers(len(outcomes))] = 0.0
    weights = weights / weights.sum()
    return {o: float(p) for o, p in zip(outcomes, weights)}
