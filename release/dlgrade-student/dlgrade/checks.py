"""The check API: one declarative call per check, two modes.

In a test cell an instructor writes ``check("unbroadcast.leading_axes", points=2)``.

*Record mode* (inside the student's kernel) runs the student's code on the
check's cases, prints a verdict, and emits a record of the raw outputs as a
display output with a private MIME type.

*Verify mode* (in the grader, :mod:`dlgrade.grader.verify`) never touches
student code: it regenerates the same cases from the same seed, computes the
reference, and compares it with the record. Only verify mode decides points.
"""
from __future__ import annotations

import copy
import hashlib
import os
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import records
from .compare import ATOL, RTOL, Mismatch, compare

STUDENT_ENV = "DLGRADE_STUDENT"
NO_PREVIEW_ENV = "DLGRADE_NO_PREVIEW"
MAX_ERROR_CHARS = 400


@dataclass(frozen=True)
class Mistake:
    """A classic wrong answer, modelled so a failure can name it."""
    answer: Callable[[dict], Any]
    message: str


@dataclass(frozen=True)
class Check:
    """One gradeable behaviour of the student's code, tested on a group of cases.

    cases:     rng -> list of (label, inputs) pairs; labels are shown to students,
               inputs never are when the check is hidden.
    run:       (student namespace, inputs) -> output. Runs only in the kernel.
    reference: inputs -> expected output. Trusted; runs in the grader.
    """
    id: str
    title: str
    cases: Callable[[np.random.Generator], list]
    run: Callable[[Any, dict], Any]
    reference: Callable[[dict], Any]
    functions: tuple = ()
    rtol: float = RTOL
    atol: float = ATOL
    mistakes: tuple = ()
    judge: Callable | None = None  # (expected, got, inputs, reveal) -> list[Mismatch]; replaces compare
    hint: str = ""

    def evaluate(self, expected, got, inputs, src_dtype="", reveal=True) -> list[Mismatch]:
        if self.judge is not None:
            return list(self.judge(expected, got, inputs, reveal))
        return compare(expected, got, self.rtol, self.atol, "", src_dtype, reveal)

    def recognise(self, got, inputs) -> str:
        """The message of the first modelled mistake that reproduces ``got``."""
        for mistake in self.mistakes:
            try:
                wrong = mistake.answer(inputs)
                if not compare(wrong, got, max(self.rtol, 1e-6), max(self.atol, 1e-8)):
                    return mistake.message
            except Exception:  # a mistake model that does not apply to this case
                continue
        return ""


@dataclass
class Registry:
    assignment: str
    checks: dict = field(default_factory=dict)

    def add(self, check: Check) -> Check:
        if check.id in self.checks:
            raise ValueError(f"duplicate check id {check.id}")
        self.checks[check.id] = check
        return check

    def __getitem__(self, check_id: str) -> Check:
        return self.checks[check_id]

    def __contains__(self, check_id: str) -> bool:
        return check_id in self.checks


def seed_tag(hidden: bool, student: str | None) -> str:
    return f"hidden:{student or 'anonymous'}" if hidden else "visible"


