"""Grade a whole cohort: every submission in ``submitted/`` with N workers.

Each worker is one long-lived process that keeps nbgrader, the verifier and
torch imported and grades submission after submission in-process; starting a
fresh ``nbgrader autograde`` per student would pay those imports every time.
A worker works in its own folder under ``.dlgrade/work/``. With SQLite it
also grades into its own copy of the gradebook, and the main process, the
only writer of the course gradebook, imports each result through nbgrader's
Gradebook API (:mod:`.merge`). With a server database (``--db-url``) the
workers write to it directly; the main process creates students and
assignments first so workers never race to insert the same row.

Every submission passes :func:`.intake.intake` first, so broken files become
a score and a reason instead of a crash. A worker that dies or overruns is
replaced and its submission is recorded as failed; the batch goes on.

Results are remembered in ``.dlgrade/state.json`` with a fingerprint of the
submission and of the grader (source notebooks, config, this package), so a
re-run only grades what changed.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import multiprocessing as mp
import os
import shutil
import signal
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from .course_lock import course_lock
from .crashpoints import crash_point
from .faults import DATABASE, DISK_FULL, Fault, MachineFault, Outage, classify, machine_message

# the check API in a graded kernel records answers without its own preview:
# the verifier decides anyway, and preview references import torch per kernel
import dlgrade

STATE_DIR = ".dlgrade"
STATE_VERSION = 1
UNSAFE_ENV = "DLGRADE_UNSAFE_NO_SANDBOX"
UNSAFE_BANNER = ("WARNING: graded with --unsafe-no-sandbox: student code ran WITHOUT the kernel sandbox "
                 "(it could read source/, the gradebook and other students' work)")
# everything that can decide a grade: the grader, and the student package whose runners and
# comparisons the grader uses (hashing both whole means no hand-kept list can go stale)
PACKAGES = (Path(__file__).resolve().parent, Path(dlgrade.__file__).resolve().parent)
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


# ----------------------------------------------------------------------------- course layout

def list_assignments(course: Path, wanted=()) -> tuple[list, list]:
    """(assignments to grade, messages about requested ones that cannot be)."""
    source = course / "source"
    have = sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))) \
        if source.is_dir() else []
    if not wanted:
        return have, ([] if have else [f"no assignments in {source}"])
    ok, missing = [], []
    for hw in wanted:
        (ok if hw in have else missing).append(hw)
    return ok, [f"skipping {hw}: no source/{hw}/ notebook in {course}" for hw in missing]


def list_students(course: Path) -> list:
    sub = course / "submitted"
    if not sub.is_dir():
        return []
    return sorted(p.name for p in sub.iterdir() if p.is_dir() and not p.name.startswith("."))


def shard_of(students: list, index: int, count: int) -> list:
    return [s for i, s in enumerate(sorted(students)) if i % count == index]


def _hash_tree(h, root: Path) -> None:
    if not root.exists() and not root.is_symlink():
        h.update(b"<absent>")
        return
    if root.is_symlink() or root.is_file():
        entries = [(Path(root.name), root)]
    else:
        entries = []
        for base, dirs, files in os.walk(root, followlinks=False):
            dirs.sort()
            for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(base, d))]:
                path = Path(base) / name
                entries.append((path.relative_to(root), path))
    for rel, path in entries:
        h.update(str(rel).encode("utf-8", "surrogateescape") + b"\0")
        if path.is_symlink():
            h.update(b"link:" + os.fsencode(os.readlink(path)) + b"\0")
        elif path.is_file():
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        h.update(b"\0")


def grader_fingerprint(course: Path, assignment: str) -> str:
    """Changes whenever something that decides this assignment's grades changes, the course key
    included (through a keyed hash: the key itself is never written anywhere)."""
    import hmac

    from . import keys
    h = hashlib.sha256()
    _hash_tree(h, course / "source" / assignment)
    _hash_tree(h, course / "nbgrader_config.py")
    for package in PACKAGES:
        for path in sorted(package.rglob("*.py")):
            h.update(str(path.relative_to(package.parent)).encode() + b"\0")
            _hash_tree(h, path)
    try:
        h.update(hmac.new(keys.load(), b"dlgrade fingerprint", hashlib.sha256).digest())
    except keys.MissingKey:
        h.update(b"no key")
    return h.hexdigest()


def submission_fingerprint(folder: Path, grader: str) -> str:
    h = hashlib.sha256(grader.encode())
    _hash_tree(h, folder)
    return h.hexdigest()


# ----------------------------------------------------------------------------- nbgrader in-process

def venv_on_path() -> None:
    """nbgrader runs the alembic CLI (new gradebooks) and kernels from PATH: use this Python's."""
    bindir = os.path.dirname(sys.executable)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bindir:
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def load_config(config_dir: Path, root: Path, db_url: str | None):
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(config_dir)).load_config()
    cfg.CourseDirectory.root = str(root)
    if db_url:
        cfg.CourseDirectory.db_url = db_url
    return cfg


