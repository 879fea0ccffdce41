"""Throughput of cohort grading, measured in one run (a script, never a timed test).

(One file over 400 lines on purpose: its baselines only mean something measured in the same run.)

    python scripts/benchmark.py                   # 60 submissions over the available assignments
    python scripts/benchmark.py --submissions 12  # quicker
    python scripts/benchmark.py --workers 2 --bare-sample 8 --keep
    python scripts/benchmark.py --load --submissions 300   # deadline night: memory, no baselines

It builds a synthetic cohort (reference, blank and catalogue wrong answers,
round-robin over the assignments that exist), copies it into identical
course folders and measures, one after the other:

1. plain sequential ``nbgrader autograde`` per assignment, with nbgrader's
   default preprocessors (no verifier, no sandbox), twice:
   a. *as a course would run it*: the kernel computes the references itself
      (the grader's own cases and references, torch and autograd imported in
      the kernel, every case of every visible and hidden check), which is what
      a plain nbgrader course with hidden tests does;
   b. *with the same kernel work as dlgrade's kernels*: the student kernel
      environment, running the student's code on the same kind of casebook a
      graded kernel gets (answers recorded, no reference in the kernel);
2. ``dlgrade grade --workers 1``;
3. ``dlgrade grade --workers N`` (default: the number of cores);
4. a bare ``jupyter nbconvert --execute`` of a sample of the very notebooks
   the kernel ran in (2) (hidden tests restored, same student seed).

With ``--load`` it grades the cohort once with the default workers and
prints throughput and peak memory (the grader's main process, each worker,
the largest kernel) against their bounds instead.

Otherwise it prints wall times, the targets' ratios (N workers vs the baseline,
>= 1.9x on 2 cores; per-notebook time of (2) vs bare execution, <= 1.3x),
and where a worker spends its time per submission.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import nbformat  # noqa: E402

from dlgrade_grader import release  # noqa: E402
from grader_tests import localcourse  # noqa: E402
from dlgrade_grader.execute import REPORT_SUFFIX  # noqa: E402
from dlgrade_grader.submissions import BLANK, REFERENCE, build_submission, write_submission  # noqa: E402

PLAIN_CONFIG = """\
# The plain-nbgrader baseline: nbgrader's default autograde preprocessors,
# no verifier and no kernel sandbox.
c = get_config()  # noqa: F821
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = "dlmath"
c.Execute.timeout = 60
"""


PACKAGE = None  # --package: a folder holding a candidate dlgrade/


def use_a_course_key() -> None:
    """A throw-away course key for this process and every one it starts, unless the caller has one."""
    if not (os.environ.get("DLGRADE_COURSE_KEY") or os.environ.get("DLGRADE_KEY_FILE")):
        os.environ["DLGRADE_COURSE_KEY"] = secrets.token_hex(32)


def env() -> dict:
    out = localcourse.nbgrader_env()
    out.pop("DLGRADE_UNSAFE_NO_SANDBOX", None)
    if PACKAGE:
        out["PYTHONPATH"] = str(PACKAGE) + os.pathsep + out.get("PYTHONPATH", "")
    return out


def available() -> list:
    return release.available(REPO)


def wrong_answers(assignment: str) -> list:
    try:
        from grader_tests.catalogues import load
        return [v for v in load(assignment) if v.kind == "wrong"]
    except ImportError:
        return []


def build_cohort(root: Path, assignments: list, n: int) -> list:
    """n submissions: round-robin over assignments, kinds cycling reference/blank/wrong."""
    notebooks = {h: (localcourse.read_notebook(root, "source", h), localcourse.read_notebook(root, "release", h))
                 for h in assignments}
    wrongs = {h: wrong_answers(h) for h in assignments}
    made = []
    for i in range(n):
        hw = assignments[i % len(assignments)]
        turn = (i // len(assignments)) % 3
        if turn == 0:
            variant = REFERENCE
        elif turn == 1 or not wrongs[hw]:
            variant = BLANK
        else:
            variant = wrongs[hw][(i // (3 * len(assignments))) % len(wrongs[hw])]
        sid = f"bench-{i:03d}-{variant.kind}"
        src, rel = notebooks[hw]
        try:
            nb = build_submission(variant, src, rel)
        except Exception:  # a catalogue entry out of step with the notebook: use the reference
            nb = build_submission(REFERENCE, src, rel)
        write_submission(nb, root / "submitted" / sid / hw / f"{hw}.ipynb")
        made.append((sid, hw))
    return made


def clone(base: Path, dest: Path) -> Path:
    shutil.copytree(base, dest, symlinks=True)
    return dest


def timed(cmd: list, cwd: Path, extra_env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env={**env(), **(extra_env or {})}, capture_output=True, text=True)
    return time.perf_counter() - t0, proc


def check(proc: subprocess.CompletedProcess, what: str) -> None:
    if proc.returncode != 0:
        sys.exit(f"{what} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


# sitecustomize of the "as a course would run it" kernels: check() grades in the kernel, against
# references it computes there with the grader's own cases (torch and autograd imported in the kernel)
IN_KERNEL_REFERENCES = """\
import os, sys, zlib
import dlgrade.checks as _checks