def derive_seed(assignment: str, check_id: str, tag: str) -> int:
    digest = hashlib.blake2b(f"{assignment}|{check_id}|{tag}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def make_cases(registry: Registry, check: Check, tag: str) -> list:
    rng = np.random.default_rng(derive_seed(registry.assignment, check.id, tag))
    cases = check.cases(rng)
    return [(str(label), inputs) for label, inputs in cases]


class StudentNamespace:
    """Attribute access to the names a student defined, with a clear error."""

    def __init__(self, mapping: dict):
        self._mapping = mapping

    def __getattr__(self, name):
        try:
            return self._mapping[name]
        except KeyError:
            raise NameError(f"`{name}` is not defined: run the cell that defines it first") from None


def _error_text(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = ""
    for frame in reversed(tb):
        # the student's own frames live in the kernel's cells, not in any installed package
        if "site-packages" in frame.filename or frame.filename.startswith(os.path.dirname(__file__)):
            continue
        if frame.filename.startswith(sys.prefix) or frame.filename.startswith(sys.base_prefix):
            continue
        where = f" (line {frame.lineno} of your code)"
        break
    text = f"{type(exc).__name__}: {exc}{where}"
    return text[:MAX_ERROR_CHARS]


def _run_case(check: Check, ns: StudentNamespace, inputs: dict) -> dict:
    try:
        out = check.run(ns, copy.deepcopy(inputs))
        return {"ok": True, "out": records.encode(out)}
    except Exception as exc:  # the student's code failed; the record says how
        return {"ok": False, "error": _error_text(exc)}


def judge_case(check: Check, inputs: dict, entry: dict, expected, hidden: bool = False) -> str:
    """Empty string when one recorded case is right, else the reason it is wrong."""
    if not isinstance(entry, dict):
        return "malformed record entry"
    if not entry.get("ok"):
        return f"your code raised {str(entry.get('error', 'an error'))[:MAX_ERROR_CHARS]}"
    try:
        got = records.decode(entry.get("out"))
    except records.RecordError as exc:
        return f"unreadable answer ({exc})"
    dtypes = records.source_dtypes(entry.get("out"))
    src_dtype = "float32" if "float32" in dtypes else ""
    mismatches = check.evaluate(expected, got, inputs, src_dtype, reveal=not hidden)
    if not mismatches:
        return ""
    text = "; ".join(str(m) for m in mismatches[:3])
    named = check.recognise(got, inputs)
    if named:
        text += f" Likely mistake: {named}"
    elif check.hint:
        text += f" {'Also: ' if 'Hint:' in text else 'Hint: '}{check.hint}"
    return text


def expected_if_needed(check: Check, inputs: dict, entry: dict):
    """The reference, computed only when the student produced an answer to compare."""
    if isinstance(entry, dict) and entry.get("ok"):
        return check.reference(inputs)
    return None


def format_verdict(check: Check, points: float, awarded: float, failures: list, n_cases: int,
                   hidden: bool) -> str:
    mark = "PASS" if not failures else "FAIL"
    scope = "hidden" if hidden else "visible"
    head = f"[{mark}] {check.id} ({scope}, {n_cases} case{'s' * (n_cases != 1)}): {check.title}  {awarded:g}/{points:g}"
    lines = [head]
    for label, reason in failures[:3]:
        lines.append(f"    case '{label}': {reason}")
    if len(failures) > 3:
        lines.append(f"    ... and {len(failures) - 3} more failing cases")
    return "\n".join(lines)


def make_check(registry: Registry) -> Callable:
    """The record-mode ``check`` function that notebooks import."""

    def check(check_id: str, points: float, hidden: bool = False) -> None:
        caller_globals = sys._getframe(1).f_globals
        spec = registry[check_id]
        tag = seed_tag(hidden, os.environ.get(STUDENT_ENV))
        cases = make_cases(registry, spec, tag)
        ns = StudentNamespace(caller_globals)
        entries = [_run_case(spec, ns, inputs) for _, inputs in cases]
        failures, verdict = [], "unknown"
        if os.environ.get(NO_PREVIEW_ENV) == "1" or (hidden and os.environ.get(STUDENT_ENV)):
            # under the grader nobody reads the preview, and computing it (torch
            # imports, references) costs more than the student's code: skip it
            print(f"[....] {check_id}{' (hidden)' * hidden}: answers recorded for the grader")
        else:
            try:
                for (label, inputs), entry in zip(cases, entries):
                    reason = judge_case(spec, inputs, entry, expected_if_needed(spec, inputs, entry), hidden)
                    if reason:
                        failures.append((label, reason))
                verdict = "fail" if failures else "pass"
                print(format_verdict(spec, points, 0 if failures else points, failures, len(cases), hidden))
            except Exception as exc:  # preview only: the grader decides
                print(f"[....] {check_id}: answers recorded; no preview here ({type(exc).__name__}: {exc})")
        record = {"format": records.FORMAT_VERSION, "assignment": registry.assignment,
                  "check": check_id, "hidden": bool(hidden), "seed_tag": tag,
                  "cases": entries, "kernel_verdict": verdict}
        try:
            payload = records.dumps(record)
        except records.RecordError as exc:
            print(f"[FAIL] {check_id}: {exc}")
            return
        from IPython.display import display
        display({records.MIME: payload, "text/plain": ""}, raw=True)

    check.registry = registry
    return check


def outcome(fn, *args, expect=(ValueError,), **kwargs):
    """Call student code where raising is a valid answer.

    Returns the value, or the string ``"raised <Name>"`` when ``fn`` raised
    one of ``expect``; any other exception propagates (and the case fails).
    """
    try:
        return fn(*args, **kwargs)
    except expect as exc:
        return f"raised {type(exc).__name__}"
