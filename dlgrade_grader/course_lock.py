"""One writer per course: ``dlgrade grade``, ``merge`` and ``feedback`` hold ``.dlgrade/lock``.

Two graders on one course would both write the gradebook, the state file and
the autograded folders. The lock is an ``flock`` on a file in the course, so
the kernel releases it when its holder dies, even by SIGKILL: a crashed run
never leaves a stale lock behind that someone has to delete by hand.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

LOCK_NAME = ".dlgrade/lock"


class CourseBusy(RuntimeError):
    """Another dlgrade command holds this course."""


@contextlib.contextmanager
def course_lock(course: Path, command: str):
    path = Path(course) / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 400, 0).decode("utf-8", "replace").strip() or "another process"
            raise CourseBusy(f"{course} is busy: {holder} is working on it. Two graders on one course "
                             f"would both write its gradebook; wait for that one to finish, then run "
                             f"this again.") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"`dlgrade {command}` (pid {os.getpid()}, started "
                      f"{time.strftime('%Y-%m-%d %H:%M:%S')})\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
