"""Faults of the grading machine, not of the submission: a full disk, an unreachable gradebook server.

A submission that meets one of these was not graded at all. Recording it as
the student's failure (zero points, "the grading process died") would punish
the student for the machine and, since a failure is final until the
submission changes, would stay after the machine is mended. So a worker names
the fault instead (:func:`classify`), and the main process acts on it: a full
disk stops the batch with the path and what is left to do, an unreachable
database is waited for, then the submission is graded again.
"""
from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import time
from pathlib import Path

DISK_FULL = "disk-full"
DATABASE = "database-unreachable"


@dataclasses.dataclass(frozen=True)
class Fault:
    kind: str
    detail: str
    path: str = ""


class MachineFault(RuntimeError):
    """The batch cannot go on on this machine; what was recorded before it stays recorded."""

    def __init__(self, fault: Fault, message: str):
        super().__init__(message)
        self.fault = fault


def classify(exc: BaseException | None) -> Fault | None:
    """The machine fault behind ``exc`` (or anything it was raised from), else None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return Fault(DISK_FULL, f"{exc.strerror or exc}", exc.filename or "")
        if "database or disk is full" in str(exc):  # SQLite's SQLITE_FULL, raw or wrapped
            return Fault(DISK_FULL, "database or disk is full")
        if _server_unreachable(exc):
            return Fault(DATABASE, str(exc).strip().splitlines()[0][:300])
        exc = exc.__cause__ or exc.__context__
    return None


def _server_unreachable(exc: BaseException) -> bool:
    try:
        from sqlalchemy import exc as sa
    except ImportError:  # pragma: no cover - sqlalchemy comes with nbgrader
        return False
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    # a refused or dropped connection to a database server; SQLite has no server to lose
    orig = getattr(exc, "orig", None)
    return (isinstance(exc, (sa.OperationalError, sa.InterfaceError))
            and orig is not None and not type(orig).__module__.startswith("sqlite3"))


def mount_point(path: Path) -> Path:
    path = Path(path).resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def disk_full_message(fault: Fault, course: Path, recorded: int | None = None, left: int | None = None) -> str:
    course = Path(course).resolve()
    mount = mount_point(course)
    try:
        free = f"{shutil.disk_usage(mount).free:,} bytes free"
    except OSError:
        free = "free space unknown"
    where = f" while writing {fault.path}" if fault.path else ""
    counts = "" if recorded is None else (f": {recorded} submission(s) of this run are in the gradebook, "
                                          f"{left} are not graded yet")
    return (f"the disk is full: no space left on the file system at {mount} (it holds the course "
            f"{course}; {free}){where}. Nothing recorded was lost{counts}. Free some space there, then "
            f"run the same command again: it carries on with what is missing.")


def machine_message(fault: Fault, course: Path, db_url: str | None, recorded=None, left=None) -> str:
    if fault.kind == DISK_FULL:
        return disk_full_message(fault, course, recorded, left)
    return database_message(fault, db_url or "", None, left)


def database_message(fault: Fault, url: str, waited: float | None, left: int | None) -> str:
    pending = "" if left is None else f"{left} submission(s) are not graded yet; "
    how_long = "is unreachable" if waited is None else f"stayed unreachable for {waited:.0f} s"
    kept = f"{pending}what was recorded before stays."
    return (f"the gradebook database {redact(url)} {how_long} ({fault.detail}). {kept[0].upper()}{kept[1:]} "
            f"Once the server is back, run the same command again: it carries on with what is missing.")


def redact(url: str) -> str:
    """A database URL without its password, for messages."""
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an odd URL is still worth naming
        return url.split("@")[-1]


class Outage:
    """How long the gradebook server has been failing, and how long to wait before the next try.

    Any recorded result ends the outage; one that lasts past ``patience`` seconds stops the batch.
    """

    def __init__(self, patience: float):
        self.patience, self.since, self.tries = patience, None, 0

    def failed(self, fault: Fault, url: str, left: int) -> float:
        now = time.monotonic()
        self.since = now if self.since is None else self.since
        self.tries += 1
        if now - self.since > self.patience:
            raise MachineFault(fault, database_message(fault, url, now - self.since, left))
        return min(0.25 * 2 ** self.tries, 10.0)

    def recovered(self) -> None:
        self.since, self.tries = None, 0