def _coursedir(cfg, **traits):
    from nbgrader.coursedir import CourseDirectory

    cd = CourseDirectory(config=cfg)
    for key, value in traits.items():
        setattr(cd, key, value)
    return cd


def sync_assignments(course: Path, assignments: list, db_url: str, log: logging.Logger) -> None:
    """Put each assignment's notebooks and cells in the gradebook, as ``generate_assignment`` does.

    The release it writes goes to ``.dlgrade/release/`` (the intake's reference
    for cell ids), so the course's own ``release/`` is never touched.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.converters.base import NbGraderException

    venv_on_path()
    cfg = load_config(course, course, db_url)
    for hw in assignments:
        cd = _coursedir(cfg, assignment_id=hw, release_directory=f"{STATE_DIR}/release")
        conv = GenerateAssignment(coursedir=cd, config=cfg, log=log)
        conv.force = True
        try:
            conv.start()
        except NbGraderException as exc:
            raise RuntimeError(f"nbgrader could not generate {hw} from source/{hw}: {exc}") from None


# ----------------------------------------------------------------------------- worker side

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


def reuse_gradebook_connections() -> bool:
    """Make every ``Gradebook(url)`` in this process share one engine per database.

    nbgrader opens the gradebook a dozen times per submission, and each open
    builds an engine, reflects the schema and checks the course row (about
    50 ms apiece on a busy machine). A worker grades hundreds of submissions
    against the same one or two databases, so it does that work once per
    database. Only for the nbgrader version this was written against.
    """
    import nbgrader
    import nbgrader.api as api
    from sqlalchemy.orm import scoped_session, sessionmaker

    if not nbgrader.__version__.startswith("0.9.") or getattr(api.Gradebook, "_dlgrade_shared", False):
        return False
    original_init, engines = api.Gradebook.__init__, {}

    def __init__(self, db_url, course_id="default_course", authenticator=None):  # noqa: N807
        key = (str(db_url), course_id)
        if key not in engines:
            original_init(self, db_url, course_id, authenticator)  # creates tables, checks the course
            engines[key] = self.engine
            return
        self.engine = engines[key]
        self.db = scoped_session(sessionmaker(autoflush=True, bind=self.engine, future=True))
        self.course_id = course_id
        self.authenticator = authenticator

    def close(self):
        self.db.remove()  # the engine (and its pooled connection) stays for the next open

    api.Gradebook.__init__ = __init__
    api.Gradebook.close = close
    api.Gradebook._dlgrade_shared = True
    api.Gradebook._dlgrade_engines = engines
    return True


def forget_gradebook_connections() -> None:
    """After the database server went away: drop the shared engines, so the next open connects anew."""
    import nbgrader.api as api

    engines = getattr(api.Gradebook, "_dlgrade_engines", {})
    for engine in engines.values():
        engine.dispose()
    engines.clear()


class CapturesFailure:
    """Keeps what stopped a submission in an nbgrader converter (nbgrader logs it and raises a
    generic error), so that a full disk or a lost database is told apart from the student's failure."""
    failure = None

    def init_assignment(self, *args, **kwargs):
        try:
            return super().init_assignment(*args, **kwargs)
        except Exception as exc:
            self.failure = exc
            raise

    def convert_single_notebook(self, *args, **kwargs):
        try:
            return super().convert_single_notebook(*args, **kwargs)
        except Exception as exc:
            self.failure = exc
            raise


def capturing_autograde():
    from nbgrader.converters import Autograde

    return type("CapturingAutograde", (CapturesFailure, Autograde), {})


