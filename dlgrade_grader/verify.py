"""Verify mode: score a test cell from its trusted source and the kernel's records.

Nothing here imports or calls student code. The test-cell source is parsed,
not executed: every statement must be a literal ``check(...)`` call, which is
the whole vocabulary of a test cell. Each call is re-played against the
registry: the submission's cases are drawn again from the course key, references
are computed here, and the record the kernel left behind is compared with them.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace

from dlgrade import records
from dlgrade.checks import format_verdict

from .casebook import graded_cases
from .checks import Registry


class SourceError(ValueError):
    """The test cell is not a list of check calls (an instructor error)."""


@dataclass(frozen=True)
class CheckCall:
    check_id: str
    points: float
    hidden: bool


@dataclass(frozen=True)
class GradingContext:
    """What draws this submission's cases: the course key, the student, what they wrote."""
    key: bytes
    student: str
    digest: str


@dataclass
class CheckResult:
    check_id: str
    hidden: bool
    points: float
    awarded: float
    text: str
    passed: bool = False
    mistakes: tuple = ()    # messages of the modelled classic mistakes the answers reproduce


@dataclass
class CellResult:
    grade_id: str
    max_points: float
    checks: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def awarded(self) -> float:
        return sum(c.awarded for c in self.checks)

    def withhold(self, reason: str) -> None:
        """Score every check 0, keeping its verdict text, and say why."""
        self.checks = [replace(c, awarded=0.0) for c in self.checks]
        self.problems.append(reason)

    def text(self) -> str:
        lines = [c.text for c in self.checks] + [f"[NOTE] {p}" for p in self.problems]
        lines.append(f"Score for {self.grade_id}: {self.awarded:g} / {self.max_points:g}")
        return "\n".join(lines) + "\n"


