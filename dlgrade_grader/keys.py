"""The course key: the instructor's secret that every graded case is drawn from.

Graded inputs are seeded with HMAC-SHA256(key, assignment | check | scope |
student | submission digest). The key never enters the repository, ``release/``
or a kernel, so nothing a student holds predicts their inputs; the submission
digest makes every resubmission draw new ones, so outputs printed into one
feedback report are worth nothing for the next attempt.

Where the key comes from, first match wins:
``DLGRADE_COURSE_KEY`` (hex), the file named by ``DLGRADE_KEY_FILE``, the file
named by ``c.CourseKey.path`` in ``nbgrader_config.py``, then
``~/.config/dlgrade/<course_id>.key``. ``dlgrade keygen`` writes a new one.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_ENV = "DLGRADE_COURSE_KEY"
KEY_FILE_ENV = "DLGRADE_KEY_FILE"
KEY_BYTES = 32


class MissingKey(RuntimeError):
    """Grading needs the course key and none was found."""


def default_path(course_id: str = "dlmath") -> Path:
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "dlgrade" / f"{course_id}.key"


def _parse(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise MissingKey(f"the course key in {where} is not hex") from None
    if len(key) < 16:
        raise MissingKey(f"the course key in {where} is shorter than 16 bytes")
    return key


def load(path: str | os.PathLike | None = None, course_id: str = "dlmath") -> bytes:
    if os.environ.get(KEY_ENV):
        return _parse(os.environ[KEY_ENV], f"${KEY_ENV}")
    candidates = [os.environ.get(KEY_FILE_ENV), path, default_path(course_id)]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return _parse(Path(candidate).read_text(), str(candidate))
    raise MissingKey(
        "no course key: hidden and graded cases are drawn from the instructor's secret key. "
        f"Make one with `dlgrade keygen` (writes {default_path(course_id)}), or set ${KEY_ENV} "
        f"or ${KEY_FILE_ENV}. Keep it out of the repository.")


def generate(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists; refusing to replace a course key (delete it first)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(KEY_BYTES) + "\n")
    return path


def graded_seed(key: bytes, assignment: str, check_id: str, scope: str, student: str, digest: str) -> int:
    message = "\x1f".join([assignment, check_id, scope, student, digest]).encode()
    return int.from_bytes(hmac.new(key, message, hashlib.sha256).digest()[:16], "little")


def key_for(config) -> bytes:
    """The key for an nbgrader run: ``c.CourseKey.path`` and the course id come from its config."""
    config = config or {}
    path = config.get("CourseKey", {}).get("path") or None
    course_id = config.get("CourseDirectory", {}).get("course_id") or "dlmath"
    return load(path, course_id)
