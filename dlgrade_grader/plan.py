"""What a run has to grade: the course's assignments and students, fingerprints, the state file.

A submission is graded again only when its fingerprint changes: the
submission's files, and everything that can decide its grade (the source
notebooks, the course config, both packages whole, the course key).
``.dlgrade/state.json`` remembers the outcome of each submission under that
fingerprint.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import dlgrade

from .outcome import Status

STATE_DIR = ".dlgrade"
STATE_VERSION = 1
# everything that can decide a grade: the grader, and the student package whose runners and
# comparisons the grader uses (hashing both whole means no hand-kept list can go stale)
PACKAGES = (Path(__file__).resolve().parent, Path(dlgrade.__file__).resolve().parent)


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


def hash_tree(h, root: Path) -> None:
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
    hash_tree(h, course / "source" / assignment)
    hash_tree(h, course / "nbgrader_config.py")
    for package in PACKAGES:
        for path in sorted(package.rglob("*.py")):
            h.update(str(path.relative_to(package.parent)).encode() + b"\0")
            hash_tree(h, path)
    try:
        h.update(hmac.new(keys.load(), b"dlgrade fingerprint", hashlib.sha256).digest())
    except keys.MissingKey:
        h.update(b"no key")
    return h.hexdigest()


def submission_fingerprint(folder: Path, grader: str) -> str:
    h = hashlib.sha256(grader.encode())
    hash_tree(h, folder)
    return h.hexdigest()


def plan_tasks(course: Path, state: "State", db_url: str, assignments: list, students: list, graders: dict,
               force: bool, feedback: bool) -> tuple[list, int]:
    """(tasks for the workers, how many submissions are up to date). A submission is up to date when
    its fingerprint is the one recorded, its last outcome is final, the gradebook holds it, and its
    autograded folder is there exactly when it was gradable. A missing one is recorded as such."""
    from nbgrader.api import Gradebook

    from .merge import ensure_student, has_submission
    tasks, skipped = [], 0
    with Gradebook(db_url) as gb:
        for sid in students:
            ensure_student(gb, sid)
        for hw in assignments:
            for sid in students:
                folder = course / "submitted" / sid / hw
                if not folder.exists() and not folder.is_symlink():
                    state.put({"student": sid, "assignment": hw, "status": str(Status.MISSING), "notes": [],
                               "reason": "not submitted", "fingerprint": ""})
                    continue
                fp = submission_fingerprint(folder, graders[hw])
                old = state.get(hw, sid)
                up_to_date = (not force and old and old.get("fingerprint") == fp
                              and old.get("status") != Status.MISSING and not old.get("retry")
                              and has_submission(gb, hw, sid)
                              and (course / "autograded" / sid / hw).exists() == (old.get("status") != Status.FAILED))
                if up_to_date:
                    skipped += 1
                    continue
                tasks.append({"student": sid, "assignment": hw, "fingerprint": fp, "src": str(folder),
                              "feedback": feedback})
    return tasks, skipped


def gradebook_url(course: Path, db_url: str | None) -> str:
    """The gradebook to grade into: the server given with ``--db-url``, else the course's SQLite file."""
    return db_url or f"sqlite:///{course / 'gradebook.db'}"


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

    def put(self, entry: dict):
        """Remember one submission's outcome (:meth:`.outcome.Outcome.state_entry`)."""
        self.data["results"][self.key(entry["assignment"], entry["student"])] = dict(entry)

    def save(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)
