"""softplus, the student half: how each check calls the student's functions.

A throw-away assignment: ``grader_tests/test_seventh_assignment.py`` copies it
into a copy of the repository to show that an assignment is its own files.
"""
from __future__ import annotations

from ..checks import Spec, Specs, make_check

SPECS = Specs("softplus")
SPECS.add(Spec(id="softplus.values", title="softplus(x) = log(1 + e^x) entry by entry, |x| up to 800 included",
               run=lambda ns, x: ns.softplus(x["x"]), functions=("softplus",)))
SPECS.add(Spec(id="softplus_grad.values", title="softplus_grad is the derivative of softplus (torch.autograd)",
               run=lambda ns, x: ns.softplus_grad(x["x"]), functions=("softplus_grad",)))
check = make_check(SPECS)