class Worker:
    """One grading process: a work folder, a loaded config, nbgrader converters."""

    def __init__(self, course: Path, index: int, db_url: str | None):
        self.course, self.index = course, index
        self.work = course / STATE_DIR / "work" / f"w{index}"
        if self.work.exists():
            shutil.rmtree(self.work, onerror=_chmod_and_retry)
        self.work.mkdir(parents=True)
        shutil.copy(course / "nbgrader_config.py", self.work / "nbgrader_config.py")
        for folder in ("source", STATE_DIR + "/release"):
            os.symlink(course / folder, self.work / Path(folder).name)
        self.sqlite = not db_url
        if self.sqlite:
            _sqlite_snapshot(course / "gradebook.db", self.work / "gradebook.db")
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

    def release_notebooks(self, hw: str) -> dict:
        if hw not in self._releases:
            import nbformat
            folder = self.course / STATE_DIR / "release" / hw
            self._releases[hw] = {p.stem: nbformat.read(str(p), as_version=4)
                                  for p in sorted(folder.glob("*.ipynb"))}
        return self._releases[hw]

    def grade(self, task: dict) -> dict:
        from nbgrader.api import Gradebook
        from nbgrader.converters.base import NbGraderException

        from .intake import intake
        from .merge import export_submission, record_zero

        sid, hw = task["student"], task["assignment"]
        self.handler.lines = []
        phases, t0 = {}, time.perf_counter()
        out = {"student": sid, "assignment": hw, "fingerprint": task["fingerprint"], "notes": [],
               "reason": "", "status": "ok", "worker": self.index, "export": None}
        submitted = self.work / "submitted" / sid / hw
        release = self.release_notebooks(hw)
        checked = intake(Path(task["src"]), submitted, release)
        out["notes"] += checked.notes
        phases["intake"] = time.perf_counter() - t0

        graded = False
        if checked.fatal:
            out["reason"] = checked.fatal
        else:
            t1 = time.perf_counter()
            cd = _coursedir(self.cfg, student_id=sid, assignment_id=hw)
            conv = capturing_autograde()(coursedir=cd, config=self.cfg, log=self.log)
            conv.force = True
            try:
                conv.start()
                graded = all((self.work / "autograded" / sid / hw / f"{nb}.ipynb").exists()
                             for nb in checked.notebooks)
                if not graded:
                    out["reason"] = "nbgrader produced no graded notebook: " + _last_error(self.handler.lines)
            except NbGraderException:
                out["reason"] = diagnose(self.handler.lines)
            except Exception as exc:  # nbgrader bug or environment trouble: this submission only
                if classify(exc):
                    raise
                out["reason"] = f"grading crashed: {type(exc).__name__}: {exc}"
                self.log.error(traceback.format_exc())
            if classify(conv.failure):  # the machine failed, not the submission
                raise conv.failure
            phases["autograde"] = time.perf_counter() - t1

        autograded = self.work / "autograded" / sid / hw
        if graded:
            out["notes"] += self._notes_from_run(autograded, checked.notebooks)
        t2 = time.perf_counter()
        if self.sqlite:
            if graded:
                with Gradebook(self.db_url) as gb:
                    out["export"] = export_submission(gb, hw, sid)
        elif not graded:
            with Gradebook(self.db_url) as gb:
                record_zero(gb, hw, sid, out["reason"])
        phases["gradebook"] = time.perf_counter() - t2

        if not graded:
            out["status"] = "failed"
        elif any(n.startswith(("tampering", "forbidden")) for n in out["notes"]) or \
                any(_is_limit_note(n) for n in out["notes"]):
            out["status"] = "warning"
        elif out["notes"]:
            out["status"] = "repaired"

        t3 = time.perf_counter()
        feedback = self.work / "feedback" / sid / hw
        if feedback.exists():
            shutil.rmtree(feedback)
        if task.get("feedback", True):
            from .report import annotate_feedback, failure_feedback
            if graded:
                try:
                    self._feedback_converter(sid, hw)
                    for page in feedback.glob("*.html"):
                        annotate_feedback(page, out)
                except Exception as exc:  # feedback must not cost the grade, unless the machine failed
                    machine = next((e for e in (self._feedback.failure, exc) if classify(e)), None)
                    if machine is not None:
                        raise machine from None
                    out["notes"].append(f"feedback could not be generated: {type(exc).__name__}: {exc}")
                    self.log.error(traceback.format_exc())
            if not feedback.exists() or not any(feedback.glob("*.html")):
                feedback.mkdir(parents=True, exist_ok=True)
                for nb in release:
                    failure_feedback(feedback / f"{nb}.html", out)
        phases["feedback"] = time.perf_counter() - t3

        from .merge import replace_tree
        for folder, src in (("autograded", autograded), ("feedback", feedback)):
            dst = self.course / folder / sid / hw
            if src.exists():
                replace_tree(src, dst)
            elif dst.exists():
                shutil.rmtree(dst, onerror=_chmod_and_retry)
        logs = self.course / STATE_DIR / "logs" / hw
        logs.mkdir(parents=True, exist_ok=True)
        (logs / f"{sid}.log").write_text("\n".join(self.handler.lines) + "\n")
        shutil.rmtree(submitted, ignore_errors=True)
        phases["total"] = time.perf_counter() - t0
        out["phases"] = phases
        if not out["reason"] and out["status"] != "ok":
            out["reason"] = "; ".join(out["notes"])
        return out

    def _feedback_converter(self, sid: str, hw: str) -> None:
        if self._feedback is None:
            self._feedback = reusable_feedback_class()(coursedir=_coursedir(self.cfg), config=self.cfg,
                                                       log=self.log)
            self._feedback.force = True
        self._feedback.coursedir.student_id = sid
        self._feedback.coursedir.assignment_id = hw
        self._feedback.start()

    @staticmethod
    def _notes_from_run(folder: Path, notebooks: list) -> list:
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
                        notes.append(f"{name}.ipynb{where}: {event.get('message', event['kind'])} "
                                     f"(limit: {event['kind']})")
            nb = nbformat.read(str(folder / f"{name}.ipynb"), as_version=4)
            for index, cell in enumerate(nb.cells):
                if index in noted:
                    continue
                for output in cell.get("outputs", []):
                    if output.get("output_type") == "error" and output.get("ename") in LIMIT_ERRORS:
                        notes.append(f"{name}.ipynb cell {index + 1}: {LIMIT_ERRORS[output['ename']]} "
                                     f"({output['ename']})")
                        break
            sidecar = folder / f"{name}{SIDECAR_SUFFIX}"
            if sidecar.exists():
                audit = json.loads(sidecar.read_text()).get("audit", {})
                notes += [f"tampering: {t}" for t in audit.get("tampering", [])]
                notes += [f"forbidden shortcut: {m}" for m in audit.get("blocked", {}).values()]
        return notes


