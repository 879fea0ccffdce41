"""``dlgrade``: grade a cohort, make the demo cohort, merge CI shards.

    dlgrade demo-cohort                      # synthetic students into submitted/
    dlgrade grade [ASSIGNMENT ...]           # grade everything in submitted/
    dlgrade grade --shard 0/4                # one CI matrix job's share of the students
    dlgrade merge SHARD_DIR ...              # fold shard results into this course
    dlgrade feedback [ASSIGNMENT ...]        # after manual grading: feedback and reports from the gradebook
    dlgrade keygen [PATH]                    # a new course key (default ~/.config/dlgrade/dlmath.key)
    dlgrade similarity [--assignment HW ...] # pairs of submissions to review for copying
    dlgrade check NOTEBOOK ...               # a student's visible checks (dlgrade.check_notebook)
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError("use INDEX/COUNT, e.g. 0/4") from None
    if count < 1 or not 0 <= index < count:
        raise argparse.ArgumentTypeError("need 0 <= INDEX < COUNT")
    return index, count


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="dlgrade", description="Auto-grading for the deep-learning maths course")
    sub = ap.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="autograde every submission in submitted/ and write reports")
    g.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: every assignment in source/")
    g.add_argument("--course", type=Path, default=Path.cwd(), help="course directory (default: current)")
    g.add_argument("--workers", type=_positive, default=os.cpu_count() or 1,
                   help="parallel grading processes (default: number of cores)")
    g.add_argument("--db-url", help="gradebook database URL, e.g. postgresql+psycopg2://user@host/db "
                                    "(default: SQLite gradebook.db in the course)")
    g.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run student code without the kernel sandbox when bubblewrap is unavailable")
    g.add_argument("--force", action="store_true", help="regrade submissions that are up to date")
    g.add_argument("--student", action="append", default=[], help="grade only this student (repeatable)")
    g.add_argument("--shard", type=_shard, help="grade only the INDEX-th of COUNT slices of the students")
    g.add_argument("--task-timeout", type=float, default=1800.0,
                   help="seconds after which one submission's grading is stopped (default 1800)")
    g.add_argument("--no-feedback", action="store_true", help="skip the HTML feedback")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")

    d = sub.add_parser("demo-cohort", help="write synthetic demo students into submitted/")
    d.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: every assignment in source/")
    d.add_argument("--course", type=Path, default=Path.cwd())
    d.add_argument("--catalogues", type=Path, default=None,
                   help="folder of catalogue files <assignment>.py the students are made from "
                        "(default: grader_tests/catalogues of the checkout the grader runs from)")

    k = sub.add_parser("keygen", help="write a new course key (the secret graded cases are drawn from)")
    k.add_argument("path", nargs="?", type=Path, help="where (default: ~/.config/dlgrade/<course_id>.key)")
    k.add_argument("--course-id", default="dlmath")

    sub.add_parser("check", add_help=False,
                   help="run notebooks and report their visible checks, as the student package's "
                        "`dlgrade check` does (kernel: the student environment; see dlgrade check --help)")

    m = sub.add_parser("merge", help="merge shard course folders graded with --shard into this course")
    m.add_argument("shards", nargs="+", type=Path, metavar="SHARD_DIR")
    m.add_argument("--course", type=Path, default=Path.cwd())
    m.add_argument("--db-url")

    f = sub.add_parser("feedback", help="after grading by hand in formgrader: rebuild students' feedback "
                                        "and reports/ from the gradebook (no regrading)")
    f.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: every assignment in source/")
    f.add_argument("--course", type=Path, default=Path.cwd())
    f.add_argument("--student", action="append", default=[], help="only this student (repeatable)")
    f.add_argument("--db-url")

    s = sub.add_parser("similarity", help="compare submissions' solution cells (copydetect) and write "
                                          "reports/similarity/ with pairs to review for copying")
    s.add_argument("--course", type=Path, default=Path.cwd())
    s.add_argument("--assignment", nargs="+", action="extend", default=[], metavar="HW",
                   help="default: every assignment with a folder in submitted/<student>/")
    s.add_argument("--threshold", type=float, default=None,
                   help="flag a pair when this share of one student's own code is also in the other's "
                        "(0..1, default 0.5)")
    s.add_argument("--discount-reference", action="store_true",
                   help="do not count code that the instructor's solution in source/ also holds "
                        "(the natural way to write an answer; the demo cohort is built from it)")
    return ap


def check(argv: list) -> int:
    """``dlgrade check``: the student package's command, its kernel in the student environment when there is one."""
    from dlgrade.check_notebook import main as check_main
    from .sandbox import kernel_python_default
    python = kernel_python_default()
    if not any(a == "--python" or a.startswith("--python=") for a in argv) and os.path.exists(python):
        argv = ["--python", python, *argv]
    return check_main(argv)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["check"]:  # its options belong to dlgrade.check_notebook
        return check(argv[1:])
    args = build_parser().parse_args(argv)
    from .course_lock import CourseBusy
    from .faults import MachineFault, classify, machine_message
    try:
        return _command(args)
    except CourseBusy as exc:
        print(f"dlgrade {args.command}: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:  # the machine failed (full disk, lost database): say where, not a traceback
        fault = classify(exc)
        if fault is None and not isinstance(exc, MachineFault):
            raise
        message = str(exc) if isinstance(exc, MachineFault) else \
            machine_message(fault, getattr(args, "course", Path(".")), getattr(args, "db_url", None))
        print(f"dlgrade {args.command}: {message}", file=sys.stderr)
        return 4


def _command(args) -> int:
    if args.command == "demo-cohort":
        from .demo import DEFAULT_CATALOGUES, generate
        written = generate(args.course, args.assignments, catalogues=args.catalogues or DEFAULT_CATALOGUES)
        return 0 if written else 1
    if args.command == "keygen":
        from . import keys
        try:
            path = keys.generate(args.path or keys.default_path(args.course_id))
        except FileExistsError as exc:
            print(f"dlgrade keygen: {exc}", file=sys.stderr)
            return 1
        print(f"wrote a new course key to {path} (mode 600). Keep it out of the repository; in CI give "
              f"it as the DLGRADE_COURSE_KEY secret. Grades depend on it: regrading with another key "
              f"draws other cases.")
        return 0
    if args.command == "merge":
        from .shards import merge_shards
        merge_shards(args.course, args.shards, args.db_url)
        return 0
    if args.command == "feedback":
        from .return_feedback import rebuild
        rebuild(args.course, args.assignments, args.student, args.db_url)
        return 0
    if args.command == "similarity":
        from .similarity import run_cli
        return run_cli(args.course, args.assignment, args.threshold, args.discount_reference)
    from .cohort import Options, run
    try:
        from .sandbox import SandboxUnavailable
    except ImportError:  # pragma: no cover - the sandbox module is part of the package
        SandboxUnavailable = RuntimeError  # noqa: N806
    if args.unsafe_no_sandbox:
        os.environ["DLGRADE_UNSAFE_NO_SANDBOX"] = "1"
    from . import keys
    try:
        keys.load()
    except keys.MissingKey as exc:
        print(f"dlgrade grade: refusing to grade: {exc}", file=sys.stderr)
        return 2
    try:
        summary = run(Options(course=args.course, assignments=args.assignments, workers=args.workers,
                              db_url=args.db_url, unsafe_no_sandbox=args.unsafe_no_sandbox,
                              force=args.force, students=args.student, shard=args.shard,
                              task_timeout=args.task_timeout,
                              progress=not args.no_progress, feedback=not args.no_feedback))
    except SandboxUnavailable as exc:
        print(f"dlgrade grade: {exc}", file=sys.stderr)
        return 2
    if not summary["students"]:
        print(f"nothing to grade: no submissions in {args.course.resolve() / 'submitted'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
