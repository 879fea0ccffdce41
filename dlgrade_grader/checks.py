"""The grader's half of a check: case generators, trusted references, mistake models.

A :class:`GradedCheck` completes a student-side :class:`dlgrade.checks.Spec` (how to
call the student's code) with what must never reach the kernel. Cases are drawn
from a seed: a public one for the visible examples shipped at release time, and a
keyed one (:mod:`.keys`) for everything that is graded.

Every case is passed through the record format once before anyone uses it, so the
reference here and the student's code in the kernel see exactly the same values.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from dlgrade import records
from dlgrade.checks import ById, Spec, Specs, judge_entry


@dataclass(frozen=True)
class Mistake:
    """A classic wrong answer, modelled so a failure can name it."""
    answer: Callable[[dict], Any]
    message: str


@dataclass(frozen=True)
class GradedCheck:
    """cases:        rng -> list of (label, inputs); labels are shown, hidden inputs never are.
    reference:    inputs -> expected output, computed in the grader only.
    grader_judge: replaces the spec's judge in the grader, for judgements that need grader-only
                  tools (autograd, or a formula that would give another question away); the
                  student's preview keeps the spec's simpler judge."""
    spec: Spec
    cases: Callable[[np.random.Generator], list]
    reference: Callable[[dict], Any]
    mistakes: tuple = ()
    grader_judge: Callable | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def functions(self) -> tuple:
        return self.spec.functions

    def recognise(self, got, inputs) -> str:
        """The message of the first modelled mistake that reproduces ``got``."""
        from dlgrade.compare import compare
        for mistake in self.mistakes:
            try:
                wrong = mistake.answer(inputs)
                if not compare(wrong, got, max(self.spec.rtol, 1e-6), max(self.spec.atol, 1e-8)):
                    return mistake.message
            except Exception:  # a mistake model that does not apply to this case
                continue
        return ""

    def judge(self, inputs: dict, entry: dict, expected, hidden: bool, named: list | None = None) -> str:
        """The reason this entry fails ('' when it passes); a modelled mistake it reproduces is
        also appended to ``named``, so reports can count mistakes without reading verdict text."""
        spec = self.spec if self.grader_judge is None else replace(self.spec, judge=self.grader_judge)

        def recognise(got, case_inputs):
            message = self.recognise(got, case_inputs)
            if message and named is not None and message not in named:
                named.append(message)
            return message

        return judge_entry(spec, inputs, entry, expected, hidden, recognise)


@dataclass
class Registry(ById):
    """An assignment's graded checks: one per student-side spec, by the same id."""
    specs: Specs
    checks: dict = field(default_factory=dict)

    @property
    def assignment(self) -> str:
        return self.specs.assignment

    def add(self, check_id: str, cases: Callable, reference: Callable, mistakes=(),
            grader_judge: Callable | None = None) -> GradedCheck:
        if check_id not in self.specs:
            raise KeyError(f"{self.assignment}: no student-side spec for check {check_id!r}")
        if check_id in self.checks:
            raise ValueError(f"duplicate check id {check_id}")
        graded = GradedCheck(self.specs[check_id], cases, reference, tuple(mistakes), grader_judge)
        self.checks[check_id] = graded
        return graded

    def complete(self) -> "Registry":
        missing = [s.id for s in self.specs if s.id not in self.checks]
        if missing:
            raise KeyError(f"{self.assignment}: specs without cases and reference: {missing}")
        return self


# --------------------------------------------------------------------------- cases
def public_seed(assignment: str, check_id: str) -> int:
    """Seed of the visible examples shipped with the release: public by design."""
    digest = hashlib.blake2b(f"{assignment}|{check_id}|visible".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


@dataclass(frozen=True)
class CaseSet:
    """A check's cases as both sides see them: decoded inputs plus their encoded form."""
    labels: tuple
    inputs: tuple
    encoded: tuple

    @property
    def id(self) -> str:
        text = json.dumps([list(self.labels), list(self.encoded)], sort_keys=True, allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def __len__(self):
        return len(self.inputs)

    def pairs(self):
        return list(zip(self.labels, self.inputs))


def make_cases(check: GradedCheck, seed: int, shuffle: bool = False) -> CaseSet:
    """The check's cases from ``seed``; graded cases are also put in a seed-dependent order,
    so that an answer cannot be guessed from a case's position in a shipped example."""
    rng = np.random.default_rng(seed)
    drawn = list(check.cases(rng))
    if shuffle:
        order = np.random.default_rng([seed, 1]).permutation(len(drawn))
        drawn = [drawn[i] for i in order]
    labels, inputs, encoded = [], [], []
    for label, raw in drawn:
        enc = records.encode(raw)
        if "opaque" in json.dumps(enc):
            raise records.RecordError(f"{check.id}: case {label!r} holds a value the record format"
                                      " cannot carry")
        labels.append(str(label))
        encoded.append(enc)
        inputs.append(records.decode(enc))
    return CaseSet(tuple(labels), tuple(inputs), tuple(encoded))