def _sqlite_snapshot(src: Path, dst: Path) -> None:
    """A consistent copy even while the main process writes to ``src``."""
    import sqlite3

    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()


def _is_limit_note(note: str) -> bool:
    return "(limit: " in note or any(f"({name})" in note for name in LIMIT_ERRORS)


def sandbox_preflight() -> str:
    """'' when student kernels will be sandboxed; a warning when the instructor opted out.

    Raises the sandbox's ``SandboxUnavailable`` when it cannot run and there is
    no opt-out, before any worker starts.
    """
    try:
        from . import sandbox
    except ImportError:
        return ""
    check = getattr(sandbox, "require_sandbox", None)
    return check() if check else ""


@functools.lru_cache(maxsize=None)
def reusable_feedback_class():
    from nbgrader.converters import GenerateFeedback

    class ReusableFeedback(CapturesFailure, GenerateFeedback):
        """GenerateFeedback that keeps its HTML exporter (and compiled templates) between students."""

        def start(self):
            from nbconvert.writers import FilesWriter

            self.failure = None
            self.init_notebooks()
            if getattr(self, "_kept_exporter", None) is None:
                self.writer = FilesWriter(parent=self, config=self.config)
                self._kept_exporter = self.exporter_class(parent=self, config=self.config)
                for pp in self.preprocessors:
                    self._kept_exporter.register_preprocessor(pp)
            self.exporter = self._kept_exporter
            cwd = os.getcwd()
            os.chdir(self.coursedir.root)
            try:
                self.convert_notebooks()
            finally:
                os.chdir(cwd)

    return ReusableFeedback


