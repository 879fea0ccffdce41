"""Numerical optimisation for the grader's references (mle_map, ridge_regression).

A derived closed form is graded against the optimum the grader finds itself:
the objective is written with ``autograd.numpy``, its gradient and Hessian come
from HIPS autograd, and a damped Newton method with an Armijo backtracking line
search minimises it in float64. Everything is deterministic (no random
restarts), and the problems are small (a handful of parameters), so a
reference costs a few milliseconds.
"""
from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np


class OptimisationError(RuntimeError):
    """The reference optimiser did not converge (a grader bug, never student credit)."""


def newton_minimize(f, x0, step_tol: float = 1e-14, max_iter: int = 200) -> np.ndarray:
    """Minimise a smooth ``f: R^d -> R`` from ``x0`` with damped Newton steps.

    Where the Hessian is not positive definite the step uses ``H + shift I``
    (Levenberg style), so the iteration always descends. It stops once a
    pure Newton step is below float64 resolution relative to ``x``; Newton's
    quadratic convergence makes that the optimum to full precision.
    """
    # trial steps may overflow (exp of a large log-variance); they are rejected, never reported
    with np.errstate(all="ignore"):
        return _newton(f, x0, step_tol, max_iter)


def _newton(f, x0, step_tol, max_iter):
    grad, hess = autograd.grad(f), autograd.hessian(f)
    x = np.array(x0, dtype=np.float64).ravel()
    fx = float(f(x))
    previous = np.inf
    for _ in range(max_iter):
        g = np.asarray(grad(x), dtype=np.float64)
        if not np.all(np.isfinite(g)):
            raise OptimisationError("non-finite gradient")
        if not np.any(g):
            return x
        h = np.asarray(hess(x), dtype=np.float64).reshape(x.size, x.size)
        h = 0.5 * (h + h.T)
        big = max(1.0, float(np.abs(h).max()))
        lo = float(np.linalg.eigvalsh(h)[0])
        shift = 0.0 if lo > 1e-12 * big else abs(lo) + 1e-8 * big
        step = -np.linalg.solve(h + shift * np.eye(x.size), g)
        size = float(np.max(np.abs(step))) / (1.0 + float(np.max(np.abs(x))))
        if shift == 0.0 and (size <= step_tol or (size <= 1e-9 and size >= 0.5 * previous)):
            # converged: the step is below float64 resolution, or has stopped shrinking
            # because the gradient is down to rounding noise
            return x + step
        previous = size
        # In the quadratic region a full Newton step is safe even when rounding hides the decrease.
        local = shift == 0.0 and size <= 1e-6
        slope = float(g @ step)
        t = 1.0
        while True:
            cand = x + t * step
            fc = float(f(cand))
            if np.isfinite(fc) and (fc <= fx + 1e-4 * t * slope or (local and t == 1.0)):
                break
            t *= 0.5
            if t < 1e-12:
                raise OptimisationError("the line search found no decrease away from the optimum")
        x, fx = cand, fc
    raise OptimisationError("Newton's method did not converge")


def grad_at(f, x) -> np.ndarray:
    """The gradient of ``f`` at ``x`` from autograd, in float64."""
    return np.asarray(autograd.grad(f)(np.asarray(x, dtype=np.float64)), dtype=np.float64)


def hessian_at(f, x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.asarray(autograd.hessian(f)(x), dtype=np.float64).reshape(x.size, x.size)


__all__ = ["anp", "newton_minimize", "grad_at", "hessian_at", "OptimisationError"]
