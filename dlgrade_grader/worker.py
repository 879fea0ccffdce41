"""A grading worker: one long-lived process that grades submission after submission in-process.

It keeps nbgrader, the verifier and torch imported, works in its own folder
under ``.dlgrade/work/`` and, with SQLite, grades into its own copy of the
gradebook (the main process imports each result). What it sends back is an
:class:`.outcome.Outcome`; a machine fault (full disk, lost database server)
is named in it rather than charged to the student.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import time
import traceback
from dataclasses import asdict
from pathlib import Path

from .faults import DATABASE, classify
from .inprocess import (cache_metadata_schema, capturing_autograde, coursedir, forget_gradebook_connections,
                        load_config, reusable_feedback_class, reuse_gradebook_connections, sqlite_snapshot)
from .merge import force_remove, replace_tree
from .outcome import Note, NoteKind, Outcome, Status
from .plan import STATE_DIR

# exception names in a cell's output that mean "the grader's limits stopped it"
LIMIT_ERRORS = {
    "CellTimeoutError": "a cell ran past the time limit and was interrupted",
    "TimeoutError": "a cell ran past the time limit and was interrupted",
    "MemoryError": "the notebook ran out of its memory allowance",
    "DeadKernelError": "the kernel died while running the notebook",
    "BlockingIOError": "the notebook tried to start more processes than allowed",
    "OutputLimitError": "the notebook printed more output than allowed",
    "KernelDied": "the kernel died",
    "NotebookTimeout": "the notebook ran out of its wall-clock time",
    "OutputLost": "an output was too large and was dropped",
}
# sandbox report events (dlgrade_grader.execute) are limits that stopped or cut the
# notebook, except these (the intake already reports removed links)
QUIET_EVENTS = {"links_left_out"}
FAILURE_PATTERNS = [  # (text in nbgrader's log, reason); first match wins
    ("SandboxUnavailable", "the kernel sandbox cannot run here (install bubblewrap, or grade with "
                           "--unsafe-no-sandbox)"),
    ("SandboxError", "the kernel sandbox refused to start the kernel"),
    ("DeadKernelError", "the kernel died while running the notebook (it exited, crashed or hit a resource "
                        "limit); no autograded points"),
    ("Kernel died", "the kernel died while running the notebook; no autograded points"),
    ("UnresponsiveKernelError", "the kernel stopped responding and could not be interrupted"),
    ("CellTimeoutError", "a cell ran past the time limit"),
    ("MemoryError", "the grader ran out of memory on this notebook"),
]


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []
        self.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))

    def emit(self, record):
        try:
            self.lines.append(self.format(record))
        except Exception:  # a log record must never break grading
            pass


class Worker:
    """One grading process: a work folder, a loaded config, nbgrader converters."""

    def __init__(self, course: Path, index: int, db_url: str | None):
        self.course, self.index = course, index
        self.work = course / STATE_DIR / "work" / f"w{index}"
        if self.work.exists():
            shutil.rmtree(self.work, onerror=force_remove)
        self.work.mkdir(parents=True)
        shutil.copy(course / "nbgrader_config.py", self.work / "nbgrader_config.py")
        for folder in ("source", STATE_DIR + "/release"):
            os.symlink(course / folder, self.work / Path(folder).name)
        self.sqlite = not db_url
        if self.sqlite:
            sqlite_snapshot(course / "gradebook.db", self.work / "gradebook.db")
            db_url = f"sqlite:///{self.work / 'gradebook.db'}"
        self.db_url = db_url
        self.cfg = load_config(self.work, self.work, db_url)
        self.cfg.CourseDirectory.release_directory = "release"
        # the sandbox already keeps the kernel away from its own course root (this
        # work folder); the real course root must stay out of reach as well
        protected = list(self.cfg.SandboxedKernelManager.get("protected_paths", []))
        self.cfg.SandboxedKernelManager.protected_paths = protected + [str(course)]
        self.handler = _ListHandler()
        self.log = logging.getLogger(f"dlgrade.worker{index}")
        self.log.handlers[:] = [self.handler]
        self.log.setLevel(logging.INFO)
        self.log.propagate = False
        self._feedback = None
        self._releases = {}
        # paid once per worker rather than on its first submission
        from nbgrader.converters import Autograde, GenerateFeedback  # noqa: F401

        from . import preprocessors  # noqa: F401
        reuse_gradebook_connections()
        cache_metadata_schema()

    def release_notebooks(self, hw: str) -> dict:
        if hw not in self._releases:
            import nbformat
            folder = self.course / STATE_DIR / "release" / hw
            self._releases[hw] = {p.stem: nbformat.read(str(p), as_version=4)
                                  for p in sorted(folder.glob("*.ipynb"))}
        return self._releases[hw]

    def grade(self, task: dict) -> Outcome:
        from nbgrader.api import Gradebook
        from nbgrader.converters.base import NbGraderException

        from .intake import intake
        from .merge import export_submission, record_zero

        sid, hw = task["student"], task["assignment"]
        self.handler.lines = []
        phases, t0 = {}, time.perf_counter()
        out = Outcome(sid, hw, task["fingerprint"], worker=self.index, phases=phases)
        submitted = self.work / "submitted" / sid / hw
        release = self.release_notebooks(hw)
        checked = intake(Path(task["src"]), submitted, release)
        out.notes += [Note(NoteKind.REPAIR, text) for text in checked.notes]
        phases["intake"] = time.perf_counter() - t0

        graded = False
        if checked.fatal:
            out.reason = checked.fatal
        else:
            t1 = time.perf_counter()
            cd = coursedir(self.cfg, student_id=sid, assignment_id=hw)
            conv = capturing_autograde()(coursedir=cd, config=self.cfg, log=self.log)
            conv.force = True
            try:
                conv.start()
                graded = all((self.work / "autograded" / sid / hw / f"{nb}.ipynb").exists()
                             for nb in checked.notebooks)
                if not graded:
                    out.reason = "nbgrader produced no graded notebook: " + _last_error(self.handler.lines)
            except NbGraderException:
                out.reason = diagnose(conv.failure, self.handler.lines)
            except Exception as exc:  # nbgrader bug or environment trouble: this submission only
                if classify(exc):
                    raise
                out.reason = f"grading crashed: {type(exc).__name__}: {exc}"
                self.log.error(traceback.format_exc())
            if classify(conv.failure):  # the machine failed, not the submission
                raise conv.failure
            phases["autograde"] = time.perf_counter() - t1

        autograded = self.work / "autograded" / sid / hw
        if graded:
            out.notes += notes_from_run(autograded, checked.notebooks)
        t2 = time.perf_counter()
        if self.sqlite:
            if graded:
                with Gradebook(self.db_url) as gb:
                    out.export = export_submission(gb, hw, sid)
        elif not graded:
            with Gradebook(self.db_url) as gb:
                record_zero(gb, hw, sid, out.reason)
        phases["gradebook"] = time.perf_counter() - t2
        out.settle(graded)

        t3 = time.perf_counter()
        feedback = self.work / "feedback" / sid / hw
        if feedback.exists():
            shutil.rmtree(feedback)
        if task.get("feedback", True):
            self._write_feedback(out, graded, feedback, release)
        phases["feedback"] = time.perf_counter() - t3

        for folder, src in (("autograded", autograded), ("feedback", feedback)):
            dst = self.course / folder / sid / hw
            if src.exists():
                replace_tree(src, dst)
            elif dst.exists():
                shutil.rmtree(dst, onerror=force_remove)
        logs = self.course / STATE_DIR / "logs" / hw
        logs.mkdir(parents=True, exist_ok=True)
        (logs / f"{sid}.log").write_text("\n".join(self.handler.lines) + "\n")
        shutil.rmtree(submitted, ignore_errors=True)
        phases["total"] = time.perf_counter() - t0
        out.explain()
        return out

    def _write_feedback(self, out: Outcome, graded: bool, folder: Path, release: dict) -> None:
        """nbgrader's feedback page with the grader's notes on top; a page saying why, when there is none."""
        from .report import annotate_feedback, failure_feedback

        if graded:
            try:
                self._feedback_converter(out.student, out.assignment)
                for page in folder.glob("*.html"):
                    annotate_feedback(page, out.state_entry())
            except Exception as exc:  # feedback must not cost the grade, unless the machine failed
                machine = next((e for e in (self._feedback.failure, exc) if classify(e)), None)
                if machine is not None:
                    raise machine from None
                out.notes.append(Note(NoteKind.FEEDBACK, f"feedback could not be generated: "
                                                         f"{type(exc).__name__}: {exc}"))
                self.log.error(traceback.format_exc())
        if not folder.exists() or not any(folder.glob("*.html")):
            folder.mkdir(parents=True, exist_ok=True)
            for nb in release:
                failure_feedback(folder / f"{nb}.html", out.state_entry())

    def _feedback_converter(self, sid: str, hw: str) -> None:
        if self._feedback is None:
            self._feedback = reusable_feedback_class()(coursedir=coursedir(self.cfg), config=self.cfg,
                                                       log=self.log)
            self._feedback.force = True
        self._feedback.coursedir.student_id = sid
        self._feedback.coursedir.assignment_id = hw
        self._feedback.start()


def notes_from_run(folder: Path, notebooks: list) -> list:
    """What stopped or limited the run (sandbox report, else error outputs) and what the audit found."""
    import nbformat

    from .execute import REPORT_SUFFIX as SANDBOX_REPORT_SUFFIX
    from .preprocessors import SIDECAR_SUFFIX

    notes = []
    for name in notebooks:
        noted = set()  # cells the sandbox report already explains
        sandbox_report = folder / f"{name}{SANDBOX_REPORT_SUFFIX}"
        if sandbox_report.exists():
            for event in json.loads(sandbox_report.read_text()).get("events", []):
                if event.get("kind") and event["kind"] not in QUIET_EVENTS:
                    cell = event.get("cell")
                    where = f" cell {cell + 1}" if isinstance(cell, int) else ""
                    noted.add(cell)
                    notes.append(Note(NoteKind.LIMIT, f"{name}.ipynb{where}: "
                                                      f"{event.get('message', event['kind'])} (limit: {event['kind']})"))
        nb = nbformat.read(str(folder / f"{name}.ipynb"), as_version=4)
        for index, cell in enumerate(nb.cells):
            if index in noted:
                continue
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and output.get("ename") in LIMIT_ERRORS:
                    notes.append(Note(NoteKind.LIMIT, f"{name}.ipynb cell {index + 1}: "
                                                      f"{LIMIT_ERRORS[output['ename']]} ({output['ename']})"))
                    break
        sidecar = folder / f"{name}{SIDECAR_SUFFIX}"
        if sidecar.exists():
            audit = json.loads(sidecar.read_text()).get("audit", {})
            notes += [Note(NoteKind.TAMPERING, f"tampering: {t}") for t in audit.get("tampering", [])]
            notes += [Note(NoteKind.FORBIDDEN, f"forbidden shortcut: {m}") for m in audit.get("blocked", {}).values()]
    return notes


def _last_error(lines: list) -> str:
    errors = [ln for ln in lines if ln.startswith("[ERROR]") or ln.startswith("[WARNING]")]
    text = errors[-1] if errors else (lines[-1] if lines else "no log")
    return text.split("] ", 1)[-1][:300]


def diagnose(failure: BaseException | None, lines: list) -> str:
    """Why nbgrader failed on a submission, in a sentence, from the exception that stopped it."""
    chain = []
    while failure is not None and all(failure is not seen for seen in chain):
        chain.append(failure)
        failure = failure.__cause__ or failure.__context__
    said = [f"{type(exc).__name__}: {exc}" for exc in chain]
    for needle, reason in FAILURE_PATTERNS:
        if any(needle in text for text in said):
            return reason
    if said:
        return f"nbgrader could not grade it: {said[0][:300]}"
    return "nbgrader could not grade it: " + _last_error(lines)


def _die_with(main: int) -> None:
    """A worker must not outlive a killed ``dlgrade grade``: an orphan would go on writing into the
    course while the next run grades it. Workers are forked by multiprocessing's forkserver, which
    exits as soon as the main process is gone; Linux then sends SIGKILL to this process (its kernels
    already die with it: bubblewrap's --die-with-parent)."""
    import ctypes
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the worker ends when its pipe closes instead
        pass
    if os.getppid() != parent:  # the forkserver died before the line above took effect
        os._exit(1)
    try:
        os.kill(main, 0)
    except ProcessLookupError:  # the main process is gone already
        os._exit(1)


def worker_main(conn, course: str, index: int, db_url: str | None, env: dict, parent: int) -> None:
    """Entry point of a worker process: set up, then grade tasks until told to stop."""
    os.setpgrp()  # the main process can end this worker and every kernel it started at once
    _die_with(parent)
    os.environ.update(env)
    course = Path(course)
    log_path = course / STATE_DIR / "work" / f"w{index}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # kernels inherit our stdout/stderr; keep their chatter out of the progress bar
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        worker = Worker(course, index, db_url)
    except Exception:
        conn.send({"fatal": traceback.format_exc()})
        return
    conn.send({"ready": index})
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        try:
            result = worker.grade(task)
        except Exception as exc:
            fault = classify(exc)
            if fault and fault.kind == DATABASE:
                forget_gradebook_connections()
            result = Outcome(task["student"], task["assignment"], task["fingerprint"], Status.FAILED,
                             f"grader error: {type(exc).__name__}: {exc}", worker=index, retry=True,
                             trace=traceback.format_exc(), fault=asdict(fault) if fault else None)
        conn.send(result)
