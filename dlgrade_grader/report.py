"""What a cohort run leaves behind for people: summary table, CSV, plot, feedback notes.

Scores are read from the gradebook (so a TA's manual grades count); status
and reasons come from the run's state (:mod:`.cohort`).
"""
from __future__ import annotations

import csv
import html
import re
import sys
from pathlib import Path

from .canvas import CANVAS_NAME, waiting_reason, write_canvas
from .crashpoints import crash_point
from .outcome import RANK, Note, NoteKind, Status, flags, note_texts

REPORTS = "reports"
CSV_NAME = "grades.csv"
SUMMARY_NAME = "summary.txt"
STATUS_TEXT = {
    Status.OK: "graded",
    Status.REPAIRED: "graded after repairs",
    Status.WARNING: "graded, with problems",
    Status.FAILED: "not gradable: scored 0",
    Status.MISSING: "not submitted",
}
FLAG_TEXT = {
    NoteKind.REPAIR: "repaired by the intake",
    NoteKind.LIMIT: "cut by a grader limit",
    NoteKind.TAMPERING: "flagged for tampering",
    NoteKind.FORBIDDEN: "used a forbidden shortcut",
    NoteKind.FEEDBACK: "without a feedback page",
}
UNSAFE_BANNER = ("WARNING: graded with --unsafe-no-sandbox: student code ran WITHOUT the kernel sandbox "
                 "(it could read source/, the gradebook and other students' work)")


def question_order(course: Path, assignment: str, gb) -> list[tuple[str, str, float]]:
    """(notebook, grade id, max points) of every graded cell, in notebook order."""
    import nbformat

    from .plan import STATE_DIR

    from nbgrader.api import MissingEntry

    out = []
    try:
        assignment_entry = gb.find_assignment(assignment)
    except MissingEntry:
        return out
    for nb in sorted(assignment_entry.notebooks, key=lambda n: n.name):
        cells = {c.name: c.max_score for c in list(nb.grade_cells) + list(nb.task_cells)}
        order = []
        path = course / STATE_DIR / "release" / assignment / f"{nb.name}.ipynb"
        if path.exists():
            for cell in nbformat.read(str(path), as_version=4).cells:
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if gid in cells and gid not in order:
                    order.append(gid)
        order += sorted(set(cells) - set(order))
        out += [(nb.name, gid, float(cells[gid])) for gid in order]
    return out


def collect(course: Path, db_url: str, state, assignments: list, students: list) -> list[dict]:
    """One row per (student, assignment) with scores, per-question scores, status and reason."""
    from nbgrader.api import Gradebook, MissingEntry

    rows = []
    if not students or not assignments:
        return rows
    with Gradebook(db_url) as gb:
        questions = {hw: question_order(course, hw, gb) for hw in assignments}
        for sid in students:
            try:
                who = gb.find_student(sid)
                person = {"first_name": who.first_name, "last_name": who.last_name,
                          "lms_user_id": who.lms_user_id}
            except MissingEntry:
                person = {}
            for hw in assignments:
                info = state.get(hw, sid) or {"status": "missing", "reason": "not submitted", "notes": []}
                row = {"student": sid, "assignment": hw, "status": info.get("status", "ok"),
                       "reason": info.get("reason", ""),
                       "notes": [Note.from_state(n) for n in info.get("notes", [])],
                       "score": None, "max_score": sum(q[2] for q in questions[hw]), "questions": {},
                       **person}
                try:
                    sub = gb.find_submission(hw, sid)
                except MissingEntry:
                    sub = None
                if sub is not None:
                    row["score"], row["max_score"] = sub.score, sub.max_score
                    pending = 0
                    for nb in sub.notebooks:
                        for grade in nb.grades:
                            row["questions"][grade.name] = grade.score
                            # a 0-point rubric (task) cell never changes the score
                            pending += bool(grade.needs_manual_grade and grade.max_score)
                    row["pending_manual"] = pending
                    if row["status"] == "missing":
                        row["status"], row["reason"] = "ok", ""
                rows.append(row)
    for row in rows:
        row["question_max"] = {gid: mx for _, gid, mx in questions[row["assignment"]]}
    return rows


def _fmt(x) -> str:
    if x is None:
        return "-"
    return f"{x:g}" if float(x) != int(x) else f"{int(x)}"


