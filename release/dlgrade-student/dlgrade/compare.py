"""Compare a student's answer with a reference and explain any difference.

Every failure message names what was expected, what was got, and, where a
classic mistake fits the numbers, says which one. Used both in the kernel
(to show the student a verdict) and in the grader (to score).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .records import Opaque

RTOL = 1e-9
ATOL = 1e-11


@dataclass
class Mismatch:
    where: str
    message: str

    def __str__(self):
        return f"{self.where}: {self.message}" if self.where else self.message


def _fmt_shape(a) -> str:
    return str(tuple(np.shape(a)))


def _is_numeric(x) -> bool:
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "fiu"
    return isinstance(x, (int, float, np.integer, np.floating))


def _shape_hint(expected: np.ndarray, got: np.ndarray) -> str:
    es, gs = expected.shape, got.shape
    if len(es) == 2 and gs == es[::-1] and es[0] != 1 and es[1] != 1:
        return " Hint: the shape is transposed."
    if len(gs) < len(es) and [d for d in gs if d != 1] == [d for d in es if d != 1]:
        # before the size test: dropping a size-1 axis keeps the number of entries
        return (" Hint: an axis of size 1 was summed away; keep it with keepdims=True"
                " (the result must have the shape of the target).")
    if len(gs) > len(es) or (len(gs) == len(es) and any(e == 1 and g != 1 for e, g in zip(es, gs))):
        tail = gs[len(gs) - len(es):] if len(es) else ()
        if all(e in (1, g) for e, g in zip(es, tail)):
            if len(gs) == len(es):
                return (" Hint: this looks like a missing unbroadcast: sum the gradient over the axes"
                        " that broadcasting stretched from size 1 (keepdims=True).")
            return (" Hint: extra axes: sum over the axes that broadcasting added (a missing"
                    " unbroadcast?) or that a contraction should have removed.")
    if got.size == expected.size:
        return " Hint: same number of entries, wrong arrangement (a reshape or an axis order)."
    if len(gs) < len(es):
        return " Hint: an axis was summed away that should have been kept (keepdims?)."
    return ""


def _value_hint(expected: np.ndarray, got: np.ndarray, src_dtype: str, rtol: float, atol: float) -> str:
    def close(a, b):
        return a.shape == b.shape and np.allclose(a, b, rtol=rtol * 10, atol=atol * 10)

    if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
        return " Hint: the answer has NaN or inf where the reference is finite (overflow, log of a negative, 0/0?)."
    if close(-got, expected):
        return " Hint: the sign is flipped."
    if expected.ndim >= 2 and expected.shape[-1] == expected.shape[-2] and close(np.swapaxes(got, -1, -2), expected):
        return " Hint: the values are those of the transpose."
    mask = np.abs(expected) > 1e-8 * max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    if mask.sum() >= 2:
        ratio = got[mask] / expected[mask]
        r0 = float(np.median(ratio))
        if np.allclose(ratio, r0, rtol=1e-6, atol=0) and abs(r0 - 1) > 1e-6 and r0 != 0:
            return (f" Hint: every entry is off by the same factor {r0:.6g}"
                    " (a missing 1/n, a factor 2, or the wrong normaliser?).")
    if src_dtype in ("float32", "float16"):
        return " Hint: your answer is float32; compute in float64 (do not cast to float32)."
    if np.allclose(got, expected, rtol=1e-4, atol=1e-6):
        return (" Hint: the answer is close but not exact: float32 arithmetic somewhere, or an"
                " approximation (a finite difference, a truncated series) where an exact formula belongs.")
    return ""


def _distinct(expected: float, got: float) -> tuple[str, str]:
    """Both numbers with just enough digits to see that they differ (float32 noise needs 8 or more)."""
    for digits in (6, 8, 10, 12, 14, 17):
        a, b = f"{expected:.{digits}g}", f"{got:.{digits}g}"
        if a != b:
            return a, b
    return f"{expected!r}", f"{got!r}"


def compare_arrays(expected, got, rtol=RTOL, atol=ATOL, where="", src_dtype="",
                   reveal=True, position=None) -> list[Mismatch]:
    expected = np.asarray(expected, dtype=np.float64)
    if isinstance(got, Opaque):
        return [Mismatch(where, f"expected an array of shape {_fmt_shape(expected)}, got {got!r}")]
    if not _is_numeric(got) and not (isinstance(got, np.ndarray) and got.dtype.kind == "b"):
        return [Mismatch(where, f"expected an array of shape {_fmt_shape(expected)}, got {type(got).__name__}")]
    got = np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape:
        return [Mismatch(where, f"expected shape {_fmt_shape(expected)}, got shape {_fmt_shape(got)}."
                                + _shape_hint(expected, got))]
    both_nan = np.isnan(expected) & np.isnan(got)
    bad = ~(np.isclose(got, expected, rtol=rtol, atol=atol) | both_nan)
    if not bad.any():
        return []
    diff = np.where(both_nan, 0.0, np.abs(got - expected))
    max_abs = float(np.nanmax(np.where(np.isnan(diff), np.inf, diff)))
    denom = np.maximum(np.abs(expected), atol)
    max_rel = float(np.nanmax(np.where(np.isnan(diff), np.inf, diff / denom)))
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    values = "expected {}, got {}".format(*_distinct(expected[first], got[first])) if reveal else ""
    if expected.ndim == 0:  # a number: no entries or index to speak of
        errors = f"abs error {max_abs:.3g}, rel error {max_rel:.3g}"
        msg = f"{values} ({errors})." if reveal else f"wrong value ({errors})."
    else:
        at = position(first) if position is not None else f"index {first}"
        msg = (f"{int(bad.sum())} of {bad.size} entries differ; max abs error {max_abs:.3g}, "
               f"max rel error {max_rel:.3g}; first wrong at {at}" + (f": {values}." if reveal else "."))
    msg += _value_hint(expected, got, src_dtype, rtol, atol)
    return [Mismatch(where, msg)]


def compare(expected, got, rtol=RTOL, atol=ATOL, where="", src_dtype="", reveal=True,
            position=None) -> list[Mismatch]:
    """All mismatches between a reference tree and a decoded student tree.

    With ``reveal=False`` (hidden cases) messages describe the difference
    without printing reference values.
    """
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return [Mismatch(where, f"expected a sequence of {len(expected)} items, got {_describe(got)}")]
        if len(got) != len(expected):
            return [Mismatch(where, f"expected {len(expected)} items, got {len(got)}")]
        out = []
        for i, (e, g) in enumerate(zip(expected, got)):
            out += compare(e, g, rtol, atol, f"{where}[{i}]", src_dtype, reveal)
        return out
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [Mismatch(where, f"expected a dict, got {_describe(got)}")]
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        if missing or extra:
            if not reveal:
                return [Mismatch(where, f"keys differ: {len(missing)} missing, {len(extra)} unexpected")]
            return [Mismatch(where, f"keys differ: missing {_short(missing)}, unexpected {_short(extra)}")]
        out = []
        for k in expected:
            out += compare(expected[k], got[k], rtol, atol, f"{where}[{k!r}]", src_dtype, reveal)
        return out
    if isinstance(expected, (bool, np.bool_, str, frozenset, set)) or expected is None:
        if isinstance(expected, (bool, np.bool_)):
            ok = isinstance(got, (bool, np.bool_)) and bool(got) == bool(expected)
        elif isinstance(expected, (set, frozenset)):
            ok = isinstance(got, (set, frozenset)) and frozenset(got) == frozenset(expected)
        else:
            ok = type(got) is type(expected) and got == expected
        if ok:
            return []
        if not reveal:
            return [Mismatch(where, f"wrong answer (got {_describe(got)})")]
        return [Mismatch(where, f"expected {_short(expected)}, got {_short(got)}")]
    return compare_arrays(expected, got, rtol, atol, where, src_dtype, reveal, position if not where else None)


def _describe(x) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    return type(x).__name__ if not isinstance(x, Opaque) else repr(x)


def _short(x, limit=160) -> str:
    if isinstance(x, (set, frozenset)):
        text = "{" + ", ".join(sorted(_short(v, 40) for v in x)) + "}"
    else:
        text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."
