"""One memory limit for everything a sandboxed kernel uses, through a cgroup (v2 or v1)."""
from __future__ import annotations

import os
import random
import signal
import threading
import time

CGROUP_V1 = "/sys/fs/cgroup/memory"
CGROUP_V2 = "/sys/fs/cgroup"


class MemoryBudget:
    """One memory limit for everything a kernel uses: all its processes and its tmpfs mounts.

    RLIMIT_AS is per process, and tmpfs pages belong to no process, so neither bounds a kernel
    that forks or fills /tmp. A cgroup does: tmpfs pages are charged to the cgroup of the
    process that wrote them. cgroup v2 (``memory.max``) or v1 (``memory.limit_in_bytes``);
    without a writable memory controller the kernel keeps the per-process limits only, and
    the sandbox report says so.
    """

    # The watchdog ends a kernel whose memory reclaim cannot give back (anonymous pages and tmpfs;
    # there is no swap) sits within MARGIN of the budget while the cgroup keeps failing charges.
    # The kernel's own OOM killer gets there too, but only after reclaim has evicted and re-read the
    # kernel's code pages over and over: seen to outlast a 20 s cell limit, so the cell was reported
    # as too slow instead of as too big.
    WATCH_INTERVAL = 0.1     # seconds between two looks at the cgroup
    WATCH_STRIKES = 3        # consecutive looks at the limit before the kill
    REMOVE_PATIENCE = 2.0    # seconds to wait for the killed processes to leave the cgroup

    def __init__(self, limit: int):
        self.limit, self.path, self.problem = limit, "", ""
        self.v2 = False
        self.exhausted = False  # the watchdog ended the kernel
        self._stop = threading.Event()
        self._watcher = None

    def create(self) -> bool:
        name = f"dlgrade-{os.getpid()}-{random.getrandbits(48):012x}"
        v2 = os.path.exists(os.path.join(CGROUP_V2, "cgroup.controllers"))
        base = self._v2_parent() if v2 else CGROUP_V1
        try:
            if not base or not os.path.isdir(base):
                raise OSError("no memory controller")
            path = os.path.join(base, name)
            os.mkdir(path)
            self.path, self.v2 = path, v2
            if v2:
                self._write("memory.max", self.limit)
                self._write("memory.swap.max", 0, required=False)
            else:
                self._write("memory.limit_in_bytes", self.limit)
                self._write("memory.memsw.limit_in_bytes", self.limit, required=False)
            return True
        except OSError as exc:
            self.problem = f"no memory cgroup ({exc.strerror or exc}); limits are per process only"
            self.remove()
            return False

    @staticmethod
    def _v2_parent() -> str:
        try:
            with open("/proc/self/cgroup") as fh:
                own = next((line.split(":", 2)[2].strip() for line in fh if line.startswith("0::")), "")
            with open(os.path.join(CGROUP_V2, "cgroup.subtree_control")) as fh:
                if "memory" not in fh.read().split():
                    return ""
        except OSError:
            return ""
        return CGROUP_V2 if own in ("", "/") else ""

    def _write(self, name: str, value: int, required: bool = True) -> None:
        try:
            with open(os.path.join(self.path, name), "w") as fh:
                fh.write(str(value))
        except OSError:
            if required:
                raise

    def wrap(self, cmd: list) -> list:
        """The command, started inside the cgroup: the shell joins it, then becomes the command,
        so no process of the kernel ever runs outside it."""
        if not self.path:
            return cmd
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', os.path.join(self.path, "cgroup.procs"), *cmd]

    def _counters(self, name: str) -> dict:
        try:
            with open(os.path.join(self.path, name)) as fh:
                pairs = [line.split() for line in fh]
        except OSError:
            return {}
        return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].isdigit()}

    def unreclaimable(self) -> int | None:
        """Bytes of the budget that reclaim cannot free: anonymous memory and tmpfs (no swap)."""
        stat = self._counters("memory.stat")
        if not stat:
            return None
        anon = "anon" if self.v2 else "rss"
        return stat.get(anon, 0) + stat.get("shmem", 0)

    def failed_charges(self) -> int:
        """How often the cgroup refused memory at its limit (v2 memory.events max, v1 memory.failcnt)."""
        if self.v2:
            return self._counters("memory.events").get("max", 0)
        try:
            with open(os.path.join(self.path, "memory.failcnt")) as fh:
                return int(fh.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def watch(self) -> None:
        """Start the watchdog (a thread; it ends with :meth:`remove`)."""
        if self.path and self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="dlgrade-memory-watchdog", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        margin = max(128 << 20, self.limit // 8)
        strikes, failed = 0, self.failed_charges()
        while not self._stop.wait(self.WATCH_INTERVAL):
            held, now = self.unreclaimable(), self.failed_charges()
            if held is None and not os.path.isdir(self.path):
                return
            pressed = held is not None and held >= self.limit - margin and now > failed
            strikes, failed = (strikes + 1 if pressed else 0), now
            if strikes >= self.WATCH_STRIKES:
                self.exhausted = True
                self.kill_all()
                return

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroup, again until none is left (a fork may race the kill)."""
        for _ in range(100):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.005)

    def pids(self) -> list:
        try:
            with open(os.path.join(self.path, "cgroup.procs")) as fh:
                return [int(line) for line in fh if line.strip()]
        except (OSError, ValueError):
            return []

    def hit(self) -> bool:
        """Did the kernel run into the budget? (the watchdog, v2 memory.events, v1 memory.oom_control)"""
        if self.exhausted:
            return True
        for name in ("memory.events", "memory.oom_control"):
            try:
                with open(os.path.join(self.path, name)) as fh:
                    pairs = [line.split() for line in fh]
            except OSError:
                continue
            return any(len(p) == 2 and p[0] == "oom_kill" and int(p[1]) > 0 for p in pairs)
        return False

    def remove(self) -> None:
        """Stop the watchdog and delete the cgroup. A killed kernel's processes may still be
        exiting when its manager cleans up, and rmdir refuses a cgroup that holds one: without the
        wait every graded notebook left an empty cgroup behind (2,200 on one grading machine)."""
        self._stop.set()
        if not self.path:
            return
        deadline = time.monotonic() + self.REMOVE_PATIENCE
        while True:
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    return
            self.kill_all()
            time.sleep(0.005)
