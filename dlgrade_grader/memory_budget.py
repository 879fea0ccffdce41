"""One memory limit for everything a sandboxed kernel uses, through a cgroup (v2 or v1)."""
from __future__ import annotations

import os
import random

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

    def __init__(self, limit: int):
        self.limit, self.path, self.problem = limit, "", ""

    def create(self) -> bool:
        name = f"dlgrade-{os.getpid()}-{random.getrandbits(48):012x}"
        v2 = os.path.exists(os.path.join(CGROUP_V2, "cgroup.controllers"))
        base = self._v2_parent() if v2 else CGROUP_V1
        try:
            if not base or not os.path.isdir(base):
                raise OSError("no memory controller")
            path = os.path.join(base, name)
            os.mkdir(path)
            self.path = path
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

    def hit(self) -> bool:
        """Did the kernel run into the budget? (v2 memory.events, v1 memory.oom_control)"""
        for name in ("memory.events", "memory.oom_control"):
            try:
                with open(os.path.join(self.path, name)) as fh:
                    pairs = [line.split() for line in fh]
            except OSError:
                continue
            return any(len(p) == 2 and p[0] == "oom_kill" and int(p[1]) > 0 for p in pairs)
        return False

    def remove(self) -> None:
        if self.path:
            try:
                os.rmdir(self.path)
            except OSError:
                pass