def parse_check_calls(source: str) -> list[CheckCall]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise SourceError(f"test cell does not parse: {exc}") from exc
    calls = []
    for stmt in tree.body:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "check"):
            raise SourceError(f"line {stmt.lineno}: a test cell may only contain check(...) calls")
        try:
            args = [ast.literal_eval(a) for a in call.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        except ValueError as exc:
            raise SourceError(f"line {stmt.lineno}: check() arguments must be literals") from exc
        if len(args) != 1 or not isinstance(args[0], str) or set(kwargs) - {"points", "hidden"}:
            raise SourceError(f"line {stmt.lineno}: expected check('id', points=N, hidden=...)")
        points = kwargs.get("points")
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
            raise SourceError(f"line {stmt.lineno}: points must be a non-negative number")
        calls.append(CheckCall(args[0], float(points), bool(kwargs.get("hidden", False))))
    keys = [(c.check_id, c.hidden) for c in calls]
    if len(set(keys)) != len(keys):
        raise SourceError("the same check appears twice in one cell")
    return calls


def collect_records(outputs) -> tuple[dict, list]:
    """Map (check id, hidden) to the one record the kernel emitted for it."""
    found, problems, dupes = {}, [], set()
    for output in outputs or []:
        if output.get("output_type") not in ("display_data", "execute_result"):
            continue
        if records.MIME not in output.get("data", {}):
            continue
        try:
            rec = records.load_output_record(output)
        except records.RecordError as exc:
            problems.append(f"discarded a record: {exc}")
            continue
        key = (rec.get("check"), rec.get("hidden"))
        if key in found:
            dupes.add(key)
        found[key] = rec
    for key in dupes:
        problems.append(f"check {key[0]} left more than one record; none is trusted")
        found.pop(key, None)
    return found, problems


def verify_check(registry: Registry, call: CheckCall, record: dict | None, graded: GradingContext,
                 blocked: dict) -> CheckResult:
    """One check's verdict; anything that goes wrong while judging it fails this check only."""
    try:
        return _verify_check(registry, call, record, graded, blocked)
    except Exception as exc:  # a grader or record problem must never cost the rest of the notebook
        text = (f"[FAIL] {call.check_id}: could not be verified ({type(exc).__name__}: "
                f"{str(exc)[:200]})  0/{call.points:g}")
        return CheckResult(call.check_id, call.hidden, call.points, 0.0, text)


def _verify_check(registry: Registry, call: CheckCall, record: dict | None, graded: GradingContext,
                  blocked: dict) -> CheckResult:
    if call.check_id not in registry:
        text = f"[FAIL] {call.check_id}: unknown check (grader configuration error)  0/{call.points:g}"
        return CheckResult(call.check_id, call.hidden, call.points, 0.0, text)
    check = registry[call.check_id]
    for fn in check.functions:
        if fn in blocked:
            text = (f"[FAIL] {check.id}: {check.title}  0/{call.points:g}\n"
                    f"    not graded: {blocked[fn]}")
            return CheckResult(check.id, call.hidden, call.points, 0.0, text)
    cases = graded_cases(registry, check.id, call.hidden, graded.key, graded.student, graded.digest)
    failures, named = [], []
    if record is None:
        failures = [("all", "no record of this check reached the grader (the cell did not run,"
                            " was interrupted, or the check was bypassed)")]
    elif record.get("case_set") != cases.id or record.get("assignment") != registry.assignment:
        failures = [("all", "the recorded answers are for different cases than this submission's")]
    elif not isinstance(record.get("cases"), list) or len(record["cases"]) != len(cases):
        failures = [("all", "the record does not hold one answer per case")]
    else:
        for (label, inputs), entry in zip(cases.pairs(), record["cases"]):
            try:
                expected = check.reference(inputs) if isinstance(entry, dict) and entry.get("ok") else None
            except Exception as exc:  # a grader bug must never turn into points
                failures.append((label, f"grader error computing the reference: {exc!r}"))
                continue
            reason = check.judge(inputs, entry, expected, call.hidden, named)
            if reason:
                failures.append((label, reason))
    awarded = 0.0 if failures else call.points
    text = format_verdict(check.spec, call.points, awarded, failures, len(cases), call.hidden)
    return CheckResult(check.id, call.hidden, call.points, awarded, text, passed=not failures,
                       mistakes=tuple(named))


def verify_cell(grade_id: str, source: str, max_points: float, outputs, registry: Registry,
                graded: GradingContext, blocked: dict) -> CellResult:
    result = CellResult(grade_id, max_points)
    try:
        calls = parse_check_calls(source)
    except SourceError as exc:
        result.problems.append(f"grader configuration error in {grade_id}: {exc}; scored 0")
        return result
    found, problems = collect_records(outputs)
    result.problems.extend(problems)
    for call in calls:
        result.checks.append(verify_check(registry, call, found.get((call.check_id, call.hidden)),
                                          graded, blocked))
    total = sum(c.points for c in calls)
    if abs(total - max_points) > 1e-9:
        result.withhold(f"check points sum to {total:g} but the cell is worth {max_points:g};"
                        " scored 0 (grader configuration error)")
    return result


def name_broken_helpers(results: list, registry: Registry) -> None:
    """A check that fails while a helper its function calls fails its own check says so, so the
    student fixes the helper first instead of chasing the caller (ridge_gd calls ridge_gradient)."""
    broken = {}
    for result in results:
        for c in result.checks:
            if not c.passed and c.check_id in registry and len(registry[c.check_id].functions) == 1:
                broken.setdefault(registry[c.check_id].functions[0], c.check_id)
    for result in results:
        for i, c in enumerate(result.checks):
            if c.passed or c.check_id not in registry:
                continue
            culprits = [(fn, broken[fn]) for fn in registry[c.check_id].spec.uses if fn in broken]
            if culprits:
                named = ", ".join(f"{fn} (its check {cid} fails)" for fn, cid in culprits)
                result.checks[i] = replace(c, text=c.text + f"\n    cause: this function calls {named}; fix that"
                                                            f" first, this check may then pass as well")
