"""What grading one submission came to, as data: a :class:`Status` and typed notes.

The worker builds an :class:`Outcome`; the main process records it in the
gradebook and the state file; the reports read the state file. A status is
decided here from the kinds of the notes, never by reading their text.
"""
from __future__ import annotations

import dataclasses
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    REPAIRED = "repaired"    # graded after the intake mended the file
    WARNING = "warning"      # graded, but a limit cut the run or the audit found tampering
    FAILED = "failed"        # not gradable: every autograded cell scores zero
    MISSING = "missing"      # not submitted


class NoteKind(StrEnum):
    REPAIR = "repair"        # the intake mended or left out part of the submission
    LIMIT = "limit"          # a grader limit stopped or cut the run
    TAMPERING = "tampering"  # the audit saw code reaching into the kernel or the grader
    FORBIDDEN = "forbidden"  # the audit saw a shortcut the assignment forbids
    FEEDBACK = "feedback"    # the feedback page could not be made


# what each kind of note does to a graded submission's status (a missing feedback page is
# noted for the instructor but leaves the grade's status alone)
RAISES_TO = {NoteKind.REPAIR: Status.REPAIRED, NoteKind.LIMIT: Status.WARNING,
             NoteKind.TAMPERING: Status.WARNING, NoteKind.FORBIDDEN: Status.WARNING}
RANK = {Status.OK: 0, Status.MISSING: 1, Status.REPAIRED: 2, Status.WARNING: 3, Status.FAILED: 4}


@dataclasses.dataclass(frozen=True)
class Note:
    kind: NoteKind | None   # None: read from a state file written before notes had kinds
    text: str

    def as_state(self) -> dict:
        return {"kind": None if self.kind is None else str(self.kind), "text": self.text}

    @classmethod
    def from_state(cls, value) -> "Note":
        """A note as the state file keeps it (a bare string: a state file written before notes had kinds)."""
        if isinstance(value, Note):
            return value
        if isinstance(value, dict):
            return cls(None if value.get("kind") is None else NoteKind(value["kind"]), value["text"])
        return cls(None, str(value))


def note_texts(notes) -> list[str]:
    return [n.text for n in notes]


def flags(notes) -> list[str]:
    """The kinds among some notes, in NoteKind order: what an instructor filters a CSV on."""
    kinds = {n.kind for n in notes}
    return [str(k) for k in NoteKind if k in kinds]


@dataclasses.dataclass
class Outcome:
    student: str
    assignment: str
    fingerprint: str
    status: Status = Status.OK
    reason: str = ""
    notes: list = dataclasses.field(default_factory=list)   # of Note
    worker: int | None = None
    phases: dict = dataclasses.field(default_factory=dict)
    retry: bool = False          # graded again by the next run whatever its fingerprint
    fault: dict | None = None    # a machine fault (faults.Fault as a dict): not the student's doing
    export: dict | None = None   # the graded submission, for the main gradebook (SQLite workers)
    trace: str = ""

    def settle(self, graded: bool) -> None:
        """The status, from whether it was graded and the kinds of its notes so far."""
        if not graded:
            self.status = Status.FAILED
        else:
            self.status = max((RAISES_TO.get(n.kind, Status.OK) for n in self.notes), key=RANK.get,
                              default=Status.OK)

    def explain(self) -> None:
        """A reason for any status but OK: the notes, when nothing more specific was said."""
        if not self.reason and self.status != Status.OK:
            self.reason = "; ".join(n.text for n in self.notes)

    def state_entry(self) -> dict:
        """What the state file keeps: everything but the export and the trace; notes as {kind, text}."""
        entry = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                 if f.name not in ("export", "trace", "notes")}
        entry["notes"] = [n.as_state() for n in self.notes]
        entry["status"] = str(self.status)
        return entry
