"""First process inside the kernel sandbox; it becomes the kernel.

Run as ``python -I -S sandbox_launch.py PLAN_JSON -- KERNEL_CMD...`` by
:mod:`dlgrade_grader.sandbox` (standard library only, no site-packages, so
nothing a submission folder holds is imported while we may still be root).

It fills the private working directory with a copy of the submission,
applies the resource limits, gives up root (a fresh uid per kernel, so the
process limit counts this kernel's processes only) and execs the kernel.
Every limit is set as soft = hard, so the kernel cannot raise it again.
"""
import ctypes
import json
import os
import resource
import shutil
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
LIMITS = {
    "address_space": resource.RLIMIT_AS,
    "processes": resource.RLIMIT_NPROC,
    "file_size": resource.RLIMIT_FSIZE,
    "cpu_seconds": resource.RLIMIT_CPU,
    "open_files": resource.RLIMIT_NOFILE,
    "core_size": resource.RLIMIT_CORE,
}
# grader-side files a submission folder may hold; the kernel has no use for them
SKIP_SUFFIXES = (".dlgrade.json",)


def fail(message):
    sys.stderr.write(f"dlgrade sandbox launcher: {message}\n")
    sys.stderr.flush()
    os._exit(126)


def copy_submission(src, dst, exclude=()):
    """Copy without following links: a link to ../../source stays a (dangling) link.

    ``exclude``: paths relative to ``src`` left out (files nbgrader copied through
    a link in the submitted folder, i.e. someone else's content).
    """
    exclude = set(exclude)

    def ignore(folder, names):
        rel = os.path.relpath(folder, src)
        return [n for n in names if n.endswith(SKIP_SUFFIXES)
                or os.path.normpath(os.path.join(rel, n)) in exclude]

    try:
        shutil.copytree(src, dst, symlinks=True, ignore=ignore, dirs_exist_ok=True)
    except (OSError, shutil.Error) as exc:  # e.g. the working tmpfs is full: run with what fits
        sys.stderr.write(f"dlgrade sandbox launcher: incomplete copy of the submission: {exc}\n")


def hand_over(root, uid, gid):
    """The kernel owns (and may write) its copy; read-only files become writable."""
    for base, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = os.path.join(base, name)
            os.lchown(path, uid, gid)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | 0o600)
    os.chown(root, uid, gid)


def drop_root(uid, gid):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for cap in range(64):  # empty the bounding set while we still hold CAP_SETPCAP
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        fail("could not give up root")


def main(argv):
    if len(argv) < 3 or argv[1] != "--":
        fail("usage: sandbox_launch.py PLAN_JSON -- KERNEL_CMD...")
    plan = json.loads(argv[0])
    cmd = argv[2:]
    uid, gid = plan.get("uid"), plan.get("gid")
    workdir = plan.get("workdir")
    if plan.get("copy_from") and workdir:
        copy_submission(plan["copy_from"], workdir, plan.get("exclude", ()))
    if plan.get("seed"):  # caches the kernel environment built for itself (see font_cache.py)
        try:
            shutil.copytree(plan["seed"]["from"], plan["seed"]["to"], dirs_exist_ok=True)
        except (OSError, shutil.Error):  # only a cache: the kernel rebuilds what it misses
            pass
    for path in plan.get("own", []):
        if os.path.exists(path):
            hand_over(path, -1 if uid is None else uid, -1 if gid is None else gid)
    for name, value in plan.get("limits", {}).items():
        if value is not None:
            try:
                resource.setrlimit(LIMITS[name], (int(value), int(value)))
            except (ValueError, OSError) as exc:
                fail(f"cannot set the {name} limit to {value}: {exc}")
    if uid is not None:
        drop_root(uid, gid)
    if workdir:
        os.chdir(workdir)
    try:
        os.execv(cmd[0], cmd)
    except OSError as exc:
        fail(f"cannot start the kernel {cmd[0]}: {exc}")


if __name__ == "__main__":
    main(sys.argv[1:])
