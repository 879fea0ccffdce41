"""Which checks a broken function may cost points: each assignment's uses-graph.

A check calls the functions its spec names (``Spec.functions``). A function
calls the other solution functions its reference solution refers to (read from
the source notebook: ``Tensor`` calls every ``*_vjp``, ``mean_vjp`` calls
``sum_vjp``). A wrong answer that breaks a function must lose points on one of
that function's own checks, and may lose points on any check that reaches the
function through the graph, but nowhere else. Nothing here is written by hand,
so adding a check or a function never turns an old catalogue entry's honest
losses into "unrelated" ones.
"""
from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

import nbformat

from dlgrade import hw as student_hw

REPO = Path(__file__).resolve().parents[1]


def solution_calls(source_nb) -> dict:
    """function (solution cell id) -> the other solution functions its reference code names."""
    cells = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source_nb.cells
             if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    calls = {}
    for gid, code in cells.items():
        tree = ast.parse(code)
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        calls[gid] = (names & set(cells)) - {gid}
    return calls


@dataclass(frozen=True)
class UsesGraph:
    own: dict     # check id -> the functions it calls itself
    calls: dict   # function -> the functions it calls

    def reach(self, functions) -> set:
        seen, todo = set(), list(functions)
        while todo:
            f = todo.pop()
            if f not in seen:
                seen.add(f)
                todo += self.calls.get(f, ())
        return seen

    def own_checks(self, broken) -> set:
        return {cid for cid, fs in self.own.items() if set(fs) & set(broken)}

    def reaching_checks(self, broken) -> set:
        return {cid for cid, fs in self.own.items() if self.reach(fs) & set(broken)}


@functools.lru_cache(maxsize=None)
def uses_graph(assignment: str) -> UsesGraph:
    source = nbformat.read(str(REPO / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    own = {cid: tuple(spec.functions) for cid, spec in student_hw.specs(assignment).checks.items()}
    return UsesGraph(own, solution_calls(source))
