"""Grade a whole cohort: every submission in ``submitted/``, with N workers, in named phases.

1. **plan** (:mod:`.plan`): which assignments and students, and which
   submissions changed since the state file last saw them;
2. **sync**: the assignments' notebooks and cells into the gradebook, as
   ``nbgrader generate_assignment`` does (:mod:`.inprocess`);
3. **grade** (:mod:`.dispatch`, :mod:`.worker`): long-lived workers grade
   submission after submission; each :class:`.outcome.Outcome` is recorded in
   the gradebook first and the state file second;
4. **report** (:mod:`.report`): the table, the CSVs, the plots, the index page.

With SQLite each worker grades into its own copy of the gradebook and this
process, the only writer of the course gradebook, imports each result through
nbgrader's Gradebook API (:mod:`.merge`). With a server database
(``--db-url``) workers write to it directly; students are created here first so
workers never race to insert the same row.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .course_lock import course_lock
from .crashpoints import crash_point
from .dispatch import dispatch
from .faults import MachineFault, classify, machine_message
from .inprocess import sync_assignments, venv_on_path
from .outcome import Status
from .plan import (STATE_DIR, State, gradebook_url, grader_fingerprint, list_assignments, list_students,
                   plan_tasks, shard_of)

UNSAFE_ENV = "DLGRADE_UNSAFE_NO_SANDBOX"


@dataclass
class Options:
    course: Path
    assignments: list = field(default_factory=list)
    workers: int = 0
    db_url: str | None = None
    unsafe_no_sandbox: bool = False
    force: bool = False
    students: list = field(default_factory=list)
    shard: tuple | None = None          # (index, count)
    task_timeout: float = 1800.0
    progress: bool = True
    feedback: bool = True
    reports: bool = True
    db_patience: float = 120.0          # seconds an unreachable gradebook server is waited for


def run(opts: Options, out=sys.stdout) -> dict:
    """Grade and report; returns ``{"rows": [...], "graded": n, "skipped": n, "seconds": t}``.

    Holds the course lock throughout; raises :class:`.course_lock.CourseBusy` if another
    writer holds it, and :class:`.faults.MachineFault` when the machine fails (a full disk,
    a gradebook server that stays away)."""
    if not (opts.course / "nbgrader_config.py").exists():
        raise SystemExit(f"{opts.course.resolve()} is not a course directory (no nbgrader_config.py)")
    with course_lock(opts.course.resolve(), "grade"):
        try:
            return _run(opts, out)
        except MachineFault:
            raise
        except Exception as exc:
            fault = classify(exc)
            if fault is None:
                raise
            raise MachineFault(fault, machine_message(fault, opts.course, opts.db_url)) from exc


def _run(opts: Options, out=sys.stdout) -> dict:
    from nbgrader.api import Gradebook

    from . import report
    from .merge import import_submission, record_zero

    t0 = time.monotonic()
    course = opts.course.resolve()
    env = _environment(opts)
    assignments, messages = list_assignments(course, opts.assignments)
    for msg in messages:
        print(msg, file=sys.stderr)
    students = list_students(course)
    if opts.students:
        students = [s for s in students if s in opts.students]
    if opts.shard:
        students = shard_of(students, *opts.shard)

    # plan and sync
    phases = {}
    mark = time.monotonic()

    def phase_done(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        phases[name] = now - mark
        mark = now

    state = State(course)
    state.data["unsafe"] = bool(opts.unsafe_no_sandbox)
    db_url = gradebook_url(course, opts.db_url)
    graders = {hw: grader_fingerprint(course, hw) for hw in assignments}
    if assignments and students:
        _sync(course, state, db_url, assignments, graders)
    tasks, skipped = plan_tasks(course, state, db_url, assignments, students, graders, opts.force, opts.feedback)
    state.save()
    phase_done("plan and sync")

    # grade
    n_workers = max(1, min(opts.workers or os.cpu_count() or 1, len(tasks)))
    if tasks:
        with Gradebook(db_url) as gb:
            def record(result):
                # the gradebook first, then the state file: a crash in between leaves the
                # submission out of the state, so the next run grades it again and its
                # import replaces the same rows (nothing counted twice)
                crash_point("received")
                try:
                    if result.status == Status.FAILED:
                        record_zero(gb, result.assignment, result.student, result.reason)
                        _ensure_failure_feedback(course, result.state_entry(), opts.feedback)
                    elif result.export:
                        import_submission(gb, result.export)
                except Exception:
                    gb.db.rollback()  # a lost server or a full disk: the session must start afresh
                    raise
                crash_point("imported")
                state.put(result.state_entry())
                state.save()

            dispatch(tasks, n_workers, course, opts, env, record)
    state.save()
    phase_done("grade")

    # report
    rows = report.collect(course, db_url, state, assignments, students)
    phase_done("collect")
    summary = {"graded": len(tasks), "skipped": skipped, "workers": n_workers if tasks else 0,
               "seconds": time.monotonic() - t0, "unsafe": opts.unsafe_no_sandbox,
               "assignments": assignments, "students": students, "rows": rows, "phases": phases}
    if opts.reports:
        report.write_all(course, rows, assignments, summary, out=out)
    return summary


def _environment(opts: Options) -> dict:
    """What workers add to their environment; checks the sandbox before any worker starts."""
    # said either way: workers are forked from one long-lived process, whose environment may date
    # from an earlier run in the same process
    env = {UNSAFE_ENV: "1" if opts.unsafe_no_sandbox else ""}
    if opts.unsafe_no_sandbox:
        os.environ[UNSAFE_ENV] = "1"
    venv_on_path()
    env["PATH"] = os.environ["PATH"]
    warning = sandbox_preflight()
    if warning:
        print(warning, file=sys.stderr)
    # nbgrader's Gradebook logs a traceback before it re-raises a database error; the error itself
    # reaches the instructor once, as a sentence (see faults.py), not as two tracebacks
    quiet = logging.getLogger("tornado.application")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    return env


def _sync(course: Path, state: State, db_url: str, assignments: list, graders: dict) -> None:
    """Put each assignment whose grader changed (or that the gradebook lacks) in the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    def in_gradebook(gb, hw: str) -> bool:
        try:
            return bool(gb.find_assignment(hw).notebooks)
        except MissingEntry:
            return False

    log = logging.getLogger("dlgrade.main")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    synced = state.data.setdefault("synced", {})
    stale = [hw for hw in assignments
             if synced.get(hw) != [graders[hw], db_url] or not (course / STATE_DIR / "release" / hw).is_dir()]
    with Gradebook(db_url) as gb:
        stale += [hw for hw in assignments if hw not in stale and not in_gradebook(gb, hw)]
    sync_assignments(course, stale, db_url, log)
    for hw in stale:
        synced[hw] = [graders[hw], db_url]


def sandbox_preflight() -> str:
    """'' when student kernels will be sandboxed; a warning when the instructor opted out.

    Raises the sandbox's ``SandboxUnavailable`` when it cannot run and there is
    no opt-out, before any worker starts.
    """
    from . import sandbox
    return sandbox.require_sandbox()


def _ensure_failure_feedback(course: Path, result: dict, feedback: bool) -> None:
    """A worker that died left no feedback: say why."""
    from .report import failure_feedback

    folder = course / "feedback" / result["student"] / result["assignment"]
    if feedback and not (folder.exists() and any(folder.glob("*.html"))):
        release = course / STATE_DIR / "release" / result["assignment"]
        folder.mkdir(parents=True, exist_ok=True)
        for nb in sorted(release.glob("*.ipynb")) or [Path(result["assignment"] + ".ipynb")]:
            failure_feedback(folder / f"{nb.stem}.html", result)
