"""Hand submissions to worker processes and take their outcomes back, whatever happens to them.

The main process keeps N workers busy. A worker that dies is replaced, and its
submission is graded once more (a second death is the submission's doing); a
worker past the task timeout is killed and its submission reported. A machine
fault named in an outcome either stops the batch (a full disk) or puts the
submission back in the queue until the gradebook server answers again.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import signal
import sys
import time
from multiprocessing.connection import wait
from pathlib import Path

from .crashpoints import crash_point
from .faults import DISK_FULL, Fault, MachineFault, Outage, classify, machine_message
from .outcome import Outcome, Status
from .plan import STATE_DIR
from .worker import worker_main


class WorkerProcess:
    """One worker process, its pipe, and the task it holds (since when)."""

    def __init__(self, ctx, course, index, db_url, env):
        self.index = index
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker_main, args=(child, str(course), index, db_url, env, os.getpid()),
                                name=f"dlgrade-worker-{index}", daemon=True)
        self.proc.start()
        child.close()
        self.task = None
        self.started = 0.0
        self.ready = False

    def send(self, task):
        self.task, self.started = task, time.monotonic()
        self.conn.send(task)

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.join(5)


def dispatch(tasks: list, n_workers: int, course: Path, opts, env: dict, record) -> None:
    """Hand tasks to idle workers, pass each :class:`.outcome.Outcome` to ``record``; replace dead or
    stuck workers. ``opts`` is the run's :class:`.cohort.Options`."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["dlgrade_grader.worker_preload"])
    procs = [WorkerProcess(ctx, course, i, opts.db_url, env) for i in range(n_workers)]
    pending = list(tasks)
    bar = _progress(len(tasks), opts.progress)
    early_deaths, recorded = 0, 0
    outage = Outage(opts.db_patience)

    def machine_fault(fault: Fault, task: dict) -> None:
        """A full disk stops the batch; a lost database server puts the task back, to be tried later."""
        left = len(tasks) - recorded
        if fault.kind == DISK_FULL:
            raise MachineFault(fault, machine_message(fault, course, opts.db_url, recorded, left))
        delay = outage.failed(fault, opts.db_url or "", left)
        print(f"waiting for the gradebook database ({fault.detail}): {task['student']}/{task['assignment']} "
              f"is tried again in {delay:.1f} s", file=sys.stderr)
        pending.insert(0, {**task, "not_before": time.monotonic() + delay})

    try:
        while pending or any(p.task for p in procs):
            for p in procs:
                due = [t for t in pending if t.get("not_before", 0) <= time.monotonic()]
                if p.ready and p.task is None and due:
                    try:
                        p.send(due[0])
                        pending.remove(due[0])
                    except OSError:
                        p.task = None
                    crash_point("dispatched")
            wait([p.conn for p in procs] + [p.proc.sentinel for p in procs], timeout=2)
            for i, p in enumerate(procs):
                msg = None
                try:
                    if p.conn.poll():
                        msg = p.conn.recv()
                except (EOFError, OSError):
                    msg = None
                if isinstance(msg, dict) and "ready" in msg:
                    p.ready = True
                    continue
                if isinstance(msg, dict) and "fatal" in msg:
                    raise RuntimeError("a grading worker could not start:\n" + msg["fatal"])
                result, task = msg, p.task
                if result is not None:
                    p.task = None
                elif p.task is not None:
                    overdue = time.monotonic() - p.started > opts.task_timeout
                    if not overdue and p.proc.is_alive():
                        continue
                    why = (f"grading took longer than {opts.task_timeout:.0f} s and was stopped" if overdue
                           else f"the grading process died (exit code {p.proc.exitcode}) on this submission")
                    p.kill()
                    procs[i] = WorkerProcess(ctx, course, p.index, opts.db_url, env)
                    if not overdue and not task.get("attempt"):
                        # killed from outside (the OOM killer, an operator): grade it again once;
                        # a second death is the submission's doing and is reported
                        pending.insert(0, {**task, "attempt": 1})
                        continue
                    result = Outcome(task["student"], task["assignment"], task["fingerprint"], Status.FAILED,
                                     why, worker=p.index, retry=True)
                elif not p.proc.is_alive():
                    if not p.ready:
                        early_deaths += 1
                        if early_deaths > 2 * n_workers:
                            log = course / STATE_DIR / "work" / f"w{p.index}.log"
                            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                            raise RuntimeError(f"grading workers keep dying on start-up:\n{tail}")
                    procs[i] = WorkerProcess(ctx, course, p.index, opts.db_url, env)
                    continue
                else:
                    continue
                if result.fault:
                    machine_fault(Fault(**result.fault), task)
                    continue
                try:
                    record(result)
                except Exception as exc:
                    fault = classify(exc)
                    if fault is None:
                        raise
                    machine_fault(fault, task)
                    continue
                outage.recovered()
                recorded += 1
                bar.update(1)
                bar.set_postfix_str(f"{result.student}/{result.assignment}: {result.status}")
    finally:
        bar.close()
        for p in procs:
            try:
                p.conn.send(None)
            except OSError:
                pass
        for p in procs:
            p.proc.join(10)
            if p.proc.is_alive():
                p.kill()
        shutil.rmtree(course / STATE_DIR / "work", ignore_errors=True)


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="grading", unit="nb", disable=not enabled, file=sys.stderr,
                dynamic_ncols=True)
