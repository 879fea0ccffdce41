"""Move graded submissions between nbgrader gradebooks with nbgrader's own API.

Parallel workers on SQLite each grade into their own copy of the gradebook; a
CI job matrix grades shards on separate machines. Either way the results end
up in one gradebook through :func:`import_submission`, called by a single
writer. A submission travels as plain data (:func:`export_submission`), so it
can cross a process boundary or be read from another machine's gradebook.

Auto fields (auto scores and comments, timestamps, late penalties) always come
from the incoming copy. Manual fields (a TA's scores and comments, extra
credit) are taken only where the destination has none, so merging never
overwrites manual grading done in the main gradebook.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

GRADE_AUTO = ("auto_score",)
GRADE_MANUAL = ("manual_score", "extra_credit")
COMMENT_AUTO = ("auto_comment",)
COMMENT_MANUAL = ("manual_comment",)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def export_submission(gb: Gradebook, assignment: str, student: str) -> dict:
    sub = gb.find_submission(assignment, student)
    stu = sub.student
    data = {
        "assignment": assignment,
        "student": {"id": stu.id, "first_name": stu.first_name, "last_name": stu.last_name,
                    "email": stu.email, "lms_user_id": stu.lms_user_id},
        "timestamp": sub.timestamp.isoformat() if sub.timestamp else None,
        "extension": sub.extension.total_seconds() if sub.extension else None,
        "notebooks": {},
    }
    for nb in sub.notebooks:
        data["notebooks"][nb.name] = {
            "flagged": bool(nb.flagged),
            "late_submission_penalty": nb.late_submission_penalty,
            "grades": {g.name: {"auto_score": g.auto_score, "manual_score": g.manual_score,
                                "extra_credit": g.extra_credit, "needs_manual_grade": g.needs_manual_grade}
                       for g in nb.grades},
            "comments": {c.name: {"auto_comment": c.auto_comment, "manual_comment": c.manual_comment}
                         for c in nb.comments},
        }
    return data


def ensure_student(gb: Gradebook, student: dict | str) -> None:
    info = {"id": student} if isinstance(student, str) else dict(student)
    sid = info.pop("id")
    try:
        gb.find_student(sid)
    except MissingEntry:
        gb.add_student(sid, **{k: v for k, v in info.items() if v is not None})


@contextlib.contextmanager
def _quiet():
    # nbgrader's add_submission builds its rows through backrefs, which SQLAlchemy
    # 2 reports as autoflush warnings; the rows are added explicitly right after
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        yield


def _submission(gb: Gradebook, hw: str, sid: str, **kwargs):
    with _quiet():
        return gb.update_or_create_submission(hw, sid, **kwargs)


def import_submission(gb: Gradebook, data: dict) -> None:
    """Write one exported submission into ``gb`` (one transaction)."""
    ensure_student(gb, data["student"])
    sid, hw = data["student"]["id"], data["assignment"]
    kwargs = {}
    if data.get("timestamp"):
        kwargs["timestamp"] = data["timestamp"]
    sub = _submission(gb, hw, sid, **kwargs)
    if data.get("extension") is not None and sub.extension is None:
        sub.extension = dt.timedelta(seconds=data["extension"])
    for nb_name, nb_data in data["notebooks"].items():
        nb = gb.find_submission_notebook(nb_name, hw, sid)
        nb.flagged = nb.flagged or nb_data["flagged"]
        nb.late_submission_penalty = nb_data["late_submission_penalty"]
        for name, values in nb_data["grades"].items():
            grade = _named(nb.grades, name, f"grade cell {name} of {hw}/{nb_name}")
            grade.auto_score = values["auto_score"]
            for key in GRADE_MANUAL:
                if getattr(grade, key) is None and values.get(key) is not None:
                    setattr(grade, key, values[key])
            # the rule SaveAutoGrades applies
            grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
        for name, values in nb_data["comments"].items():
            comment = _named(nb.comments, name, f"cell {name} of {hw}/{nb_name}")
            comment.auto_comment = values["auto_comment"]
            if comment.manual_comment is None and values.get("manual_comment") is not None:
                comment.manual_comment = values["manual_comment"]
    gb.db.commit()


def _named(entries, name: str, what: str):
    for entry in entries:
        if entry.name == name:
            return entry
    raise MissingEntry(f"{what} is not in the destination gradebook")


def record_zero(gb: Gradebook, assignment: str, student: str, comment: str = "") -> None:
    """A submission that could not be graded: every autograded cell scores zero."""
    ensure_student(gb, student)
    sub = _submission(gb, assignment, student)
    for nb in sub.notebooks:
        for grade in nb.grades:
            grade.auto_score = 0.0
            grade.needs_manual_grade = grade.manual_score is not None
        for c in nb.comments:
            c.auto_comment = comment or None
    gb.db.commit()


def has_submission(gb: Gradebook, assignment: str, student: str) -> bool:
    try:
        gb.find_submission(assignment, student)
        return True
    except MissingEntry:
        return False


def merge_gradebooks(src_url: str, dst: Gradebook, assignments=None) -> list[tuple[str, str]]:
    """Import every submission of ``src_url`` (optionally only some assignments) into ``dst``."""
    merged = []
    with Gradebook(src_url) as src:
        for student in src.students:
            ensure_student(dst, {"id": student.id, "first_name": student.first_name,
                                 "last_name": student.last_name, "email": student.email,
                                 "lms_user_id": student.lms_user_id})
        for assignment in src.assignments:
            if assignments and assignment.name not in assignments:
                continue
            for sub in assignment.submissions:
                import_submission(dst, export_submission(src, assignment.name, sub.student.id))
                merged.append((assignment.name, sub.student.id))
    return merged


def replace_tree(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst``, replacing what was there (read-only files included)."""
    if dst.exists() or dst.is_symlink():
        shutil.rmtree(dst, onerror=force_remove)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(src), str(dst))


def force_remove(func, path, _exc):
    """``shutil.rmtree`` error handler: make the folder (and the entry) writable, then try again."""
    import os
    import stat
    parent = os.path.dirname(path)
    os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR | stat.S_IXUSR)
    if os.path.isdir(path) and not os.path.islink(path):
        os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR | stat.S_IXUSR)
    func(path)
