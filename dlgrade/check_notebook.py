"""``dlgrade check``: run a homework notebook top to bottom and report its visible checks.

    dlgrade check hw/hw.ipynb [MORE.ipynb ...] [--timeout SECONDS] [--summary-md FILE]
    python -m dlgrade.check_notebook hw/hw.ipynb ...      # the same

Each notebook runs in a fresh kernel of this Python (whatever kernel its metadata names),
cell after cell, going on after errors as the grader does. Every visible check prints its
verdict, grouped by test cell; hidden checks are listed as waiting for grading. The exit
status is 1 when a visible check fails or a test cell raises before its checks could run,
2 when a notebook cannot be read or run, else 0. ``--summary-md`` (by default $GITHUB_STEP_SUMMARY,
when set) gets a Markdown table of the verdicts.

Nothing here grades: it runs the visible cases shipped with this package, as the check
cells do in Jupyter. It reads the verdicts as data (``checks.VERDICT_MIME``), not as text.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import time
from pathlib import Path

from .checks import VERDICT_MIME, VERDICTS_ENV

# the verdict column of the summary; a visible check without shipped cases cannot pass
LABEL = {"pass": "PASS", "fail": "FAIL", "waiting": "waiting for grading", "unavailable": "FAIL"}
ERROR_CHARS = 300


def read_cells(path: Path) -> list[dict]:
    """The notebook's code cells as dicts: index, source, grade_id (or None), test (bool), points."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        meta = cell.get("metadata", {}).get("nbgrader", {})
        cells.append({"index": index, "source": "".join(source) if isinstance(source, list) else source,
                      "grade_id": meta.get("grade_id"), "points": meta.get("points"),
                      "test": bool(meta.get("grade")) and not meta.get("solution")})
    return cells


def start_kernel(cwd: Path, python: str):
    """A fresh ipykernel of ``python`` (by default this one), whatever kernels are installed."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(argv=[python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name="dlgrade check", language="python")

    env = {k: v for k, v in os.environ.items() if k != "DLGRADE_CASEBOOK"}  # home mode, never graded
    env.update({VERDICTS_ENV: "1", "MPLBACKEND": "Agg"})
    km = KernelManager(kernel_name="dlgrade-check", kernel_spec_manager=ThisPython())
    km.start_kernel(env=env, cwd=str(cwd))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    return km, kc


def run_cell(km, kc, source: str, timeout: float) -> dict:
    """Execute one cell; its verdicts, its error (or None) and whether the kernel is still usable."""
    msg_id = kc.execute(source, store_history=True, allow_stdin=False, stop_on_error=False)
    result = {"verdicts": [], "error": None, "usable": True}
    deadline = time.monotonic() + timeout
    interrupted = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            if interrupted:  # the kernel ignored the interrupt: give it up
                result["usable"] = False
                return result
            km.interrupt_kernel()
            result["error"] = f"timed out after {timeout:g} s (interrupted)"
            interrupted, deadline = True, time.monotonic() + 30
            continue
        try:
            msg = kc.get_iopub_msg(timeout=min(left, 2.0))
        except queue.Empty:
            if not km.is_alive():
                result["error"] = result["error"] or "the kernel died"
                result["usable"] = False
                return result
            continue
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content.get("execution_state") == "idle":
            return result
        if kind == "display_data" and VERDICT_MIME in content.get("data", {}):
            result["verdicts"].append(content["data"][VERDICT_MIME])
        elif kind == "error" and not interrupted:
            result["error"] = f"{content.get('ename')}: {content.get('evalue')}"[:ERROR_CHARS]


def run_notebook(path: Path, timeout: float, python: str) -> list[dict]:
    """Run every code cell of ``path``; per cell: its fields from read_cells plus verdicts and error."""
    cells = read_cells(path)
    km, kc = start_kernel(path.resolve().parent, python)
    try:
        usable = True
        for cell in cells:
            if not usable:
                cell.update(verdicts=[], error="not run: the kernel stopped earlier")
                continue
            result = run_cell(km, kc, cell["source"], timeout)
            usable = result.pop("usable")
            cell.update(result)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return cells


def _points(verdict: dict) -> str:
    points = verdict.get("points") or 0
    if verdict["status"] == "waiting":
        return f"?/{points:g}"
    if verdict.get("awarded") is None or not points:
        return ""
    return f"{verdict['awarded']:g}/{points:g}"


# the one magic the grader's audit accepts in a submission (it reads this set); any other magic or
# shell line is code reaching into the kernel (an install cell left in from Colab costs the
# notebook's automatic points)
ALLOWED_MAGICS = frozenset({"%matplotlib inline"})


def magic_lines(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines()
            if line.lstrip().startswith(("%", "!")) and line.strip() not in ALLOWED_MAGICS]


def report(name: str, cells: list[dict], out=sys.stdout) -> tuple[list, int]:
    """Print a notebook's verdicts by test cell; return the table rows and the failure count."""
    rows, failures = [], 0
    print(f"== {name}", file=out)
    for cell in cells:
        for line in magic_lines(cell["source"]):
            failures += 1
            print(f"  [FAIL] cell {cell['index'] + 1} runs {line[:60]!r}: delete it before you submit (the grader "
                  "reads % and ! lines as reaching into the kernel and withholds the automatic points)", file=out)
            rows.append([name, f"cell {cell['index'] + 1}", "(magic line)", "ERROR", "", line[:80]])
        label = cell["grade_id"] or f"cell {cell['index'] + 1}"
        if not (cell["test"] or cell["verdicts"]):
            if cell["error"]:  # not a test cell: the checks after it say what it broke
                print(f"   ({label} raised {cell['error']})", file=out)
            continue
        points = f"  ({cell['points']:g} points when graded)" if cell.get("points") else ""
        print(f"{label}{points}", file=out)
        for verdict in cell["verdicts"]:
            print("  " + verdict["text"].replace("\n", "\n  "), file=out)
            failed = verdict["status"] in ("fail", "unavailable")
            failures += failed
            reason = "; ".join(f"case '{c}': {r}" for c, r in verdict.get("failures", [])[:3])
            if verdict["status"] == "unavailable":
                reason = "no visible cases in this copy of the course package"
            rows.append([name, label, verdict["check"], LABEL[verdict["status"]],
                         _points(verdict), reason])
        if cell["test"] and cell["error"]:
            failures += 1
            print(f"  [FAIL] this cell raised {cell['error']}", file=out)
            rows.append([name, label, "(cell)", "ERROR", "", cell["error"]])
    return rows, failures


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_summary(path: str, rows: list, totals: str) -> None:
    lines = ["## dlgrade check: visible checks", "", totals, "",
             "| notebook | test cell | check | verdict | points | why |", "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append("| " + " | ".join(_md(x) for x in row) + " |")
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n\n")


def build_parser(prog: str = "dlgrade check") -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=prog, description="Run homework notebooks top to bottom in a fresh "
                                 "kernel and report their visible checks (nothing is graded).")
    ap.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per cell (default 300)")
    ap.add_argument("--summary-md", metavar="FILE", default=os.environ.get("GITHUB_STEP_SUMMARY") or None,
                    help="append a Markdown table of the verdicts (default: $GITHUB_STEP_SUMMARY when set)")
    ap.add_argument("--python", default=sys.executable, help="interpreter of the kernel (default: this one)")
    return ap


