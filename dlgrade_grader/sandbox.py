"""The kernel sandbox: every student kernel runs under bubblewrap.

:class:`SandboxedKernelManager` is a jupyter_client ``AsyncKernelManager``;
:class:`~dlgrade_grader.execute.GraderExecute` uses it, so plain
``nbgrader autograde`` with the course config is sandboxed. What the kernel
sees:

* its working directory ``/home/student/<folder>``: a private, size-capped
  tmpfs holding a copy of its own submission folder (links are copied as
  links, so a link to ``../../source`` dangles);
* read-only: ``/usr`` and the system library dirs, a few files of ``/etc``,
  the Python installation (``sys.prefix``, ``sys.base_prefix``), the course
  package and any ``extra_ro_paths``;
* a private ``/tmp``, ``/proc`` and ``/dev``; no network (its own network
  namespace, ZeroMQ over ``ipc`` sockets in a private runtime directory);
* nothing else: not the course root, ``source/``, the gradebook, another
  student's folder or ``$HOME``. A bind that would contain one of the
  protected paths is refused.

Limits (set by ``sandbox_launch.py`` before it execs the kernel, soft = hard):
address space, processes (when the grader is root the kernel gets a fresh
uid, so the count is per kernel; otherwise a user namespace makes it so),
file size, CPU seconds, open files, no core dumps; the tmpfs sizes cap disk
use; every ZeroMQ message from the kernel is capped. Per-cell time, the
per-notebook wall clock and the kept output size are enforced by
``GraderExecute``.

When bubblewrap cannot run, starting a kernel raises
:class:`SandboxUnavailable` unless the instructor opted out with
``DLGRADE_UNSAFE_NO_SANDBOX=1`` (``--unsafe-no-sandbox``); the kernel then
runs with the resource limits only and :attr:`SandboxedKernelManager.report`
says so.

This module is longer than most on purpose: it is the wall between student code
and the grader, and every mount, limit and refusal of it reads here in one place.
The cgroup memory budget is in :mod:`.memory_budget`, the in-sandbox launcher in
``sandbox_launch.py``.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile

import zmq
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Dict, Integer, List, Unicode, default

from dlgrade.checks import CASEBOOK_ENV

from .font_cache import KERNEL_CONFIG_DIR, font_cache
from .memory_budget import MemoryBudget

UNSAFE_ENV = "DLGRADE_UNSAFE_NO_SANDBOX"
LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_launch.py")
SANDBOX_HOME = "/home/student"
SUBMISSION_MOUNT = "/run/dlgrade/submission"
CASEBOOK_MOUNT = "/run/dlgrade/casebook.json"
LAUNCHER_MOUNT = "/run/dlgrade/launch.py"
KERNEL_PYTHON_ENV = "DLGRADE_KERNEL_PYTHON"
DEFAULT_KERNEL_PYTHON = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                     ".venv-kernel", "bin", "python")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "ssl",
             "ca-certificates", "passwd", "group", "nsswitch.conf", "hosts", "mime.types",
             "alternatives", "fonts", "os-release", "matplotlibrc")
# the only parts of the grader's environment a kernel inherits
ENV_PASS = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
            "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "MALLOC_ARENA_MAX")
UID_RANGE = (1_000_000, 2_000_000_000)
GiB, MiB = 1 << 30, 1 << 20

BANNER = re.compile(r"NOTE: When using the `ipython kernel` entry point.*?--existing \S+\n?", re.S)

_probe_cache: dict = {}


class SandboxUnavailable(RuntimeError):
    """bubblewrap cannot run here and the instructor did not opt out."""


class SandboxError(RuntimeError):
    """The sandbox would expose something it must not."""


class KernelEnvMissing(RuntimeError):
    """The student kernel environment has not been built."""


_layout_cache: dict = {}


def python_layout(python: str) -> dict:
    """prefix, base prefix and site-packages folders of a Python, asked of that Python once."""
    if python not in _layout_cache:
        code = ("import json, site, sys; print(json.dumps({'prefix': sys.prefix, 'base': sys.base_prefix,"
                " 'site': site.getsitepackages()}))")
        try:
            out = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, timeout=60,
                                 check=True).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            raise KernelEnvMissing(f"the kernel environment's Python {python} does not run: {exc}."
                                   " Build it with scripts/setup.sh") from None
        _layout_cache[python] = json.loads(out)
    return _layout_cache[python]


def kernel_python_default() -> str:
    return os.environ.get(KERNEL_PYTHON_ENV) or DEFAULT_KERNEL_PYTHON


def unsafe_opt_out() -> bool:
    return os.environ.get(UNSAFE_ENV, "") == "1"


def _is_root() -> bool:
    return os.geteuid() == 0


def probe(bwrap: str = "bwrap") -> tuple[bool, str]:
    """Can bubblewrap build a sandbox like ours here? ``(ok, reason)``, cached per process."""
    key = (bwrap, os.geteuid())
    if key not in _probe_cache:
        exe = shutil.which(bwrap)
        if exe is None:
            _probe_cache[key] = (False, f"{bwrap!r} is not installed (Debian package 'bubblewrap')")
        else:
            cmd = [exe, *_namespace_args(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                   "--tmpfs", "/tmp", "true"]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
                ok = proc.returncode == 0
                reason = "" if ok else f"{exe} failed: {proc.stderr.strip() or proc.returncode}"
            except (OSError, subprocess.TimeoutExpired) as exc:
                ok, reason = False, f"{exe} failed: {exc}"
            _probe_cache[key] = (ok, reason)
    return _probe_cache[key]


def require_sandbox(bwrap: str = "bwrap") -> str:
    """For batch commands: '' when sandboxed grading is possible, a warning when the
    instructor opted out, and :class:`SandboxUnavailable` otherwise."""
    ok, reason = probe(bwrap)
    if ok:
        return ""
    if unsafe_opt_out():
        return f"UNSAFE: grading WITHOUT the kernel sandbox ({UNSAFE_ENV}=1): {reason}"
    raise SandboxUnavailable(
        f"the kernel sandbox cannot run: {reason}. Install bubblewrap, or pass --unsafe-no-sandbox "
        f"({UNSAFE_ENV}=1) to grade with student code able to read source/, the gradebook and "
        f"other students' work.")


def _namespace_args() -> list:
    args = ["--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid", "--unshare-net",
            "--unshare-uts", "--unshare-cgroup-try"]
    if not _is_root():
        # an unprivileged bwrap needs a user namespace; it also makes the process
        # limit count this sandbox only
        args.append("--unshare-user")
    return args


def _real(path: str) -> str:
    return os.path.realpath(path)


def _contains(outer: str, inner: str) -> bool:
    return inner == outer or inner.startswith(outer.rstrip("/") + "/")


def _fresh_uid() -> int:
    """A uid no process uses: the process limit then counts this kernel only."""
    lo, hi = UID_RANGE
    try:  # inside a container only mapped uids can be used
        with open("/proc/self/uid_map") as fh:
            ranges = [tuple(int(x) for x in line.split()) for line in fh if line.strip()]
        inside, _outside, count = max(ranges, key=lambda r: r[2])
        lo, hi = inside + min(1_000_000, count // 2), min(inside + count - 2, 2_000_000_000)
    except (OSError, ValueError):
        pass
    if hi <= lo:
        raise SandboxError("no free uid range for sandboxed kernels")
    return random.randint(lo, hi)


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return f"signal {code}"


def describe_exit(code, limits: dict) -> str:
    """A readable cause for a kernel that ended with ``code`` (bwrap reports 128 + signal)."""
    if code is None:
        return "the kernel stopped responding"
    signum = -code if code < 0 else (code - 128 if code > 128 else 0)
    if signum:
        name = _signal_name(signum)
        hints = {
            "SIGKILL": "killed; the usual cause is memory (the kernel may use "
                       f"{limits.get('address_space', 0) / GiB:.1f} GiB)",
            "SIGXCPU": f"the CPU time limit of {limits.get('cpu_seconds')} s was reached",
            "SIGXFSZ": f"a file grew past the {limits.get('file_size', 0) / MiB:.0f} MiB limit",
            "SIGSEGV": "a segmentation fault",
            "SIGABRT": "aborted",
        }
        return f"the kernel was ended by {name}: {hints.get(name, 'killed by a signal')}"
    if code == 126:
        return "the kernel sandbox could not start the kernel"
    return f"the kernel process exited with code {code} (for example os._exit or sys.exit in C code)"


class SandboxedKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernels run under bubblewrap with resource limits."""

    bwrap = Unicode("bwrap", help="the bubblewrap executable").tag(config=True)
    address_space_limit = Integer(4 * GiB, help="RLIMIT_AS of each kernel process, bytes").tag(config=True)
    memory_limit = Integer(help="one memory budget for all of a kernel's processes and its tmpfs mounts (a "
                                "cgroup), bytes (default: address_space_limit + 1 GiB)").tag(config=True)
    process_limit = Integer(help="RLIMIT_NPROC: processes and threads of one kernel").tag(config=True)
    file_size_limit = Integer(256 * MiB, help="RLIMIT_FSIZE: largest file the kernel may write").tag(
        config=True)
    cpu_time_limit = Integer(1800, help="RLIMIT_CPU per process, seconds (a backstop; the wall "
                                        "clock is GraderExecute.notebook_timeout)").tag(config=True)
    open_files_limit = Integer(1024, help="RLIMIT_NOFILE").tag(config=True)
    workdir_size = Integer(1 * GiB, help="size of the tmpfs holding the submission copy").tag(
        config=True)
    tmp_size = Integer(512 * MiB, help="size of the private /tmp").tag(config=True)
    shm_size = Integer(64 * MiB, help="size of the private /dev/shm").tag(config=True)
    max_message_bytes = Integer(64 * MiB, help="largest ZeroMQ message accepted from the kernel; "
                                              "a larger one is dropped (GraderExecute re-opens the "
                                              "output channel and fails that cell)").tag(config=True)
    extra_ro_paths = List(Unicode(), help="more host paths the kernel may read").tag(config=True)
    protected_paths = List(Unicode(), help="paths no bind may contain: the course root, "
                                           "the gradebook's folder, $HOME").tag(config=True)
    kernel_env = Dict(help="extra environment variables for the kernel").tag(config=True)
    kernel_python = Unicode(help="Python of the student kernel environment: numpy, matplotlib, "
                                 "ipykernel and the student package, nothing of the grader "
                                 f"(default: ${KERNEL_PYTHON_ENV} or .venv-kernel next to the "
                                 "grader package)").tag(config=True)
    casebook_path = Unicode("", help="the grader's casebook for this kernel, bound read-only at "
                                     f"{CASEBOOK_MOUNT}; set per notebook by GraderExecute")
    allow_unsandboxed = Bool(help="run without bubblewrap when it cannot run "
                                  f"(default: {UNSAFE_ENV}=1)").tag(config=True)

    @default("process_limit")
    def _process_limit_default(self):
        # threads count too; BLAS and torch start one per core
        return max(256, 8 * (os.cpu_count() or 1))

    @default("memory_limit")
    def _memory_limit_default(self):
        # Above the per-process limit: one process that hoards memory meets RLIMIT_AS first, a clean
        # MemoryError, instead of the cgroup's reclaim (seen: a hoarding cell slowed past its 20 s
        # limit when both limits were 4 GiB). The budget bounds what processes and /tmp add up to.
        return self.address_space_limit + GiB

    @default("kernel_python")
    def _kernel_python_default(self):
        return kernel_python_default()

    @default("allow_unsandboxed")
    def _allow_unsandboxed_default(self):
        return unsafe_opt_out()

    @default("transport")
    def _transport_default(self):
        return "ipc"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.transport = "ipc"  # never TCP: no ports to race for, nothing on the network
        self.client_class = "dlgrade_grader.kernel_client.ReadyKernelClient"  # its observer sets the factory
        self.report: dict = {}
        self._budget = None
        self._runtime_dir = None
        self._log_path = None
        self._log_file = None

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        # jupyter_client polls a killed kernel every 0.1 s, so every notebook waited 0.1 s for a
        # sandbox that is gone within milliseconds of its kill
        await super()._async_wait(pollinterval=0.005)

    # -- what the sandbox exposes ---------------------------------------------------------
    def limits(self) -> dict:
        return {"address_space": self.address_space_limit, "processes": self.process_limit,
                "file_size": self.file_size_limit, "cpu_seconds": self.cpu_time_limit,
                "open_files": self.open_files_limit, "core_size": 0}

    def read_only_paths(self, python: str) -> list:
        """The kernel environment and the Python it is made from: nothing of the grader's."""
        layout = python_layout(python)
        paths = [layout["prefix"], layout["base"], os.path.dirname(_real(python)), *self.extra_ro_paths]
        out = []
        for path in paths:
            if os.path.exists(path):
                for p in dict.fromkeys([os.path.abspath(path), _real(path)]):
                    if p not in out:
                        out.append(p)
        return out

    def masked_paths(self, python: str) -> list:
        """Folders inside the bound ones that the kernel must see empty: the base Python's own
        site-packages, which a venv does not use but ``sys.path.append`` could reach."""
        layout = python_layout(python)
        if _real(layout["prefix"]) == _real(layout["base"]):
            return []
        base = _real(layout["base"])
        found = []
        for root in (os.path.join(base, "lib"), os.path.join(base, "lib64")):
            if os.path.isdir(root):
                for name in os.listdir(root):
                    for sub in ("site-packages", "dist-packages"):
                        path = os.path.join(root, name, sub)
                        if os.path.isdir(path):
                            found.append(path)
        return found

    def _check_bind(self, src: str) -> None:
        for protected in self.protected_paths:
            for p in {os.path.abspath(protected), _real(protected)}:
                if _contains(_real(src), p) or _contains(os.path.abspath(src), p):
                    raise SandboxError(f"refusing to start the kernel: the sandbox would expose "
                                       f"{p} through {src}")

    def _bwrap_args(self, submission: str, workdir: str) -> list:
        args = [shutil.which(self.bwrap), *_namespace_args(), "--hostname", "sandbox",
                "--proc", "/proc", "--dev", "/dev",
                "--perms", "1777", "--size", str(self.tmp_size), "--tmpfs", "/tmp",
                # bwrap's /dev/shm would be an uncapped tmpfs: RAM for the taking
                "--perms", "1777", "--size", str(self.shm_size), "--tmpfs", "/dev/shm"]
        made = {"/", "/proc", "/dev", "/tmp"}
        bound = []  # read-only mounts: nothing more goes inside them

        def parents(dest):
            # bwrap would create missing parents 0700: unreadable once the kernel is not root
            out, parent = [], os.path.dirname(dest)
            chain = []
            while parent not in made and parent != "/":
                chain.append(parent)
                parent = os.path.dirname(parent)
            for p in reversed(chain):
                out += ["--perms", "0755", "--dir", p]
                made.add(p)
            made.add(dest)
            return out

        for path in SYSTEM_DIRS:
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
                made.add(path)
            elif os.path.isdir(path):
                self._check_bind(path)
                args += ["--ro-bind", path, path]
                made.add(path)
                bound.append(path)
        args += ["--perms", "0755", "--dir", "/etc"]
        made.add("/etc")
        for name in ETC_FILES:
            args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        for path in self.read_only_paths(self._python):
            if any(_contains(d, path) for d in bound):
                continue
            self._check_bind(path)
            args += [*parents(path), "--ro-bind", _real(path), path]
            bound.append(path)
        for path in self.masked_paths(self._python):
            args += ["--perms", "0555", "--size", "4096", "--tmpfs", path]
        args += [*parents(LAUNCHER_MOUNT), "--ro-bind", LAUNCHER, LAUNCHER_MOUNT]
        if self.casebook_path:
            args += ["--ro-bind", self.casebook_path, CASEBOOK_MOUNT]
        args += [*parents(SUBMISSION_MOUNT), "--ro-bind", submission, SUBMISSION_MOUNT,
                 *parents(SANDBOX_HOME), "--perms", "0755", "--size", str(self.workdir_size),
                 "--tmpfs", SANDBOX_HOME,
                 *parents(self._runtime_dir), "--bind", self._runtime_dir, self._runtime_dir,
                 "--chdir", "/"]
        return args

    def _kernel_env(self, env: dict, home: str, sandboxed: bool = True) -> dict:
        # a fixed list, never a prefix: the grader's environment holds the course key
        out = {k: v for k, v in env.items() if k in ENV_PASS}
        out.setdefault("LANG", "C.UTF-8")
        out.setdefault("MALLOC_ARENA_MAX", "4")  # fewer 64 MiB arenas against the address-space limit
        bindir = os.path.dirname(self._python)
        out.update({"PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin", "HOME": home, "USER": "student",
                    "LOGNAME": "student", "PYTHONDONTWRITEBYTECODE": "1",
                    "MPLCONFIGDIR": KERNEL_CONFIG_DIR})
        out.pop(CASEBOOK_ENV, None)
        if self.casebook_path:
            out[CASEBOOK_ENV] = CASEBOOK_MOUNT if sandboxed else self.casebook_path
        out.update(self.kernel_env)
        return out

    # -- start / stop ----------------------------------------------------------------------
    async def _async_pre_start_kernel(self, **kw):
        cwd = os.path.abspath(kw.pop("cwd", None) or os.getcwd())
        exclude = [os.path.normpath(p) for p in kw.pop("sandbox_exclude", None) or ()]
        env = dict(kw.pop("env", None) or os.environ)
        ok, reason = probe(self.bwrap)
        if not ok and not self.allow_unsandboxed:
            raise SandboxUnavailable(f"refusing to start a kernel: the sandbox cannot run: {reason}. "
                                     f"Install bubblewrap, or pass --unsafe-no-sandbox "
                                     f"({UNSAFE_ENV}=1) to grade without it.")
        sandboxed = ok
        self._runtime_dir = tempfile.mkdtemp(prefix="dlgrade-kernel-")
        os.chmod(self._runtime_dir, 0o700)
        self.connection_file = os.path.join(self._runtime_dir, "kernel.json")
        self.ip = os.path.join(self._runtime_dir, "ipc")
        self._log_path = os.path.join(self._runtime_dir, "kernel.log")
        self._log_file = open(self._log_path, "wb")
        uid = _fresh_uid() if (sandboxed and _is_root()) else None
        if not os.path.exists(self.kernel_python):
            raise KernelEnvMissing(
                f"the student kernel environment is missing ({self.kernel_python}): build it with "
                f"scripts/setup.sh, or point ${KERNEL_PYTHON_ENV} at a Python that has only the "
                f"student package (release/dlgrade-student), numpy, matplotlib and ipykernel")
        self._python = self.kernel_python
        workdir = f"{SANDBOX_HOME}/{os.path.basename(cwd.rstrip('/')) or 'submission'}"
        if sandboxed:
            kw["env"] = self._kernel_env(env, SANDBOX_HOME)
            kw["cwd"] = self._runtime_dir
            # no JPY_PARENT_PID: in its pid namespace the kernel's parent is pid 1, which
            # ipykernel takes for an orphaned kernel; --die-with-parent does that job
            kw["independent"] = True
        else:
            kw["env"] = self._kernel_env(env, env.get("HOME", cwd), sandboxed=False)
            kw["cwd"] = cwd
        kw["stdout"] = self._log_file
        kw["stderr"] = subprocess.STDOUT
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        # whatever the kernelspec names, the kernel is the student environment's Python, with
        # no implicit '' on sys.path while it starts: a submission's ipykernel_launcher.py must
        # not replace ours (IPython adds cwd back later)
        kernel_cmd = [self._python, "-P", *kernel_cmd[1:]]
        limits = self.limits()
        if not sandboxed:
            # without a fresh uid or a user namespace, RLIMIT_NPROC would count every
            # process of the grader's user
            limits["processes"] = None
        plan = {"limits": limits}
        if sandboxed:
            plan.update({"copy_from": SUBMISSION_MOUNT, "workdir": workdir, "uid": uid, "gid": uid,
                         "own": [SANDBOX_HOME, KERNEL_CONFIG_DIR], "exclude": exclude})
            fonts = font_cache(self._python, python_layout(self._python)["prefix"], SANDBOX_HOME)
            if fonts:
                plan["seed"] = {"from": fonts, "to": KERNEL_CONFIG_DIR}
            if uid is not None:
                os.chown(self._runtime_dir, uid, uid)
                os.chown(self.connection_file, uid, uid)
            prefix = self._bwrap_args(cwd, workdir)
        else:
            prefix = []
        launcher = [self._python, "-I", "-S", LAUNCHER_MOUNT if sandboxed else LAUNCHER, json.dumps(plan), "--"]
        self._budget = MemoryBudget(self.memory_limit)
        self._budget.create()
        self._budget.watch()
        self.report = {
            "sandboxed": sandboxed,
            "unsafe_no_sandbox": not sandboxed,
            "mode": (("bubblewrap, kernel uid %d" % uid if uid is not None else
                      "bubblewrap, user namespace") if sandboxed else f"NO SANDBOX ({UNSAFE_ENV}=1)"),
            "sandbox_problem": "" if sandboxed else reason,
            "limits": limits,
            "kernel_cwd": workdir if sandboxed else cwd,
            "left_out": exclude if sandboxed else [],
            "transport": self.transport,
            "kernel_uid": uid,
            "memory_budget": {"bytes": self.memory_limit, "cgroup": bool(self._budget.path),
                              "problem": self._budget.problem},
        }
        if not sandboxed:
            self.log.warning("UNSAFE: kernel started WITHOUT the sandbox (%s=1): %s. Student code can "
                             "read source/, the gradebook and other students' work.", UNSAFE_ENV, reason)
        return self._budget.wrap(prefix + launcher + kernel_cmd), kw

    def client(self, **kwargs):
        client = super().client(**kwargs)
        # applies to every socket the client opens later (start_channels)
        client.context.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
        return client

    async def _async_interrupt_kernel(self):
        # a signal sent to bwrap would not reach the kernel; ipykernel interrupts
        # itself on an interrupt_request
        if self.has_kernel:
            msg = self.session.msg("interrupt_request", content={})
            self._connect_control_socket()
            self.session.send(self._control_socket, msg)
        else:
            await super()._async_interrupt_kernel()

    interrupt_kernel = _async_interrupt_kernel

    def seal_runtime_dir(self) -> None:
        """Once the kernel has made its sockets, take the runtime dir back.

        It lives on the host's disk, so a kernel that could still write there could
        fill it. Root only: otherwise the kernel shares our uid and could undo this.
        """
        if self._runtime_dir and self.report.get("kernel_uid") is not None:
            os.chown(self._runtime_dir, 0, 0)
            os.chmod(self._runtime_dir, 0o711)

    async def kill_now(self) -> None:
        """SIGKILL the sandbox (its pid namespace takes every process in it along)."""
        if self.has_kernel:
            await self._async_kill_kernel()

    def exit_code(self):
        process = getattr(self.provisioner, "process", None)
        return None if process is None else process.poll()

    def log_tail(self, limit: int = 600) -> str:
        """The end of the kernel's own stdout/stderr (not the notebook's output), minus
        ipykernel's start-up banner."""
        try:
            with open(self._log_path, "rb") as fh:
                fh.seek(0, 2)
                fh.seek(max(0, fh.tell() - limit - 1000))
                text = fh.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""
        text = BANNER.sub("", text).strip()
        return text[-limit:]

    def death_reason(self) -> str:
        if self._budget is not None and self._budget.hit():
            return (f"the kernel was killed: it used up its memory budget of "
                    f"{self.memory_limit / GiB:.1f} GiB (all its processes and files in /tmp together)")
        return describe_exit(self.exit_code(), self.limits())

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None
            if self._runtime_dir:
                shutil.rmtree(self._runtime_dir, ignore_errors=True)
                self._runtime_dir = None
            if self._budget is not None:
                self._budget.remove()

    # AsyncKernelManager binds its public names to the base coroutines; rebind them to ours
    pre_start_kernel = _async_pre_start_kernel
    cleanup_resources = _async_cleanup_resources
