"""Named points where the crash tests kill the grader, for real.

With ``DLGRADE_TEST_CRASH_AT=<point>:<n>`` in its environment, the main
process of ``dlgrade grade`` or ``dlgrade merge`` kills itself with SIGKILL
(no clean-up, no ``finally``) the n-th time it passes ``<point>``. Without the
variable a point costs one dictionary lookup. The points sit where a crash
would hurt most: between handing out work and recording it, between the
gradebook write and the state write, and between report files.
"""
from __future__ import annotations

import os
import signal

ENV = "DLGRADE_TEST_CRASH_AT"
_passed: dict = {}


def crash_point(name: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    point, _, count = spec.partition(":")
    if point != name:
        return
    _passed[name] = _passed.get(name, 0) + 1
    if _passed[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
