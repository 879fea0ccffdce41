"""The check API as the student's kernel has it: one declarative call per check.

``check("unbroadcast.leading_axes", points=2)`` in a test cell does one of two things.

*At home* a visible check runs your code on the cases shipped with this package
(inputs and expected outputs, made by the grader when the assignment was released)
and prints a verdict. A hidden check only says that it runs when you are graded.

*While graded* the grader hands the kernel a casebook: new inputs, drawn for this
submission, for every check of the notebook (visible and hidden alike). Each check
runs your code on them and emits a record of your raw answers as plain data. The
kernel holds no expected output for these inputs and no way to make one: the grader
compares the records with its own references, outside the kernel.

Nothing here knows a reference answer. What a student can do with this module is run
their own code and show what it returned.
"""
from __future__ import annotations

import copy
import json
import os
import sys
import traceback
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Callable

from . import records
from .compare import ATOL, RTOL, Mismatch, compare

CASEBOOK_ENV = "DLGRADE_CASEBOOK"
MAX_ERROR_CHARS = 400
VISIBLE, HIDDEN = "visible", "hidden"
# ``dlgrade check`` sets VERDICTS_ENV in its kernel; each check at home then also displays its
# verdict as typed data under VERDICT_MIME (graded kernels never do: they emit records.MIME)
VERDICTS_ENV = "DLGRADE_VERDICTS"
VERDICT_MIME = "application/vnd.dlgrade.verdict+json"


def scope(hidden: bool) -> str:
    return HIDDEN if hidden else VISIBLE


@dataclass(frozen=True)
class Spec:
    """What the kernel knows of a check: how to call the student's code, how to compare.

    run:   (student namespace, inputs) -> output, plain values only (see records.encode).
    judge: (expected, got, inputs, reveal) -> list[Mismatch]; replaces ``compare`` for
           answers that are not arrays (sets, strings, ...).
    """
    id: str
    title: str
    run: Callable[[Any, dict], Any]
    functions: tuple = ()
    rtol: float = RTOL
    atol: float = ATOL
    judge: Callable | None = None
    hint: str = ""
    # (inputs, index, reveal) -> where an entry of the answer is, in the question's terms
    # ("F(x) at x = 2.5"), for answers whose array index means nothing to a student
    position: Callable | None = None
    # the student's own helpers the tested function calls: when one of them fails its own check,
    # this check's failure is put down to it (ridge_gd calls ridge_gradient)
    uses: tuple = ()

    def evaluate(self, expected, got, inputs, src_dtype="", reveal=True) -> list[Mismatch]:
        if self.judge is not None:
            return list(self.judge(expected, got, inputs, reveal))
        where = None if self.position is None else (lambda index: self.position(inputs, index, reveal))
        return compare(expected, got, self.rtol, self.atol, "", src_dtype, reveal, position=where)


class ById:
    """Checks held in ``self.checks`` by id: ``x[id]``, ``id in x``, and the checks in the order added."""

    def __getitem__(self, check_id: str):
        return self.checks[check_id]

    def __contains__(self, check_id: str) -> bool:
        return check_id in self.checks

    def __iter__(self):
        return iter(self.checks.values())


@dataclass
class Specs(ById):
    """An assignment's checks, by id."""
    assignment: str
    checks: dict = field(default_factory=dict)

    def add(self, spec: Spec) -> Spec:
        if spec.id in self.checks:
            raise ValueError(f"duplicate check id {spec.id}")
        self.checks[spec.id] = spec
        return spec


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
    here = os.path.dirname(os.path.abspath(__file__))
    for frame in reversed(tb):
        # the student's own frames live in the kernel's cells, not in any installed package
        if "site-packages" in frame.filename or frame.filename.startswith(here):
            continue
        if frame.filename.startswith(sys.prefix) or frame.filename.startswith(sys.base_prefix):
            continue
        where = f" (line {frame.lineno} of your code)"
        break
    return f"{type(exc).__name__}: {exc}{where}"[:MAX_ERROR_CHARS]


def run_case(spec: Spec, ns: StudentNamespace, inputs: dict) -> dict:
    """One case's record entry: the student's output as plain data, or how their code failed."""
    try:
        out = spec.run(ns, copy.deepcopy(inputs))
        return {"ok": True, "out": records.encode(out)}
    except Exception as exc:  # the student's code failed; the entry says how
        return {"ok": False, "error": _error_text(exc)}