def _last_error(lines: list) -> str:
    errors = [ln for ln in lines if ln.startswith("[ERROR]") or ln.startswith("[WARNING]")]
    text = errors[-1] if errors else (lines[-1] if lines else "no log")
    return text.split("] ", 1)[-1][:300]


def diagnose(lines: list) -> str:
    """Why nbgrader failed on a submission, in a sentence."""
    text = "\n".join(lines)
    for needle, reason in FAILURE_PATTERNS:
        if needle in text:
            return reason
    # the last line of the last traceback names the exception
    for line in reversed(lines):
        body = line.split("] ", 1)[-1].strip()
        last = body.splitlines()[-1] if body else ""
        if last and ("Error" in last.split(":")[0] or "Exception" in last.split(":")[0]):
            return f"nbgrader could not grade it: {last[:300]}"
    return "nbgrader could not grade it: " + _last_error(lines)


def _chmod_and_retry(func, path, _exc):
    import stat
    for p in (os.path.dirname(path), path):
        try:
            if not os.path.islink(p):
                os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR | stat.S_IXUSR | stat.S_IRUSR)
        except OSError:
            pass
    func(path)


def _die_with(parent: int) -> None:
    """A worker must not outlive a killed ``dlgrade grade``: an orphan would go on writing into the
    course while the next run grades it. Linux sends SIGKILL to this process when its parent dies
    (its kernels already die with it: bubblewrap's --die-with-parent)."""
    import ctypes
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the worker ends when its pipe closes instead
        pass
    if os.getppid() != parent:  # the parent died before the line above took effect
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
            result = {"student": task["student"], "assignment": task["assignment"],
                      "fingerprint": task["fingerprint"], "status": "failed", "notes": [],
                      "reason": f"grader error: {type(exc).__name__}: {exc}", "export": None,
                      "worker": index, "trace": traceback.format_exc(), "retry": True,
                      "fault": asdict(fault) if fault else None}
        conn.send(result)


# ----------------------------------------------------------------------------- main side

class _Proc:
    def __init__(self, ctx, course, index, db_url, env):
        self.index = index
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker_main, args=(child, str(course), index, db_url, env, os.getpid()),
                                name=f"dlgrade-worker-{index}", daemon=True)
        self.proc.start()
        child.close()
        self.task = None
        self.started = 0.0
        self.ready = False

    def send(self, task):
        self.task, self.started = task, time.monotonic()
        self.conn.send(task)

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.join(5)


class State:
    def __init__(self, course: Path):
        self.path = course / STATE_DIR / "state.json"
        self.data = {"version": STATE_VERSION, "results": {}}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text())
                if data.get("version") == STATE_VERSION:
                    self.data = data
            except (OSError, ValueError):
                pass

    @staticmethod
    def key(hw, sid):
        return f"{hw}/{sid}"

    def get(self, hw, sid):
        return self.data["results"].get(self.key(hw, sid))

    def put(self, result: dict):
        keep = {k: v for k, v in result.items() if k not in ("export", "trace")}
        self.data["results"][self.key(result["assignment"], result["student"])] = keep

    def save(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)


def _in_gradebook(gb, hw: str) -> bool:
    from nbgrader.api import MissingEntry
    try:
        return bool(gb.find_assignment(hw).notebooks)
    except MissingEntry:
        return False


def _ensure_gradebook(course: Path, db_url: str | None) -> str:
    if db_url:
        return db_url
    return f"sqlite:///{course / 'gradebook.db'}"


