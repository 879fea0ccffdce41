"""The memory budget's watchdog and clean-up, on a cgroup folder whose counters the test writes.

The kernel's own OOM killer usually ends a hoarding kernel first, and when it does not (reclaim
thrashing the kernel's code pages) the timing cannot be staged on demand. So the watchdog's
decision is tested on files in the format of cgroup v1 and v2, with a real process to kill.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

from dlgrade_grader.memory_budget import MemoryBudget

MiB = 1 << 20
LIMIT = 1024 * MiB


def _fake_cgroup(tmp_path, v2: bool, held: int, failed: int, pid: int) -> MemoryBudget:
    budget = MemoryBudget(LIMIT)
    budget.path, budget.v2 = str(tmp_path), v2
    _write_counters(tmp_path, v2, held, failed)
    (tmp_path / "cgroup.procs").write_text(f"{pid}\n")
    return budget


def _write_counters(folder, v2: bool, held: int, failed: int) -> None:
    if v2:
        _put(folder / "memory.stat", f"anon {held // 2}\nfile 4096\nshmem {held - held // 2}\n")
        _put(folder / "memory.events", f"low 0\nhigh 0\nmax {failed}\noom 0\noom_kill 0\n")
    else:
        _put(folder / "memory.stat", f"cache 4096\nrss {held // 2}\nshmem {held - held // 2}\n")
        _put(folder / "memory.failcnt", f"{failed}\n")


def _put(path, text: str) -> None:
    """Whole, as a cgroup file reads; the watchdog must never see a half-written one."""
    path.with_suffix(".new").write_text(text)
    os.replace(path.with_suffix(".new"), path)


def _press(folder, v2: bool, held: int, seconds: float) -> None:
    """Failed charges that keep coming, as at a budget that reclaim cannot meet."""
    failed, end = 1, time.monotonic() + seconds
    while time.monotonic() < end:
        failed += 7
        _write_counters(folder, v2, held, failed)
        time.sleep(0.02)


@pytest.mark.parametrize("v2", [False, True], ids=["cgroup-v1", "cgroup-v2"])
def test_the_watchdog_kills_a_kernel_held_at_its_budget(tmp_path, v2):
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        budget = _fake_cgroup(tmp_path, v2, held=LIMIT - 16 * MiB, failed=0, pid=victim.pid)
        budget.watch()
        _press(tmp_path, v2, LIMIT - 16 * MiB, seconds=1.5)
        assert victim.wait(timeout=5) == -9
        assert budget.exhausted and budget.hit()
    finally:
        budget._stop.set()
        victim.kill()


@pytest.mark.parametrize("held, pressed", [(LIMIT // 2, True), (LIMIT - 16 * MiB, False)],
                         ids=["half-full-under-pressure", "full-without-failed-charges"])
def test_the_watchdog_leaves_a_kernel_alone_otherwise(tmp_path, held, pressed):
    """Page cache at the limit (reclaimable) or a full budget that charges no longer fail against
    are not a reason to end a kernel."""
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        budget = _fake_cgroup(tmp_path, False, held=held, failed=0, pid=victim.pid)
        budget.watch()
        if pressed:
            _press(tmp_path, False, held, seconds=1.0)
        else:
            time.sleep(1.0)
        assert victim.poll() is None
        assert not budget.exhausted
    finally:
        budget._stop.set()
        victim.kill()


def test_a_finished_kernel_leaves_no_cgroup_behind(tmp_path):
    """Each graded notebook used to leave its empty memory cgroup behind (rmdir raced the exit of
    the killed kernel)."""
    from dlgrade_grader.sandbox import SandboxedKernelManager, probe

    if not probe()[0]:
        pytest.skip("bubblewrap cannot run here")

    async def run() -> str:
        km = SandboxedKernelManager(kernel_name="python3")
        await km.start_kernel(cwd=str(tmp_path))
        path = km._budget.path
        await km.shutdown_kernel(now=True)
        return path

    path = asyncio.run(run())
    if not path:
        pytest.skip("no memory cgroup here")
    assert not os.path.exists(path)
