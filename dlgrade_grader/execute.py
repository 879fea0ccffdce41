"""The Execute step: a sandboxed kernel that gets this submission's cases as data, and fails closed.

Before the kernel starts, the grader draws every graded case of the notebook from
the course key (:mod:`dlgrade_grader.casebook`) and binds the casebook read-only
into the sandbox. A test cell is executed as one call that runs its checks from
the casebook, so the text of the test cell (hidden checks included) never enters
the kernel or its ``In`` history; the cell's own source is put back afterwards.
The kernel's folder holds only the regular files the assignment allows
(``kernel_files``), copied and size-capped, never the autograded folder itself.

Plain nbclient turns a dead kernel, or one that ignores the interrupt after
a cell timeout, into an exception that makes nbgrader drop the whole
submission. Here they end the notebook instead: the cell that was running
and every later code cell get an error output saying why, cells that ran
before keep their outputs, and grading goes on. The same happens when the
per-notebook wall clock runs out. Outputs are capped while they arrive, so a
kernel that prints 200 MB never puts 200 MB into the grader's notebook.

What happened is reported in ``nb.metadata["dlgrade_sandbox"]``, in
``resources["dlgrade_sandbox"]`` and in ``<notebook>.sandbox.dlgrade.json``
next to the autograded notebook (a name nbgrader's ignore list keeps out of
submissions).

One class, somewhat over 400 lines on purpose: it overrides nbclient's cell loop in
several places (start, run, timeout, death, output), and those overrides only make
sense read together.
"""
from __future__ import annotations

import fnmatch
import json
import math
import os
import shutil
import tempfile
import time
from queue import Empty

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Dict, Enum, Integer, List, Unicode

from dlgrade import records
from . import casebook, hw, keys
from .sandbox import SandboxedKernelManager
from .verify import parse_check_calls

REPORT_SUFFIX = ".sandbox.dlgrade.json"
MiB = 1 << 20


class NotebookTimeout(Exception):
    """The per-notebook wall clock ran out while a cell was running."""


def _output_bytes(msg_type: str, content: dict) -> int:
    if msg_type == "stream":
        return len(content.get("text", ""))
    if msg_type == "error":
        return sum(len(line) for line in content.get("traceback", [])) + len(content.get("evalue", ""))
    total = 0
    for value in (content.get("data") or {}).values():
        total += len(value) if isinstance(value, str) else len(json.dumps(value, default=str))
    return total