def _grading_check(specs):
    from dlgrade_grader import hw
    from dlgrade_grader.checks import make_cases
    registry = hw.registry(specs.assignment)

    def check(check_id, points, hidden=False):
        graded = registry[check_id]
        ns = _checks.StudentNamespace(sys._getframe(1).f_globals)
        seed = zlib.crc32(f"{os.getcwd()}|{check_id}|{hidden}".encode())
        failed = 0
        for inputs in make_cases(graded, seed).inputs:
            expected = graded.reference(inputs)
            try:
                failed += bool(graded.spec.evaluate(expected, graded.spec.run(ns, inputs), inputs))
            except Exception:
                failed += 1
        print(("[PASS] " if not failed else "[FAIL] ") + check_id)
        assert not failed, check_id
    check.specs = specs
    return check


_checks.make_check = _grading_check
"""


def kernelspec(folder: Path, python: str, env: dict | None = None) -> Path:
    """A JUPYTER_PATH folder whose python3 kernel is ``python`` (first on the kernel search path)."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python", "env": env or {}}))
    return folder


def casebooks(course: Path, assignments: list, folder: Path) -> dict:
    """One casebook per assignment (a graded kernel's inputs for one student): the same cases to run
    for every student of the "same kernel work" baseline."""
    from dlgrade_grader import casebook, hw as hw_modules
    from dlgrade_grader.keys import load as load_key
    from dlgrade_grader.verify import parse_check_calls

    out = {}
    key = load_key()
    for hw in assignments:
        book = casebook.build(localcourse.read_notebook(course, "source", hw), hw_modules.registry(hw), key,
                              "baseline", parse_check_calls)
        out[hw] = folder / f"{hw}.casebook.json"
        out[hw].write_text(casebook.dumps(book))
    return out


def plain_nbgrader(course: Path, assignments: list, jupyter_path: Path, books: dict | None = None,
                   feedback: bool = False) -> tuple[float, float]:
    """Seconds of ``nbgrader autograde`` over the assignments, and of ``nbgrader generate_feedback``
    after it when ``feedback`` (0.0 otherwise): dlgrade's run writes both."""
    (course / "nbgrader_config.py").write_text(PLAIN_CONFIG.format(root=str(course)))
    graded = fed = 0.0
    for hw in assignments:
        extra = {"JUPYTER_PATH": str(jupyter_path)}
        if books:
            extra["DLGRADE_CASEBOOK"] = str(books[hw])
        seconds, proc = timed([sys.executable, "-m", "nbgrader", "autograde", hw], course, extra)
        check(proc, f"nbgrader autograde {hw}")
        graded += seconds
        if feedback:
            seconds, proc = timed([sys.executable, "-m", "nbgrader", "generate_feedback", hw], course, extra)
            check(proc, f"nbgrader generate_feedback {hw}")
            fed += seconds
    return graded, fed


def cohort(course: Path, workers: int, unsafe: bool) -> tuple[float, dict, str]:
    if PACKAGE:  # the sandbox hands kernels a clean environment: tell it where the package is
        with open(course / "nbgrader_config.py", "a") as fh:
            fh.write(f"\nc.SandboxedKernelManager.kernel_env = {{'PYTHONPATH': {str(PACKAGE)!r}}}\n")
    cmd = [sys.executable, "-m", "dlgrade_grader.cli", "grade", "--workers", str(workers), "--no-progress"]
    if unsafe:
        cmd.append("--unsafe-no-sandbox")
    seconds, proc = timed(cmd, course)
    check(proc, f"dlgrade grade --workers {workers}")
    state = json.loads((course / ".dlgrade" / "state.json").read_text())["results"]
    return seconds, state, proc.stdout


