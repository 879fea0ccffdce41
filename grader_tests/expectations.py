"""What a catalogue entry must score, stated once for tests, demo and benchmark."""
from __future__ import annotations

from dlgrade_grader.submissions import Variant
from grader_tests.localcourse import Graded
from grader_tests.uses import UsesGraph


def autograded_total(g: Graded) -> float:
    return sum(v or 0.0 for v in g.cells.values() if v is not None)


def check_ids(g: Graded) -> set:
    return {c["id"] for c in g.checks}


def _lost(g: Graded, check_id: str) -> bool:
    """Points lost on the check (or, for a check worth none, a failing verdict)."""
    got, total = g.check_points(check_id)
    if total > 0:
        return got < total
    return any(not c.get("passed") for c in g.checks if c["id"] == check_id)


def problems_with(variant: Variant, graded: Graded, baseline: Graded | None, audit: bool = True,
                  uses: UsesGraph | None = None) -> list[str]:
    """Empty when ``graded`` is what ``variant`` promises; otherwise what went wrong.

    ``audit=False``: graded with the static audit switched off, so nothing is reported,
    and every promise about scores must hold all the same. ``uses``: the assignment's
    uses-graph; a wrong answer that breaks a function (an answer cell it swaps) may then
    also lose points on every check that reaches that function."""
    if graded.score is None:
        return [f"{variant.student_id} was not graded: {graded.problems}\n{graded.log[-3000:]}"]
    if variant.needs_audit and not audit:
        return []
    out = []
    if variant.kind == "reference":
        out_of = sum(c["points"] for c in graded.checks)
        if out_of == 0 or autograded_total(graded) < out_of:
            out.append(f"reference scored {autograded_total(graded):g} of {out_of:g} autograded points")
    elif variant.kind == "blank":
        if autograded_total(graded) != 0:
            out.append(f"blank notebook scored {autograded_total(graded):g}")
    elif variant.kind == "alternative":
        for cid in sorted(check_ids(graded)):
            got, total = graded.check_points(cid)
            if got < total:
                out.append(f"correct alternative lost points on {cid}: {got:g}/{total:g}")
        if not graded.checks:
            out.append("no checks were graded")
    elif variant.kind == "wrong":
        broken = set(variant.answers)
        own = uses.own_checks(broken) if uses else set()
        allowed = set(variant.fails) | (uses.reaching_checks(broken) if uses else set())
        if not variant.fails and not any(_lost(graded, cid) for cid in own):
            out.append(f"wrong answer lost nothing on the checks of what it breaks ({', '.join(sorted(own))})")
        for cid in variant.fails:
            if not any(c["id"] == cid for c in graded.checks):
                out.append(f"intended check {cid} was not graded at all")
            elif not _lost(graded, cid):
                out.append(f"wrong answer kept full marks on (or passed) its intended check {cid}")
        # the real cause is named by a failing check that uses what the answer breaks
        texts = [c.get("text", "") for c in graded.checks if c["id"] in allowed | own and not c.get("passed")]
        for phrase in variant.says:
            if not any(phrase in text for text in texts):
                out.append(f"no failing verdict of {', '.join(sorted(allowed | own))} says {phrase!r}: "
                           f"{' | '.join(t.replace(chr(10), ' ') for t in texts)[:600]}")
        for cid in sorted(check_ids(graded) - allowed):
            got, total = graded.check_points(cid)
            if got < total:
                out.append(f"wrong answer also lost points on unrelated check {cid}: {got:g}/{total:g}")
    elif variant.kind == "attack":
        limit = autograded_total(baseline) if baseline is not None else 0.0
        if autograded_total(graded) > limit + 1e-9:
            out.append(f"attack gained points: {autograded_total(graded):g} > {limit:g}")
        if audit and variant.flagged and not graded.audit.get("tampering"):
            out.append("the audit did not report this attack")
    return out