class GraderExecute(Execute):
    kernel_pythons = Dict(
        {}, help="assignment -> Python of a kernel environment for that assignment (one that "
                 "declares more libraries); the others use SandboxedKernelManager.kernel_python"
    ).tag(config=True)
    kernel_files = List(
        Unicode(), [], help="glob patterns (relative to the submission folder) of the regular files "
                           "the kernel may read; nothing else of the submission enters the sandbox"
    ).tag(config=True)
    max_kernel_files_bytes = Integer(
        64 * MiB, help="total size of the files copied into the kernel's folder").tag(config=True)
    max_notebook_output_bytes = Integer(
        64 * MiB, help="bytes of output kept for the whole notebook; records of checks are kept "
                       "within their own cell's cap").tag(config=True)
    notebook_timeout = Integer(
        600, help="Wall clock for one notebook, kernel start included, in seconds. When it runs out "
                  "the kernel is killed and the remaining cells fail.").tag(config=True)
    max_stream_chars = Integer(
        1_000_000, help="stdout/stderr characters kept per cell; the rest is dropped").tag(config=True)
    max_output_bytes = Integer(
        32 * MiB, help="bytes of rich output (displays, results, records) kept per cell; later "
                       "outputs of the cell are dropped").tag(config=True)
    shutdown_kernel = Enum(["graceful", "immediate"], default_value="immediate",
                           help="the sandbox is thrown away: no graceful shutdown").tag(config=True)
    iopub_timeout = Integer(
        10, allow_none=True, help="seconds to wait for a cell's last output after its reply; "
                                  "longer than nbclient's 4 s so a slow, loaded grader is not taken "
                                  "for a lost output channel").tag(config=True)

    def __init__(self, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(**kwargs)
        self._reset_trackers()

    def _reset_trackers(self):
        self._deadline = math.inf
        self._notebook_kept = 0
        self._notebook_dropped = 0
        self._stopped = ""          # why no more cells run, once something ended the kernel
        self._events: list = []
        self._kept: dict = {}       # cell index -> [stream chars, rich bytes]
        self._dropped: dict = {}    # cell index -> [stream chars, rich bytes]
        self._start_seconds = None
        self._interrupted = False
        self._km_report: dict = {}
        self._error = ""

    # -- the whole notebook ----------------------------------------------------------------
    def preprocess(self, nb, resources=None, km=None):
        self._reset_trackers()
        self._deadline = time.monotonic() + self.notebook_timeout
        if km is not None:  # started by the caller: it did not pass through our start hook
            self._km_report = dict(getattr(km, "report", None) or {})
        self._scratch = tempfile.mkdtemp(prefix="dlgrade-grade-")
        os.chmod(self._scratch, 0o755)
        try:
            self._casebook_path = self._write_casebook(nb, resources or {})
            self._kernel_dir = self._stage_kernel_files(resources or {})
            return super().preprocess(nb, resources, km)
        except Exception as exc:
            self._error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._write_report(nb, resources if resources is not None else self.resources)
            shutil.rmtree(self._scratch, ignore_errors=True)

    def _write_casebook(self, nb, resources) -> str:
        """This submission's inputs for every check of the notebook, as a file the kernel reads."""
        info = resources.get("nbgrader") or {}
        assignment, student = info.get("assignment"), info.get("student")
        if not (assignment and student):
            return ""
        try:
            registry = hw.registry(assignment)
        except ImportError:
            return ""
        book = casebook.build(nb, registry, keys.key_for(self.config), student, parse_check_calls)
        path = os.path.join(self._scratch, "casebook.json")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(casebook.dumps(book))
        os.chmod(path, 0o644)
        return path

    def _stage_kernel_files(self, resources) -> str:
        """A folder with only the allowed regular files of the submission, within the size cap."""
        info = resources.get("nbgrader") or {}
        source = (resources.get("metadata") or {}).get("path") or ""
        target = os.path.join(self._scratch, info.get("assignment") or "submission")
        os.makedirs(target)
        os.chmod(target, 0o755)
        budget, left_out = self.max_kernel_files_bytes, []
        if source and os.path.isdir(source) and self.kernel_files:
            for base, dirs, files in os.walk(source):
                dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(base, d))]
                for name in files:
                    path = os.path.join(base, name)
                    rel = os.path.relpath(path, source)
                    if not any(fnmatch.fnmatch(rel, pattern) for pattern in self.kernel_files):
                        continue
                    if os.path.islink(path) or not os.path.isfile(path):
                        left_out.append(f"{rel} (not a regular file)")
                        continue
                    size = os.path.getsize(path)
                    if size > budget:
                        left_out.append(f"{rel} (over the {self.max_kernel_files_bytes // MiB} MiB cap)")
                        continue
                    budget -= size
                    dest = os.path.join(target, rel)
                    os.makedirs(os.path.dirname(dest), exist_ok=True)
                    shutil.copyfile(path, dest)
                    os.chmod(dest, 0o644)
        if left_out:
            self._events.append({"cell": None, "grade_id": None, "kind": "files_left_out",
                                 "message": "left out of the kernel's folder: " + ", ".join(left_out)})
        return target

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        if isinstance(km, SandboxedKernelManager):
            km.protected_paths = list(dict.fromkeys(km.protected_paths + self._protected_paths()))
        return km

    def _protected_paths(self) -> list:
        paths = [os.getcwd(), os.path.expanduser("~")]
        root = self.config.get("CourseDirectory", {}).get("root")
        if isinstance(root, str) and root:
            paths.append(root)
        db_url = ((self.resources or {}).get("nbgrader") or {}).get("db_url", "")
        if db_url.startswith("sqlite:///"):
            paths.append(os.path.dirname(os.path.abspath(db_url[len("sqlite:///"):])))
        return [p for p in paths if p and p != "/"]

    async def async_start_new_kernel(self, **kwargs):
        env = dict(kwargs.pop("env", None) or os.environ)
        env.pop("NBGRADER_EXECUTION", None)
        kwargs["env"] = env
        if getattr(self, "_kernel_dir", ""):
            kwargs["cwd"] = self._kernel_dir
        if isinstance(self.km, SandboxedKernelManager):
            self.km.casebook_path = getattr(self, "_casebook_path", "") or ""
            assignment = ((self.resources or {}).get("nbgrader") or {}).get("assignment")
            if assignment in self.kernel_pythons:
                self.km.kernel_python = self.kernel_pythons[assignment]
        started = time.monotonic()
        await super().async_start_new_kernel(**kwargs)
        self._start_seconds = time.monotonic() - started
        self._km_report = dict(getattr(self.km, "report", None) or {})

    # nbclient binds the sync wrapper to the base coroutine; rebind it to ours
    start_new_kernel = run_sync(async_start_new_kernel)

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        if isinstance(self.km, SandboxedKernelManager):
            self.km.seal_runtime_dir()  # the kernel is ready: its sockets exist
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    # -- time ------------------------------------------------------------------------------
    def _remaining(self) -> float:
        return self._deadline - time.monotonic()

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        remaining = max(1, math.ceil(self._remaining()))
        return remaining if timeout is None else min(timeout, remaining)

    async def _async_handle_timeout(self, timeout, cell=None):
        if self._remaining() <= 0.5:
            raise NotebookTimeout()
        self._interrupted = True
        return await super()._async_handle_timeout(timeout, cell)

    # -- one cell --------------------------------------------------------------------------
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if not self._stopped and self._remaining() <= 0:
            await self._stop(cell_index, "notebook_timeout", self._wall_clock_message())
        if self._stopped:
            return self._fail_cell(cell, "CellNotRun", f"not run: {self._stopped}")
        self._interrupted = False
        own_source = cell.source
        if casebook.is_test_cell(cell) and getattr(self, "_casebook_path", ""):
            # the kernel runs the cell's checks from the casebook; the test text stays here
            cell.source = (f"__import__('dlgrade.checks', fromlist=['_']).run_graded_cell("
                           f"{self._grade_id(cell)!r}, globals())")
        try:
            cell = await self._execute_cell_guarded(cell, cell_index, execution_count, store_history)
        finally:
            cell.source = own_source
        return cell

    execute_cell = run_sync(async_execute_cell)

    async def _execute_cell_guarded(self, cell, cell_index, execution_count, store_history):
        try:
            cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            await self._stop(cell_index, "kernel_died", self.km.death_reason()
                             if isinstance(self.km, SandboxedKernelManager) else "the kernel died")
            return self._fail_cell(cell, "KernelDied", f"{self._stopped} while this cell ran", keep=True)
        except NotebookTimeout:
            await self._stop(cell_index, "notebook_timeout", self._wall_clock_message())
            return self._fail_cell(cell, "NotebookTimeout", self._stopped, keep=True)
        except CellTimeoutError:
            # The reply came (or the timeout made one up) but the kernel's "idle" never did.
            if await self._recover_iopub():
                # the kernel is idle again, but the end of this cell's output never came:
                # usually a message over the transport limit, which breaks the channel
                message = ((f"interrupted after the {self.timeout} s cell time limit; " if
                            self._interrupted else "") +
                           f"output of this cell was lost (a single output message over the "
                           f"{self._max_message_mib()} MiB limit is dropped)")
                self._events.append({"cell": cell_index, "grade_id": self._grade_id(cell),
                                     "kind": "output_lost", "message": message})
                return self._fail_cell(cell, "OutputLost", message, keep=True)
            # still busy after the interrupt: SIGINT ignored, a C loop, a stopped process...
            await self._stop(cell_index, "unresponsive",
                             f"the kernel did not stop after the {self.timeout} s cell time limit and "
                             f"was killed")
            return self._fail_cell(cell, "CellTimeoutError", self._stopped, keep=True)
        self._note_truncation(cell, cell_index)
        if any(o.get("ename") == self.error_on_timeout.get("ename") for o in cell.outputs
               if o.get("output_type") == "error"):
            self._events.append({"cell": cell_index, "grade_id": self._grade_id(cell), "kind": "cell_timeout",
                                 "message": f"interrupted after the {self.timeout} s cell time limit"})
        return cell

    def _max_message_mib(self) -> int:
        return getattr(self.km, "max_message_bytes", 0) // MiB

    async def _recover_iopub(self, wait: float = 3.0) -> bool:
        """Is the kernel idle? Then give it a fresh IOPub connection and say True.

        ZeroMQ drops a connection that delivers a message over MAXMSGSIZE, and this
        one does not come back by itself; the shell channel tells whether the kernel
        is idle (kernel_info waits behind a running cell).
        """
        kc = self.kc
        if kc is None or not await ensure_async(kc.is_alive()):
            return False
        msg_id = kc.kernel_info()
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                msg = await ensure_async(kc.shell_channel.get_msg(timeout=left))
            except Empty:
                return False
            if msg["parent_header"].get("msg_id") == msg_id:
                break
        old, kc._iopub_channel = kc._iopub_channel, None
        if old is not None:
            old.close()
        kc.iopub_channel.start()
        # a SUB socket misses what is published before it has joined: ask until an answer shows
        for _ in range(int(wait / 0.25)):
            probe = kc.kernel_info()
            try:
                while True:
                    msg = await ensure_async(kc.iopub_channel.get_msg(timeout=0.25))
                    if msg["parent_header"].get("msg_id") == probe:
                        return True
            except Empty:
                continue
        return False

    def _wall_clock_message(self) -> str:
        return f"the notebook's wall clock of {self.notebook_timeout} s ran out"

    @staticmethod
    def _grade_id(cell):
        return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")

    async def _stop(self, cell_index, kind, reason):
        """No more cells run in this notebook: kill the kernel, remember why."""
        self._stopped = reason
        self._events.append({"cell": cell_index, "grade_id": self._grade_id(self.nb.cells[cell_index]),
                             "kind": kind, "message": reason})
        self.log.warning("Student %s: %s; the remaining cells fail",
                         (self.resources or {}).get("nbgrader", {}).get("student", "?"), reason)
        km = self.km
        if km is None:
            return
        tail = km.log_tail() if isinstance(km, SandboxedKernelManager) else ""
        if tail:
            self._events[-1]["kernel_log"] = tail
        if isinstance(km, SandboxedKernelManager):
            await km.kill_now()
        elif await ensure_async(km.is_alive()):
            await ensure_async(km.shutdown_kernel(now=True))

    def _fail_cell(self, cell, ename, message, keep=False):
        """An error output: SaveAutoGrades scores the cell 0, VerifyChecks finds no record."""
        if not keep:
            cell.outputs = []
        cell.outputs.append(new_output("error", ename=ename, evalue=message,
                                       traceback=[f"{ename}: {message}"]))
        return cell

    # -- output caps -----------------------------------------------------------------------
    def output(self, outs, msg, display_id, cell_index):
        msg_type, content = msg["msg_type"], msg["content"]
        kept = self._kept.setdefault(cell_index, [0, 0])
        dropped = self._dropped.setdefault(cell_index, [0, 0])
        if msg_type == "stream":
            text = content.get("text", "")
            room = self.max_stream_chars - kept[0]
            if len(text) > room:
                dropped[0] += len(text) - max(room, 0)
                if room <= 0:
                    return None
                content["text"] = text = text[:room]
            kept[0] += len(text)
        else:
            size = _output_bytes(msg_type, content)
            if kept[1] + size > self.max_output_bytes:
                dropped[1] += size
                return None
            kept[1] += size
        is_record = records.MIME in (content.get("data") or {})
        size = len(content.get("text", "")) if msg_type == "stream" else _output_bytes(msg_type, content)
        if not is_record:
            # one budget for the whole notebook, so ten cells of 30 MB are not 300 MB
            if self._notebook_kept + size > self.max_notebook_output_bytes:
                self._notebook_dropped += size
                dropped[1 if msg_type != "stream" else 0] += size
                return None
            self._notebook_kept += size
        return super().output(outs, msg, display_id, cell_index)

    def _note_truncation(self, cell, cell_index):
        chars, rich = self._dropped.get(cell_index, (0, 0))
        if not (chars or rich):
            return
        parts = []
        if chars:
            parts.append(f"{chars:,} characters of printed output beyond the "
                         f"{self.max_stream_chars:,} kept per cell")
        if rich:
            parts.append(f"{rich:,} bytes of displayed output beyond the {self.max_output_bytes:,} "
                         f"kept per cell or the {self.max_notebook_output_bytes:,} kept per notebook")
        message = "the grader dropped " + " and ".join(parts)
        # stdout, not stderr: nbgrader zeroes any graded cell with stderr
        cell.outputs.append(new_output("stream", name="stdout", text=f"\n[{message}]\n"))
        self._events.append({"cell": cell_index, "grade_id": self._grade_id(cell),
                             "kind": "output_truncated", "message": message})

    # -- report ----------------------------------------------------------------------------
    def _write_report(self, nb, resources):
        km_report = self._km_report
        report = {
            "sandboxed": bool(km_report.get("sandboxed")),
            "unsafe_no_sandbox": bool(km_report.get("unsafe_no_sandbox")),
            **{k: v for k, v in km_report.items() if k not in ("sandboxed", "unsafe_no_sandbox")},
            "cell_timeout": self.timeout,
            "notebook_timeout": self.notebook_timeout,
            "max_stream_chars": self.max_stream_chars,
            "max_output_bytes": self.max_output_bytes,
            "max_notebook_output_bytes": self.max_notebook_output_bytes,
            "kernel_start_seconds": (None if self._start_seconds is None
                                     else round(self._start_seconds, 3)),
            "stopped": self._stopped,
            "error": self._error,
            "events": self._events,
        }
        if report["unsafe_no_sandbox"]:
            student = (resources or {}).get("nbgrader", {}).get("student", "?")
            self.log.warning("!!! UNSAFE: student %s was graded WITHOUT the kernel sandbox "
                             "(--unsafe-no-sandbox) !!!", student)
        nb.metadata["dlgrade_sandbox"] = report
        if resources is None:
            return
        resources["dlgrade_sandbox"] = report
        info = resources.get("nbgrader") or {}
        path = (resources.get("metadata") or {}).get("path")
        if path and os.path.isdir(path) and info.get("notebook"):
            with open(os.path.join(path, info["notebook"] + REPORT_SUFFIX), "w", encoding="utf-8") as fh:
                json.dump(report, fh, indent=1, sort_keys=True)