class MemorySampler(threading.Thread):
    """Peak resident memory of a ``dlgrade grade`` process tree, sampled every 0.1 s: the main
    process, its workers and the kernels they run (sandboxed kernels are still descendants)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        import psutil
        self.root, self.stop = psutil.Process(pid), threading.Event()
        self.samples = []  # (seconds, main, workers total, largest worker, largest kernel)

    def run(self):
        import psutil
        t0 = time.monotonic()
        while not self.stop.is_set():
            try:
                main = self.root.memory_info().rss
                kids = self.root.children(recursive=True)
            except psutil.Error:
                return
            workers, kernels = [], []
            for proc in kids:
                try:
                    line = " ".join(proc.cmdline())
                    rss = proc.memory_info().rss
                    # workers are forked by multiprocessing and lead their own process group; a
                    # worker's own forked child shows the same command line until it execs
                    leader = os.getpgid(proc.pid) == proc.pid
                except (psutil.Error, OSError):
                    continue
                if "multiprocessing" in line and leader:
                    workers.append(rss)
                elif "ipykernel_launcher" in line:
                    kernels.append(rss)
            self.samples.append((time.monotonic() - t0, main, sum(workers), max(workers, default=0),
                                 max(kernels, default=0)))
            self.stop.wait(0.1)

    def peak(self, column: int, part=slice(None)) -> int:
        chosen = self.samples[part]
        return max((s[column] for s in chosen), default=0)


def load_run(course: Path, workers: int, unsafe: bool, n: int) -> int:
    """One graded cohort with the default workers; throughput and peak memory, with their bounds."""
    from dlgrade_grader.sandbox import SandboxedKernelManager

    cmd = [sys.executable, "-m", "dlgrade_grader.cli", "grade", "--workers", str(workers), "--no-progress"]
    if unsafe:
        cmd.append("--unsafe-no-sandbox")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=course, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = MemorySampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    check(subprocess.CompletedProcess(cmd, proc.returncode, out, err), f"dlgrade grade --workers {workers}")
    state = json.loads((course / ".dlgrade" / "state.json").read_text())["results"]
    statuses = {}
    for r in state.values():
        if r["status"] != "missing":  # each synthetic student submits one assignment of the five
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    mib = 1 << 20
    quarter = max(1, len(sampler.samples) // 4)
    limit = SandboxedKernelManager.memory_limit.default_value
    main_first, main_last = sampler.peak(1, slice(0, quarter)), sampler.peak(1, slice(-quarter, None))
    work_first, work_last = sampler.peak(3, slice(0, quarter)), sampler.peak(3, slice(-quarter, None))
    kernel = sampler.peak(4)
    print("\n== load run ==")
    print(f"machine: {os.cpu_count()} cores; submissions: {n}; workers: {workers}; sandbox: {not unsafe}")
    print(f"wall time: {seconds:.1f} s   throughput: {n / seconds * 60:.1f} submissions/min   "
          f"statuses: {statuses}")
    print(f"grader main process, peak RSS: {sampler.peak(1) / mib:.0f} MiB "
          f"(first quarter {main_first / mib:.0f}, last quarter {main_last / mib:.0f})")
    print(f"largest worker, peak RSS:      {sampler.peak(3) / mib:.0f} MiB "
          f"(first quarter {work_first / mib:.0f}, last quarter {work_last / mib:.0f})")
    print(f"grader total (main + workers): {max(s[1] + s[2] for s in sampler.samples) / mib:.0f} MiB "
          f"(RSS counts the pages workers share with the process they are forked from)")
    print(f"largest kernel, peak RSS:      {kernel / mib:.0f} MiB "
          f"(bound: SandboxedKernelManager.memory_limit = {limit / mib:.0f} MiB per kernel)")
    print(f"samples: {len(sampler.samples)} at 0.1 s")
    # bounded: a kernel stays within its budget, and the grader does not grow with the cohort
    # (its last quarter within 1.5x of its first, plus 50 MiB for caches filled on the way)
    ok = kernel <= limit and main_last <= 1.5 * main_first + 50 * mib and work_last <= 1.5 * work_first + 50 * mib
    print("memory bounded: " + ("yes" if ok else "NO"))
    return 0 if ok else 1


def bare_execute(course: Path, sample: list, scratch: Path) -> dict:
    """Seconds of `jupyter nbconvert --execute` per (student, assignment), on the notebook the grader ran."""
    out = {}
    for sid, hw in sample:
        graded = nbformat.read(str(course / "autograded" / sid / hw / f"{hw}.ipynb"), as_version=4)
        for cell in graded.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        graded.metadata.pop("dlgrade", None)
        graded.metadata.pop("dlgrade_sandbox", None)
        folder = scratch / sid
        folder.mkdir(parents=True)
        nbformat.write(graded, str(folder / f"{hw}.ipynb"))
        cmd = [os.path.join(os.path.dirname(sys.executable), "jupyter"), "nbconvert", "--to", "notebook",
               "--execute", "--allow-errors", "--ExecutePreprocessor.timeout=120", f"{hw}.ipynb", "--output", "executed.ipynb"]
        # at home the kernel only compares visible cases with shipped data, about the work a
        # graded kernel does on its casebook, so the ratio measures what grading adds
        seconds, proc = timed(cmd, folder, {})
        check(proc, f"nbconvert --execute {sid}/{hw}")
        out[(sid, hw)] = seconds
    return out


def kernel_seconds(course: Path, made: list) -> list:
    vals = []
    for sid, hw in made:
        report = course / "autograded" / sid / hw / f"{hw}{REPORT_SUFFIX}"
        if report.exists():
            value = json.loads(report.read_text()).get("kernel_start_seconds")
            if value is not None:
                vals.append(value)
    return vals


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--submissions", type=int, default=60)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--assignments", nargs="*", help="default: every assignment in source/")
    ap.add_argument("--bare-sample", type=int, default=10,
                    help="notebooks run bare with nbconvert (0: all of them)")
    ap.add_argument("--unsafe-no-sandbox", action="store_true", help="grade without bubblewrap")
    ap.add_argument("--skip-plain", action="store_true", help="do not run the nbgrader baseline")
    ap.add_argument("--keep", action="store_true", help="keep the course folders")
    ap.add_argument("--load", action="store_true",
                    help="one graded cohort with --workers: throughput and peak memory, no baselines")
    ap.add_argument("--package", type=Path,
                    help="measure the dlgrade package in this folder (grader and kernels) instead of "
                         "the installed one, e.g. a candidate change")
    args = ap.parse_args()
    use_a_course_key()
    global PACKAGE
    PACKAGE = args.package.resolve() if args.package else None

    assignments = args.assignments or available()
    if not assignments:
        sys.exit("no assignment notebooks in source/")
    top = Path(tempfile.mkdtemp(prefix="dlgrade-bench-"))
    print(f"cores: {os.cpu_count()}  load average: {os.getloadavg()[0]:.1f}  workers: {args.workers}  "
          f"assignments: {', '.join(assignments)}  folder: {top}", flush=True)
    base = top / "base"
    t0 = time.perf_counter()
    localcourse.init_course(base, assignments)
    made = build_cohort(base, assignments, args.submissions)
    print(f"built {len(made)} submissions in {time.perf_counter() - t0:.0f} s", flush=True)

    if args.load:
        code = load_run(clone(base, top / "load"), args.workers, args.unsafe_no_sandbox, len(made))
        if not args.keep:
            shutil.rmtree(top, ignore_errors=True)
        return code

    results = {}
    if not args.skip_plain:
        from dlgrade_grader.sandbox import kernel_python_default
        course_way = kernelspec(top / "kernels-course", sys.executable, {"PYTHONPATH": str(top / "site")})
        (top / "site").mkdir()
        (top / "site" / "sitecustomize.py").write_text(IN_KERNEL_REFERENCES)
        results["plain_course"], _ = plain_nbgrader(clone(base, top / "plain-course"), assignments, course_way)
        print(f"plain nbgrader, as a course would run it (references in the kernel): "
              f"{results['plain_course']:.1f} s", flush=True)
        same_work = kernelspec(top / "kernels-same", kernel_python_default())
        books = casebooks(base, assignments, top)
        results["plain"], results["plain_feedback"] = plain_nbgrader(
            clone(base, top / "plain"), assignments, same_work, books, feedback=True)
        print(f"plain nbgrader, same kernel work as dlgrade's kernels: {results['plain']:.1f} s "
              "(its scores mean nothing: the kernels only record answers, as dlgrade's do); "
              f"its generate_feedback after it: {results['plain_feedback']:.1f} s", flush=True)
    one = clone(base, top / "one")
    results["one"], state_one, _ = cohort(one, 1, args.unsafe_no_sandbox)
    print(f"dlgrade grade --workers 1:           {results['one']:.1f} s", flush=True)
    many = clone(base, top / "many")
    results["many"], state_many, summary = cohort(many, args.workers, args.unsafe_no_sandbox)
    print(f"dlgrade grade --workers {args.workers}:           {results['many']:.1f} s", flush=True)

    sample = made if args.bare_sample <= 0 else made[:: max(1, len(made) // args.bare_sample)][:args.bare_sample]
    bare = bare_execute(one, sample, top / "bare")
    n = len(made)
    per_task = {(r["student"], r["assignment"]): r["phases"]["total"] for r in state_one.values() if "phases" in r}
    bare_mean = statistics.mean(bare.values())
    sample_task = statistics.mean(per_task[k] for k in bare)

    print("\n== results ==")
    print(f"machine: {os.cpu_count()} cores; submissions: {n}; load average now {os.getloadavg()[0]:.1f}")
    if "plain" in results:
        print(f"plain nbgrader, as a course runs it : {results['plain_course']:8.1f} s  "
              f"({results['plain_course'] / n:.2f} s/notebook)")
        print(f"plain nbgrader, same kernel work    : {results['plain']:8.1f} s  ({results['plain'] / n:.2f} s/notebook)")
        print(f"  + nbgrader generate_feedback      : {results['plain_feedback']:8.1f} s  "
              f"({results['plain_feedback'] / n:.2f} s/notebook)")
    print(f"dlgrade, 1 worker         : {results['one']:8.1f} s  ({results['one'] / n:.2f} s/notebook)")
    print(f"dlgrade, {args.workers} workers        : {results['many']:8.1f} s  ({results['many'] / n:.2f} s/notebook)")
    print(f"bare nbconvert --execute  : {bare_mean:8.2f} s/notebook (mean of {len(bare)})")
    if "plain" in results:
        print(f"speed-up, {args.workers} workers vs plain nbgrader as a course runs it : "
              f"{results['plain_course'] / results['many']:.2f}x  (target >= 3x on 2 cores)")
        print(f"speed-up, {args.workers} workers vs plain nbgrader, same kernel work   : "
              f"{results['plain'] / results['many']:.2f}x  (target >= 2.5x on 2 cores)")
        print(f"speed-up, {args.workers} workers vs plain autograde + generate_feedback, same kernel work "
              f"(the same outputs as dlgrade's run): "
              f"{(results['plain'] + results['plain_feedback']) / results['many']:.2f}x")
    print(f"speed-up, {args.workers} workers vs 1 worker       : {results['one'] / results['many']:.2f}x")
    per_notebook = results["many"] / n
    print(f"wall per notebook, {args.workers} workers : {per_notebook:.2f} s  (target <= 1.5 s on 2 cores)")
    print(f"projected: 300 students x {len(assignments)} assignments = {300 * len(assignments)} notebooks in "
          f"{300 * len(assignments) * per_notebook / 60:.0f} min with {args.workers} workers")
    print(f"per notebook, 1 worker (same sample) vs bare : {sample_task / bare_mean:.2f}x  (target <= 1.3x)")
    print(f"per notebook, 1 worker run amortised vs bare : {results['one'] / n / bare_mean:.2f}x")

    phases = {}
    for r in state_one.values():
        for key, value in r.get("phases", {}).items():
            phases.setdefault(key, []).append(value)
    print("\nwhere a worker's time goes per submission (1 worker, mean s): " +
          ", ".join(f"{k} {statistics.mean(v):.2f}" for k, v in sorted(phases.items())))
    starts = kernel_seconds(one, made)
    if starts:
        print(f"sandboxed kernel start (mean s): {statistics.mean(starts):.2f}")
    overhead = results["one"] - sum(per_task.values())
    print(f"outside submissions (start-up, sync, reports) with 1 worker: {overhead:.1f} s")
    print("\n" + "\n".join(line for line in summary.splitlines() if line.startswith("dlgrade grade:")))
    print("\n".join(summary.splitlines()[-3:]))
    if not args.keep:
        shutil.rmtree(top, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
