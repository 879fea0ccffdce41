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
import sys
import time
from pathlib import Path

LOCK_NAME = ".dlgrade/lock"


class CourseBusy(RuntimeError):
    """Another dlgrade command holds this course."""


@contextlib.contextmanager
def course_lock(course: Path, command: str, program: str = "dlgrade"):
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
        os.pwrite(fd, f"`{program} {command}` (pid {os.getpid()}, started "
                      f"{time.strftime('%Y-%m-%d %H:%M:%S')})\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


# nbgrader's commands that write what ``dlgrade grade`` writes: the gradebook's submissions and the
# autograded and feedback folders
NBGRADER_WRITERS = ("autograde", "generate_feedback")
_held: dict = {}


def nbgrader_command(argv: list) -> str:
    """The nbgrader subcommand this process runs (``nbgrader X`` or ``python -m nbgrader X``), else ''."""
    if not argv:
        return ""
    program = Path(argv[0])
    is_nbgrader = program.name == "nbgrader" or (program.name == "__main__.py" and program.parent.name == "nbgrader")
    words = [a for a in argv[1:] if not a.startswith("-")]
    return words[0] if is_nbgrader and words else ""


def hold_for_nbgrader(course, argv=None) -> None:
    """Called from the course's ``nbgrader_config.py``: an ``nbgrader autograde`` or
    ``generate_feedback`` run in this course holds the course lock until it exits, so it and
    ``dlgrade grade`` never write the gradebook at once. Other processes that read the config
    (the formgrader, dlgrade's own workers) take nothing."""
    command = nbgrader_command(sys.argv if argv is None else argv)
    if command not in NBGRADER_WRITERS or str(course) in _held:
        return  # nbgrader loads its config once per (sub)application: the first load holds the lock
    holder = contextlib.ExitStack()
    try:
        holder.enter_context(course_lock(Path(course), command, program="nbgrader"))
    except CourseBusy as exc:
        print(f"nbgrader {command}: {exc}", file=sys.stderr)
        sys.exit(3)
    _held[str(course)] = holder  # never closed: the lock goes when this process ends
