"""Fold the course folders of CI shards (each graded with ``--shard i/n``) into one course.

Grades, comments and submissions go through nbgrader's Gradebook API
(:mod:`.merge`); the autograded and feedback folders, the logs and each
shard's outcomes are copied. Every step replaces what it writes, so merging a
shard again, or after a merge that was killed half-way, gives the same course.
"""
from __future__ import annotations

import logging
import shutil
import sys
import time
from pathlib import Path

from .course_lock import course_lock
from .crashpoints import crash_point
from .inprocess import sync_assignments, venv_on_path
from .merge import force_remove, merge_gradebooks, sqlite_url
from .plan import STATE_DIR, State, gradebook_url


def merge_shards(course: Path, shards: list, db_url: str | None = None, out=sys.stdout) -> dict:
    """Fold shard course folders (each graded with ``--shard i/n``) into ``course``.

    Grades, comments and submissions go through nbgrader's Gradebook API; the
    autograded and feedback folders and each shard's status/reasons are copied.
    Every step replaces what it writes, so merging a shard again, or after a
    merge that was killed half-way, gives the same course.
    """
    with course_lock(Path(course).resolve(), "merge"):
        return _merge_shards(course, shards, db_url, out)


def _merge_shards(course: Path, shards: list, db_url: str | None = None, out=sys.stdout) -> dict:
    from nbgrader.api import Gradebook

    from . import report

    t0 = time.monotonic()
    course = course.resolve()
    venv_on_path()
    state = State(course)
    db_url = gradebook_url(course, db_url)
    shard_states = [State(Path(s)) for s in shards]
    assignments = sorted({r["assignment"] for st in shard_states for r in st.data["results"].values()})
    sync_assignments(course, assignments, db_url, logging.getLogger("dlgrade.main"))
    unsafe = state.data.get("unsafe", False)
    with Gradebook(db_url) as gb:
        for shard, shard_state in zip(shards, shard_states):
            shard = Path(shard).resolve()
            if (shard / "gradebook.db").exists():
                merge_gradebooks(sqlite_url(shard / "gradebook.db"), gb, assignments)
            for folder in ("autograded", "feedback", f"{STATE_DIR}/logs"):
                for sub in sorted((shard / folder).glob("*/*")) if (shard / folder).is_dir() else []:
                    if sub.is_dir():
                        dst = course / folder / sub.relative_to(shard / folder)
                        if dst.exists():
                            shutil.rmtree(dst, onerror=force_remove)
                        shutil.copytree(sub, dst, symlinks=True)
            for result in shard_state.data["results"].values():
                state.put(result)
            unsafe = unsafe or shard_state.data.get("unsafe", False)
            state.save()
            crash_point("merged-shard")
    state.data["unsafe"] = unsafe
    state.save()
    # the reports cover the whole course, not only the shards of this merge: merging one shard
    # again must not drop the students of the others from grades.csv
    results = state.data["results"].values()
    assignments = sorted({r["assignment"] for r in results})
    students = sorted({r["student"] for r in results})
    summary = {"graded": 0, "skipped": 0, "workers": 0, "seconds": time.monotonic() - t0, "unsafe": unsafe,
               "assignments": assignments, "students": students, "merged_shards": len(shards)}
    rows = report.collect(course, db_url, state, assignments, students)
    summary["rows"] = rows
    report.write_all(course, rows, assignments, summary, out=out)
    return summary