def run(opts: Options, out=sys.stdout) -> dict:
    """Grade and report; returns ``{"rows": [...], "graded": n, "skipped": n, "seconds": t}``.

    Holds the course lock throughout; raises :class:`.course_lock.CourseBusy` if another
    dlgrade command holds it."""
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
    from .merge import ensure_student, has_submission, import_submission, record_zero

    t0 = time.monotonic()
    course = opts.course.resolve()
    env = {}
    if opts.unsafe_no_sandbox:
        env[UNSAFE_ENV] = "1"
        os.environ[UNSAFE_ENV] = "1"
    venv_on_path()
    env["PATH"] = os.environ["PATH"]
    warning = sandbox_preflight()
    if warning:
        print(warning, file=sys.stderr)
    assignments, messages = list_assignments(course, opts.assignments)
    for msg in messages:
        print(msg, file=sys.stderr)
    students = list_students(course)
    if opts.students:
        students = [s for s in students if s in opts.students]
    if opts.shard:
        students = shard_of(students, *opts.shard)

    state = State(course)
    state.data["unsafe"] = bool(opts.unsafe_no_sandbox)
    db_url = _ensure_gradebook(course, opts.db_url)
    log = logging.getLogger("dlgrade.main")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    # nbgrader's Gradebook logs a traceback before it re-raises a database error; the error itself
    # reaches the instructor once, as a sentence (see faults.py), not as two tracebacks
    quiet = logging.getLogger("tornado.application")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False

    tasks, skipped = [], 0
    n_workers = opts.workers or os.cpu_count() or 1
    graders = {hw: grader_fingerprint(course, hw) for hw in assignments}
    if assignments and students:
        synced = state.data.setdefault("synced", {})
        stale = [hw for hw in assignments
                 if synced.get(hw) != [graders[hw], db_url]
                 or not (course / STATE_DIR / "release" / hw).is_dir()]
        with Gradebook(db_url) as gb:
            stale += [hw for hw in assignments if hw not in stale and not _in_gradebook(gb, hw)]
        sync_assignments(course, stale, db_url, log)
        for hw in stale:
            synced[hw] = [graders[hw], db_url]
    with Gradebook(db_url) as gb:
        for sid in students:
            ensure_student(gb, sid)
        for hw in assignments:
            grader = graders[hw]
            for sid in students:
                folder = course / "submitted" / sid / hw
                if not folder.exists() and not folder.is_symlink():
                    state.put({"student": sid, "assignment": hw, "status": "missing", "notes": [],
                               "reason": "not submitted", "fingerprint": ""})
                    continue
                fp = submission_fingerprint(folder, grader)
                old = state.get(hw, sid)
                up_to_date = (not opts.force and old and old.get("fingerprint") == fp
                              and old.get("status") != "missing" and not old.get("retry")
                              and has_submission(gb, hw, sid)
                              and (course / "autograded" / sid / hw).exists() == (old.get("status") != "failed"))
                if up_to_date:
                    skipped += 1
                    continue
                tasks.append({"student": sid, "assignment": hw, "fingerprint": fp, "src": str(folder),
                              "feedback": opts.feedback})
    state.save()

    n_workers = max(1, min(n_workers, len(tasks)))
    if tasks:
        with Gradebook(db_url) as gb:
            def record(result):
                # the gradebook first, then the state file: a crash in between leaves the
                # submission out of the state, so the next run grades it again and its
                # import replaces the same rows (nothing counted twice)
                crash_point("received")
                try:
                    if result.get("status") == "failed":
                        record_zero(gb, result["assignment"], result["student"], result.get("reason", ""))
                        _ensure_failure_feedback(course, result, opts.feedback)
                    elif result.get("export"):
                        import_submission(gb, result["export"])
                except Exception:
                    gb.db.rollback()  # a lost server or a full disk: the session must start afresh
                    raise
                crash_point("imported")
                state.put(result)
                state.save()

            _dispatch(tasks, n_workers, course, opts, env, record)
    state.save()

    summary = {"graded": len(tasks), "skipped": skipped, "workers": n_workers if tasks else 0,
               "seconds": time.monotonic() - t0, "unsafe": opts.unsafe_no_sandbox,
               "assignments": assignments, "students": students}
    rows = report.collect(course, db_url, state, assignments, students)
    summary["rows"] = rows
    if opts.reports:
        report.write_all(course, rows, assignments, summary, out=out)
    return summary