def judge_entry(spec: Spec, inputs: dict, entry: dict, expected, hidden: bool = False,
                recognise: Callable | None = None) -> str:
    """Empty string when one recorded answer is right, else the reason it is wrong.

    Shared by the kernel's preview and the grader, so both explain a failure alike;
    ``recognise(got, inputs)`` (grader only) names a modelled classic mistake.
    Whatever goes wrong while reading or comparing the answer fails this case only.
    """
    if not isinstance(entry, dict):
        return "malformed record entry"
    if not entry.get("ok"):
        return f"your code raised {str(entry.get('error', 'an error'))[:MAX_ERROR_CHARS]}"
    try:
        got = records.decode(entry.get("out"))
        src_dtype = "float32" if "float32" in records.source_dtypes(entry.get("out")) else ""
        mismatches = spec.evaluate(expected, got, inputs, src_dtype, reveal=not hidden)
    except records.RecordError as exc:
        return f"unreadable answer ({exc})"[:MAX_ERROR_CHARS]
    except Exception as exc:  # an answer the comparison cannot handle is a wrong answer
        return f"answer could not be compared ({type(exc).__name__}: {exc})"[:MAX_ERROR_CHARS]
    if not mismatches:
        return ""
    # one sentence: inner full stops dropped ("...; ..."), a truncation's "..." kept
    text = "; ".join(s if s.endswith("...") else s.removesuffix(".") for s in map(str, mismatches[:3]))
    text += "" if text.endswith(".") else "."
    named = ""
    if recognise is not None:
        try:
            named = recognise(got, inputs)
        except Exception:  # a mistake model that cannot judge this answer names nothing
            named = ""
    if named:
        text += f" Likely mistake: {named}"
    elif spec.hint and "Hint:" not in text:
        # a cause the comparison already named says more than the question's general hint
        text += f" Hint: {spec.hint}"
    return text


def format_verdict(spec: Spec, points: float, awarded: float, failures: list, n_cases: int,
                   hidden: bool) -> str:
    mark = "PASS" if not failures else "FAIL"
    head = (f"[{mark}] {spec.id} ({scope(hidden)}, {n_cases} case{'s' * (n_cases != 1)}): {spec.title}"
            f"  {awarded:g}/{points:g}")
    lines = [head]
    for label, reason in failures[:3]:
        lines.append(f"    case '{label}': {reason}")
    if len(failures) > 3:
        lines.append(f"    ... and {len(failures) - 3} more failing cases")
    return "\n".join(lines)


# --------------------------------------------------------------------------- data the kernel reads
_visible_cache: dict = {}


def visible_cases(assignment: str) -> dict:
    """check id -> list of (label, inputs, expected), as shipped in ``hw/data/<assignment>.json``."""
    if assignment not in _visible_cache:
        try:
            text = resources.files("dlgrade.hw").joinpath("data", f"{assignment}.json").read_text()
        except (FileNotFoundError, OSError):
            text = ""
        table = {}
        if text:
            raw = json.loads(text)
            for check_id, cases in raw.get("checks", {}).items():
                table[check_id] = [(label, records.decode(inp), records.decode(exp))
                                   for label, inp, exp in cases]
        _visible_cache[assignment] = table
    return _visible_cache[assignment]


_casebook_cache: dict = {}


def casebook() -> dict | None:
    """The grader's casebook for this kernel, or None at home."""
    path = os.environ.get(CASEBOOK_ENV)
    if not path:
        return None
    if path not in _casebook_cache:
        with open(path, encoding="utf-8") as fh:
            _casebook_cache[path] = json.load(fh)
    return _casebook_cache[path]


# --------------------------------------------------------------------------- the two modes
def _emit(record: dict) -> None:
    try:
        payload = records.dumps(record)
    except records.RecordError as exc:
        print(f"[FAIL] {record.get('check')}: {exc}")
        return
    from IPython.display import display
    display({records.MIME: payload, "text/plain": ""}, raw=True)


