"""matplotlib's font list for sandboxed kernels, built once per kernel environment.

matplotlib keeps the fonts it found in ``$MPLCONFIGDIR/fontlist-v<version>.json`` and scans the
system's fonts again when that file is missing. A sandboxed kernel gets an empty ``/tmp``, so each
one scanned them afresh: about 0.15 s of every graded notebook that imports pyplot (a plain
nbgrader kernel reads the user's cache instead). The list is built here once, by the kernel
environment's own Python with nothing of a submission around, kept inside that environment
(which the sandbox binds read-only at the same path), and the launcher copies it into the
kernel's ``/tmp/matplotlib`` before the kernel starts. When a cached font is missing,
matplotlib notices and scans again, so a stale list costs time, never a wrong font.
"""
from __future__ import annotations

import os
import subprocess
import tempfile

KERNEL_CONFIG_DIR = "/tmp/matplotlib"  # MPLCONFIGDIR inside the sandbox (sandbox._kernel_env)
_BUILD = "import matplotlib.font_manager"

_built: dict = {}


def folder_for(prefix: str) -> str:
    return os.path.join(prefix, "share", "dlgrade", "matplotlib")


def font_cache(python: str, prefix: str, home: str) -> str:
    """The folder holding the font list of the environment at ``prefix`` ("" when it cannot be
    had: no matplotlib there, or a folder the grader may not write). ``home`` is the kernel's
    $HOME, so the scan sees the fonts the kernel would see."""
    if prefix in _built:
        return _built[prefix]
    folder = folder_for(prefix)
    if not _has_list(folder):
        _build(python, folder, home)
    _built[prefix] = folder if _has_list(folder) else ""
    return _built[prefix]


def _has_list(folder: str) -> bool:
    try:
        return any(n.startswith("fontlist-") and n.endswith(".json") for n in os.listdir(folder))
    except OSError:
        return False


def _build(python: str, folder: str, home: str) -> None:
    try:
        os.makedirs(os.path.dirname(folder), exist_ok=True)
        scratch = tempfile.mkdtemp(prefix=".building-", dir=os.path.dirname(folder))
    except OSError:
        return
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "MPLCONFIGDIR": scratch, "LANG": "C.UTF-8"}
    try:
        subprocess.run([python, "-I", "-c", _BUILD], env=env, cwd=scratch, timeout=120,
                       capture_output=True, check=True)
        os.chmod(scratch, 0o755)
        os.rename(scratch, folder)  # whole or not at all, also when two workers build at once
    except (OSError, subprocess.SubprocessError):
        pass
    finally:
        if os.path.isdir(scratch):
            for name in os.listdir(scratch):
                os.remove(os.path.join(scratch, name))
            os.rmdir(scratch)