def main(argv=None, prog: str = "dlgrade check") -> int:
    args = build_parser(prog).parse_args(argv)
    rows, failures, unreadable = [], 0, 0
    for path in args.notebooks:
        try:
            cells = run_notebook(path, args.timeout, args.python)
        except (OSError, ValueError, RuntimeError) as exc:  # missing file, not JSON, no kernel
            print(f"== {path}\n  cannot run it: {exc}")
            unreadable += 1
            continue
        more_rows, more_failures = report(str(path), cells)
        rows += more_rows
        failures += more_failures
    verdicts = [r for r in rows if not r[2].startswith("(")]
    passed = sum(r[3] == "PASS" for r in verdicts)
    waiting = sum(r[3] == "waiting for grading" for r in verdicts)
    errors = sum(r[2] == "(cell)" for r in rows)
    magics = sum(r[2] == "(magic line)" for r in rows)
    totals = (f"{passed} passed, {len(verdicts) - passed - waiting} failed of {len(verdicts) - waiting} visible "
              f"checks; {errors} test cell{'s' * (errors != 1)} raised; {waiting} hidden waiting for grading"
              + (f"; {magics} % or ! line{'s' * (magics != 1)} to delete before submitting" if magics else ""))
    print(("OK: " if not (failures or unreadable) else "FAILED: ") + totals)
    if args.summary_md:
        write_summary(args.summary_md, rows, totals)
    return 2 if unreadable else 1 if failures else 0


def console(argv=None) -> int:
    """The student's ``dlgrade`` command: ``dlgrade check NOTEBOOK ...``."""
    ap = argparse.ArgumentParser(prog="dlgrade", description="The student edition of dlgrade.")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="run notebooks and report their visible checks", add_help=False)
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["check"]:
        return main(argv[1:])
    ap.parse_args(argv)  # prints usage and exits
    return 2


if __name__ == "__main__":
    sys.exit(main(prog="python -m dlgrade.check_notebook"))
