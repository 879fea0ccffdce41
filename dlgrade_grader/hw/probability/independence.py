"""Part 5, independence: is_independent, is_conditionally_independent, is_iid_sample_model."""
from __future__ import annotations

import math

import numpy as np

from dlgrade.hw.probability import BOOL_TOL

from ...checks import Mistake, Registry
from .common import add_check


# --------------------------------------------------------------------------- references
def _factorises(joint, tol) -> bool:
    """Every cell equals the product of its marginals (each marginal summed by enumeration)."""
    joint = np.asarray(joint, dtype=float)
    marginals = []
    for axis in range(joint.ndim):
        marginals.append([math.fsum(joint[idx] for idx in np.ndindex(joint.shape) if idx[axis] == k)
                          for k in range(joint.shape[axis])])
    for idx in np.ndindex(joint.shape):
        prod = 1.0
        for axis, k in enumerate(idx):
            prod *= marginals[axis][k]
        if abs(joint[idx] - prod) > tol:
            return False
    return True


def ref_is_independent(joint, tol) -> bool:
    return _factorises(joint, tol)


def ref_is_conditionally_independent(joint, tol) -> bool:
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
    marginals = [joint.sum(axis=tuple(a for a in range(joint.ndim) if a != axis)) for axis in range(joint.ndim)]
    return all(np.max(np.abs(m - marginals[0])) <= tol for m in marginals[1:])


# --------------------------------------------------------------------------- cases and mistakes
def _independent_visible(rng):
    px, py = np.array([0.3, 0.7]), np.array([0.2, 0.5, 0.3])
    return [("a product table", {"joint": np.outer(px, py)}),
            ("a dependent table", {"joint": np.array([[0.3, 0.0, 0.1], [0.0, 0.4, 0.2]])})]


def _independent_hidden(rng):
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


def _joint_from_conditionals(pz, px_given_z, py_given_z):
    """p(x, y, z) = p(z) p(x | z) p(y | z): X and Y independent given Z by construction."""
    return np.einsum("k,ik,jk->ijk", pz, px_given_z, py_given_z)


def _xor_table():
    """Z = X xor Y for two fair bits: pairwise independent, not mutually."""
    xor = np.zeros((2, 2, 2))
    for x in range(2):
        for y in range(2):
            xor[x, y, x ^ y] = 0.25
    return xor


def _conditionally_independent_visible(rng):
    pz = np.array([0.5, 0.5])
    px_given_z = np.array([[0.9, 0.2], [0.1, 0.8]])
    py_given_z = np.array([[0.8, 0.3], [0.2, 0.7]])
    return [("X, Y independent given Z only", {"joint": _joint_from_conditionals(pz, px_given_z, py_given_z)}),
            ("Z = X xor Y", {"joint": _xor_table()})]


def _conditionally_independent_hidden(rng):
    pz = rng.dirichlet(np.ones(3))
    px_given_z, py_given_z = rng.dirichlet(np.ones(2), size=3).T, rng.dirichlet(np.ones(3), size=3).T
    ci = _joint_from_conditionals(pz, px_given_z, py_given_z)
    broken = ci.copy()
    e = 0.3 * float(broken[:, :, 1].min())
    broken[0, 0, 1] += e
    broken[1, 0, 1] -= e
    broken[0, 1, 1] -= e
    broken[1, 1, 1] += e
    pz0 = pz.copy()
    pz0[1] = 0.0
    pz0 /= pz0.sum()
    with_zero = _joint_from_conditionals(pz0, px_given_z, py_given_z)
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
    q = rng.dirichlet(np.ones(2))
    cases = [("three IID draws", {"joint": triple}),
             ("pairwise but not mutually independent", {"joint": _xor_table()}),
             ("independent, 2 and 3 values", {"joint": np.outer(q, p)}),
             ("two IID draws with round-off", {"joint": np.outer(p, p) + rng.uniform(-1e-12, 1e-12, (3, 3))})]
    # equal axis lengths do not make the laws identical
    r = rng.dirichlet(np.ones(3))
    return cases + [("independent, 3 values each, the third with another law",
                     {"joint": np.einsum("i,j,k->ijk", p, p, r)})]


def _pairwise_only(inp):
    j = np.asarray(inp["joint"])
    if j.ndim == 2:
        return ref_is_iid(j, BOOL_TOL)
    for a, b in ((0, 1), (0, 2), (1, 2)):
        other = 3 - a - b
        if not ref_is_iid(j.sum(axis=other), BOOL_TOL):
            return False
    return True


def _independent_with_equal_sizes(inp):
    j = np.asarray(inp["joint"])
    return len(set(j.shape)) == 1 and _factorises(j, BOOL_TOL)


# --------------------------------------------------------------------------- checks
def register(registry: Registry) -> None:
    add_check(registry, "is_independent", _independent_visible, lambda x: ref_is_independent(x["joint"], BOOL_TOL),
              hidden_twin_cases=_independent_hidden)

    add_check(registry, "is_conditionally_independent", _conditionally_independent_visible,
              lambda x: ref_is_conditionally_independent(x["joint"], BOOL_TOL),
              hidden_twin_cases=_conditionally_independent_hidden)

    add_check(registry, "is_iid_sample_model", _iid_visible, lambda x: ref_is_iid(x["joint"], BOOL_TOL),
              hidden_twin_cases=_iid_hidden,
              mistakes=(Mistake(_pairwise_only, "pairwise independence checked; IID needs the joint to be the"
                                                " product of all n marginals."),
                        Mistake(_independent_with_equal_sizes,
                                "the marginals were not compared: independent variables with the same number"
                                " of values are IID only when their laws are identical.")))