def record_graded(specs: Specs, check_id: str, hidden: bool, namespace: dict, book: dict) -> None:
    """Graded mode: run the student's code on the casebook's inputs and emit the answers."""
    entry = book.get("checks", {}).get(f"{check_id}|{scope(hidden)}")
    if entry is None or check_id not in specs:
        print(f"[....] {check_id} ({scope(hidden)}): no cases for this check in the grader's casebook")
        return
    spec = specs[check_id]
    ns = StudentNamespace(namespace)
    answers = [run_case(spec, ns, records.decode(inputs)) for _label, inputs in entry["cases"]]
    print(f"[....] {check_id} ({scope(hidden)}): answers recorded for the grader")
    _emit({"format": records.FORMAT_VERSION, "assignment": specs.assignment, "check": check_id,
           "hidden": bool(hidden), "case_set": entry.get("case_set"), "cases": answers})


def home_verdict(specs: Specs, check_id: str, points: float, hidden: bool, namespace: dict) -> dict:
    """Home mode as typed data: the verdict on the shipped visible cases.

    ``status`` is "pass" or "fail", "waiting" for a hidden check (it runs when graded), or
    "unavailable" when this copy of the package ships no cases for a visible check. ``text``
    is what the check prints; ``failures`` lists ``[case label, reason]``.
    """
    spec = specs[check_id]
    verdict = {"assignment": specs.assignment, "check": check_id, "title": spec.title,
               "hidden": bool(hidden), "points": points, "awarded": None, "cases": 0, "failures": []}
    if hidden:
        return {**verdict, "status": "waiting",
                "text": (f"[ -- ] {check_id} (hidden): {spec.title}  ?/{points:g}\n"
                         f"    runs on new inputs drawn for your submission when it is graded")}
    cases = visible_cases(specs.assignment).get(check_id)
    if cases is None:
        return {**verdict, "status": "unavailable",
                "text": (f"[ -- ] {check_id}: no visible cases in this copy of the course package"
                         f" (reinstall it from release/)")}
    ns = StudentNamespace(namespace)
    failures = []
    for label, inputs, expected in cases:
        reason = judge_entry(spec, inputs, run_case(spec, ns, inputs), expected)
        if reason:
            failures.append((label, reason))
    awarded = 0 if failures else points
    return {**verdict, "status": "fail" if failures else "pass", "awarded": awarded, "cases": len(cases),
            "failures": [[str(label), reason] for label, reason in failures],
            "text": format_verdict(spec, points, awarded, failures, len(cases), False)}


def preview(specs: Specs, check_id: str, points: float, hidden: bool, namespace: dict) -> str:
    """Home mode: the verdict on the shipped visible cases (hidden checks wait for grading)."""
    return home_verdict(specs, check_id, points, hidden, namespace)["text"]


def make_check(specs: Specs) -> Callable:
    """The ``check`` function that notebooks import."""

    def check(check_id: str, points: float, hidden: bool = False) -> None:
        namespace = sys._getframe(1).f_globals
        book = casebook()
        if book is not None:
            record_graded(specs, check_id, hidden, namespace, book)
        else:
            verdict = home_verdict(specs, check_id, points, hidden, namespace)
            print(verdict["text"])
            if os.environ.get(VERDICTS_ENV):  # set by ``dlgrade check`` for the kernels it starts
                from IPython.display import display
                display({VERDICT_MIME: verdict, "text/plain": ""}, raw=True)

    check.specs = specs
    return check


def run_graded_cell(grade_id: str, namespace: dict) -> None:
    """What the grader executes in place of a test cell: that cell's checks, from the casebook.

    The test cell's own text (hidden checks included) never enters the kernel.
    """
    book = casebook()
    if book is None:
        print(f"[....] {grade_id}: no casebook; nothing recorded")
        return
    from .hw import specs as specs_of
    specs = specs_of(book.get("assignment", ""))
    for check_id, hidden in book.get("cells", {}).get(grade_id, []):
        record_graded(specs, check_id, bool(hidden), namespace, book)


def outcome(fn, *args, expect=(ValueError,), **kwargs):
    """Call student code where raising is a valid answer.

    Returns the value, or the string ``"raised <Name>"`` when ``fn`` raised
    one of ``expect``; any other exception propagates (and the case fails).
    """
    try:
        return fn(*args, **kwargs)
    except expect as exc:
        return f"raised {type(exc).__name__}"
