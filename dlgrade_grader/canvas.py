"""The gradebook as Canvas imports it (Grades > Import), with manual grades merged in.

Canvas reads the layout of its own export: the columns ``Student``, ``ID``,
``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment;
a second row that starts with ``Points Possible`` gives each new assignment its
points. An assignment column without a Canvas id in brackets makes a new
assignment; ``name (1234)`` updates assignment 1234. Canvas leaves an empty
score cell unchanged, which is how a score that is not final is kept out:
submissions still waiting for a TA's manual grade, and ones never submitted,
stay empty here and are listed in ``canvas_pending.csv`` with the reason.
"""
from __future__ import annotations

import csv
from pathlib import Path

CANVAS_NAME = "canvas_grades.csv"
PENDING_NAME = "canvas_pending.csv"
IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _num(x) -> str:
    return "" if x is None else f"{float(x):g}"


def _student_name(row: dict) -> str:
    first, last = row.get("first_name") or "", row.get("last_name") or ""
    return f"{last}, {first}" if first and last else (last or first or row["student"])


def waiting_reason(row: dict) -> str:
    """Why this row's score must not be posted yet ('' when it is final)."""
    if row["status"] == "missing":
        return "not submitted"
    if row.get("pending_manual"):
        n = row["pending_manual"]
        return f"waiting for manual grading ({n} cell{'s' if n != 1 else ''})"
    return ""


def write_canvas(reports: Path, rows: list[dict], assignments: list, canvas_ids: dict | None = None) -> None:
    """``canvas_ids``: assignment -> Canvas assignment id, for columns that update existing ones."""
    canvas_ids = canvas_ids or {}
    columns = [f"{hw} ({canvas_ids[hw]})" if hw in canvas_ids else hw for hw in assignments]
    maxima = {hw: next((r["max_score"] for r in rows if r["assignment"] == hw), None) for hw in assignments}
    by_student: dict = {}
    for row in rows:
        by_student.setdefault(row["student"], {})[row["assignment"]] = row
    reports.mkdir(parents=True, exist_ok=True)
    pending = []
    with open(reports / CANVAS_NAME, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(IDENTITY + columns)
        out.writerow(["Points Possible", "", "", "", ""] + [_num(maxima[hw]) for hw in assignments])
        for sid in sorted(by_student):
            first = next(iter(by_student[sid].values()))
            line = [_student_name(first), first.get("lms_user_id") or "", sid, "", ""]
            for hw in assignments:
                row = by_student[sid].get(hw)
                why = waiting_reason(row) if row else "not submitted"
                line.append("" if why else _num(row["score"]))
                if why:
                    pending.append([sid, hw, why, _num(row["score"]) if row else ""])
            out.writerow(line)
    with open(reports / PENDING_NAME, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["student_id", "assignment", "why the Canvas cell is empty", "score so far"])
        out.writerows(pending)