def summary_table(rows: list[dict], assignments: list, summary: dict) -> str:
    lines = []
    if summary.get("unsafe"):
        lines.append(UNSAFE_BANNER)
    if summary.get("title"):
        lines.append(summary["title"])
    elif summary.get("merged_shards"):
        lines.append(f"dlgrade merge: {summary['merged_shards']} shard(s), {len(rows)} submissions, "
                     f"{summary['seconds']:.1f} s")
    else:
        lines.append(f"dlgrade grade: {summary['graded']} graded now, {summary['skipped']} up to date, "
                     f"{summary['workers']} worker(s), {summary['seconds']:.1f} s"
                     + "".join(f"; {name} {seconds:.1f} s" for name, seconds in summary.get("phases", {}).items()))
    by_student = {}
    for row in rows:
        by_student.setdefault(row["student"], {})[row["assignment"]] = row
    head = ["student"] + assignments + ["status", "reason"]
    table = []
    for sid in sorted(by_student):
        cells = [sid]
        worst, reasons = "ok", []
        for hw in assignments:
            row = by_student[sid].get(hw)
            if row is None:
                cells.append("")
                continue
            cells.append("-" if row["status"] == "missing" else f"{_fmt(row['score'])}/{_fmt(row['max_score'])}")
            if RANK[row["status"]] > RANK[worst]:
                worst = row["status"]
            if row["status"] != "ok":
                reason = row["reason"] or "; ".join(note_texts(row["notes"]))
                reasons.append(f"{hw}: {reason}" if len(assignments) > 1 else reason)
        cells += [worst, " | ".join(reasons)]
        table.append(cells)
    widths = [max(len(str(r[i])) for r in [head] + table) for i in range(len(head) - 1)]
    fmt = "  ".join(f"{{:{w}}}" for w in widths) + "  {}"
    lines.append(fmt.format(*head))
    lines.append(fmt.format(*["-" * w for w in widths], "-" * 6))
    lines += [fmt.format(*r) for r in table]
    counts = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    lines.append("submissions: " + ", ".join(f"{n} {STATUS_TEXT[s]}" for s, n in sorted(counts.items())))
    flagged = {}
    for row in rows:
        for kind in flags(row["notes"]):
            flagged[kind] = flagged.get(kind, 0) + 1
    if flagged:
        lines.append("flagged: " + ", ".join(f"{flagged[k]} {FLAG_TEXT[k]}" for k in NoteKind if k in flagged))
    if summary.get("unsafe"):
        lines.append(UNSAFE_BANNER)
    return "\n".join(lines)


def write_csv(path: Path, rows: list[dict], assignments: list) -> None:
    qcols = []
    for hw in assignments:
        example = next((r for r in rows if r["assignment"] == hw), None)
        if example:
            qcols += [(hw, gid, mx) for gid, mx in example["question_max"].items()]
    header = ["student_id", "assignment", "score", "max_score", "status", "reason", "flags", "pending_manual",
              "final"]
    header += [f"{hw}/{gid} (max {_fmt(mx)})" for hw, gid, mx in qcols]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        for row in sorted(rows, key=lambda r: (r["student"], r["assignment"])):
            reason = row["reason"] or "; ".join(note_texts(row["notes"]))
            line = [row["student"], row["assignment"], _csv_num(row["score"]), _csv_num(row["max_score"]),
                    row["status"], reason, ";".join(flags(row["notes"])), row.get("pending_manual", ""),
                    "no: " + waiting_reason(row) if waiting_reason(row) else "yes"]
            for hw, gid, _ in qcols:
                line.append(_csv_num(row["questions"].get(gid)) if hw == row["assignment"] else "")
            writer.writerow(line)


def _csv_num(x):
    return "" if x is None else f"{float(x):g}"


def write_all(course: Path, rows: list[dict], assignments: list, summary: dict, out=sys.stdout) -> None:
    from .cohort_view import write_view

    reports = course / REPORTS
    text = summary_table(rows, assignments, summary)
    reports.mkdir(parents=True, exist_ok=True)
    write_csv(reports / CSV_NAME, rows, assignments)
    crash_point("reports")
    write_canvas(reports, rows, assignments)
    (reports / SUMMARY_NAME).write_text(text + "\n", encoding="utf-8")
    view = write_view(course, rows, assignments, text)
    print(text, file=out)
    print(f"written: {reports / CSV_NAME}, {reports / CANVAS_NAME}, "
          + ", ".join(str(p) for p in view) + f", {course / 'autograded'}, {course / 'feedback'}", file=out)


# ----------------------------------------------------------------------------- feedback pages

def _notes_html(result: dict) -> str:
    status = result.get("status", "ok")
    items = note_texts(Note.from_state(n) for n in result.get("notes", []))
    if result.get("reason") and result["reason"] not in items:
        items.insert(0, result["reason"])
    if status == "ok" and not items:
        return ""
    li = "".join(f"<li>{html.escape(n)}</li>" for n in items)
    return ('<div class="dlgrade-notes" style="border:2px solid #c60;padding:0.6em 1em;margin:1em;'
            'background:#fff6ee">'
            f"<strong>Grader notes ({html.escape(STATUS_TEXT.get(status, status))})</strong><ul>{li}</ul></div>")


def annotate_feedback(page: Path, result: dict) -> None:
    block = _notes_html(result)
    if not block:
        return
    text = page.read_text(encoding="utf-8")
    m = re.search(r"<body[^>]*>", text)
    at = m.end() if m else 0
    page.write_text(text[:at] + block + text[at:], encoding="utf-8")


def failure_feedback(page: Path, result: dict) -> None:
    title = f"{result['assignment']}: feedback for {result['student']}"
    body = (f"<h1>{html.escape(title)}</h1>"
            "<p>This submission could not be graded, so its autograded questions score 0.</p>"
            f"<p><strong>Reason:</strong> {html.escape(result.get('reason') or 'unknown')}</p>"
            + _notes_html({**result, "status": "failed"}))
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
                    f"</head><body>{body}</body></html>\n", encoding="utf-8")