def _dispatch(tasks: list, n_workers: int, course: Path, opts: Options, env: dict, record) -> None:
    """Hand tasks to idle workers, pass each result to ``record``; replace dead or stuck workers."""
    ctx = mp.get_context("spawn")
    procs = [_Proc(ctx, course, i, opts.db_url, env) for i in range(n_workers)]
    pending = list(tasks)
    bar = _progress(len(tasks), opts.progress)
    early_deaths, recorded = 0, 0
    outage = Outage(opts.db_patience)

    def machine_fault(fault: Fault, task: dict) -> None:
        """A full disk stops the batch; a lost database server puts the task back, to be tried later."""
        left = len(tasks) - recorded
        if fault.kind == DISK_FULL:
            raise MachineFault(fault, machine_message(fault, course, opts.db_url, recorded, left))
        delay = outage.failed(fault, opts.db_url or "", left)
        print(f"waiting for the gradebook database ({fault.detail}): {task['student']}/{task['assignment']} "
              f"is tried again in {delay:.1f} s", file=sys.stderr)
        pending.insert(0, {**task, "not_before": time.monotonic() + delay})

    try:
        while pending or any(p.task for p in procs):
            for p in procs:
                due = [t for t in pending if t.get("not_before", 0) <= time.monotonic()]
                if p.ready and p.task is None and due:
                    try:
                        p.send(due[0])
                        pending.remove(due[0])
                    except OSError:
                        p.task = None
                    crash_point("dispatched")
            wait([p.conn for p in procs] + [p.proc.sentinel for p in procs], timeout=2)
            for i, p in enumerate(procs):
                msg = None
                try:
                    if p.conn.poll():
                        msg = p.conn.recv()
                except (EOFError, OSError):
                    msg = None
                if msg is not None and "ready" in msg:
                    p.ready = True
                    continue
                if msg is not None and "fatal" in msg:
                    raise RuntimeError("a grading worker could not start:\n" + msg["fatal"])
                result, task = msg, p.task
                if result is not None:
                    p.task = None
                elif p.task is not None:
                    overdue = time.monotonic() - p.started > opts.task_timeout
                    if not overdue and p.proc.is_alive():
                        continue
                    why = (f"grading took longer than {opts.task_timeout:.0f} s and was stopped" if overdue
                           else f"the grading process died (exit code {p.proc.exitcode}) on this submission")
                    p.kill()
                    procs[i] = _Proc(ctx, course, p.index, opts.db_url, env)
                    if not overdue and not task.get("attempt"):
                        # killed from outside (the OOM killer, an operator): grade it again once;
                        # a second death is the submission's doing and is reported
                        pending.insert(0, {**task, "attempt": 1})
                        continue
                    result = {**{k: task[k] for k in ("student", "assignment", "fingerprint")},
                              "status": "failed", "notes": [], "reason": why, "export": None,
                              "worker": p.index, "retry": True}
                elif not p.proc.is_alive():
                    if not p.ready:
                        early_deaths += 1
                        if early_deaths > 2 * n_workers:
                            log = course / STATE_DIR / "work" / f"w{p.index}.log"
                            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                            raise RuntimeError(f"grading workers keep dying on start-up:\n{tail}")
                    procs[i] = _Proc(ctx, course, p.index, opts.db_url, env)
                    continue
                else:
                    continue
                if result.get("fault"):
                    machine_fault(Fault(**result["fault"]), task)
                    continue
                try:
                    record(result)
                except Exception as exc:
                    fault = classify(exc)
                    if fault is None:
                        raise
                    machine_fault(fault, task)
                    continue
                outage.recovered()
                recorded += 1
                bar.update(1)
                bar.set_postfix_str(f"{result['student']}/{result['assignment']}: {result['status']}")
    finally:
        bar.close()
        for p in procs:
            try:
                p.conn.send(None)
            except OSError:
                pass
        for p in procs:
            p.proc.join(10)
            if p.proc.is_alive():
                p.kill()
        shutil.rmtree(course / STATE_DIR / "work", ignore_errors=True)


def _ensure_failure_feedback(course: Path, result: dict, feedback: bool) -> None:
    """A worker that died left no feedback: say why."""
    from .report import failure_feedback

    folder = course / "feedback" / result["student"] / result["assignment"]
    if feedback and not (folder.exists() and any(folder.glob("*.html"))):
        release = course / STATE_DIR / "release" / result["assignment"]
        folder.mkdir(parents=True, exist_ok=True)
        for nb in sorted(release.glob("*.ipynb")) or [Path(result["assignment"] + ".ipynb")]:
            failure_feedback(folder / f"{nb.stem}.html", result)


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="grading", unit="nb", disable=not enabled, file=sys.stderr,
                dynamic_ncols=True)


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
    from .merge import merge_gradebooks, sqlite_url

    t0 = time.monotonic()
    course = course.resolve()
    venv_on_path()
    state = State(course)
    db_url = _ensure_gradebook(course, db_url)
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
                            shutil.rmtree(dst, onerror=_chmod_and_retry)
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
