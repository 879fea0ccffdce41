#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: Debian packages, the grader's venv, the student kernel's venv.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
# the formgrader browser test drives Debian's Chromium through Playwright (its own browser
# download is not reachable); only the test command asks for it
if [ "${DLGRADE_SETUP_BROWSER:-0}" = 1 ]; then
    command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    echo "setup: installing Debian packages: ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
pipq=(-q --disable-pip-version-check)

# the grader: nbgrader, torch, autograd, this repository's two packages (editable)
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv (the grader)"
    "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing pinned requirements (first run takes a few minutes)"
    .venv/bin/pip install "${pipq[@]}" -r requirements.txt
    .venv/bin/pip install "${pipq[@]}" --no-deps -e .
    echo "$want" > "$stamp"
fi
# jsonschema imports rfc3987-syntax (an optional "iri" format checker that jupyter-events' extra pulls
# in) whenever it is present, and it compiles a grammar on import: 0.8 s of CPU in every process
# that reads a notebook. Nothing here validates IRIs, so it goes.
if compgen -G ".venv/lib/python3*/site-packages/rfc3987_syntax" >/dev/null; then
    .venv/bin/pip uninstall "${pipq[@]}" -y rfc3987-syntax
fi

# the student kernel: numpy, matplotlib, ipykernel and the released student package, nothing else
# (not even pip: the grader's pip installs into it)
if [ ! -x .venv-kernel/bin/python ]; then
    echo "setup: creating .venv-kernel (the student kernel environment)"
    "$PY" -m venv --without-pip .venv-kernel
fi
kpip=(.venv/bin/pip --python .venv-kernel/bin/python)
stamp=.venv-kernel/.requirements.sha
want=$( (cat requirements-kernel.txt; find release/dlgrade-student -type f ! -path '*/__pycache__/*' | sort \
         | xargs sha256sum) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing the student kernel environment"
    # the grader's caches for its kernels (dlgrade_grader/font_cache.py) belong to the old contents
    rm -rf .venv-kernel/share/dlgrade
    "${kpip[@]}" install "${pipq[@]}" --no-deps -r requirements-kernel.txt
    # test suites of the scientific stack are never imported by a kernel
    find .venv-kernel/lib -type d -name tests -prune -exec rm -rf {} +
    # built from a copy, so the build leaves nothing behind in release/
    scratch=$(mktemp -d)
    cp -r release/dlgrade-student "$scratch/"
    "${kpip[@]}" install "${pipq[@]}" --no-deps --force-reinstall "$scratch/dlgrade-student"
    rm -rf "$scratch"
    echo "$want" > "$stamp"
fi

# the torch kernel, for the assignments that declare it (torch_autograd): a venv layered on
# .venv-kernel (a .pth file adds that venv's site-packages), holding only torch and what torch
# pulls in, so numpy, ipykernel and the student package are .venv-kernel's and exist once. The
# sandbox binds both venvs read-only (nbgrader_config.py reads the .pth file for the second).
if [ ! -x .venv-kernel-torch/bin/python ]; then
    echo "setup: creating .venv-kernel-torch (the kernel environment of the torch assignments)"
    "$PY" -m venv --without-pip .venv-kernel-torch
fi
tsite=$(.venv-kernel-torch/bin/python -c 'import site; print(site.getsitepackages()[0])')
ksite=$(.venv-kernel/bin/python -c 'import site; print(site.getsitepackages()[0])')
stamp=.venv-kernel-torch/.requirements.sha
want=$( (cat requirements-kernel-torch.txt; echo "$ksite") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing torch into .venv-kernel-torch (first run takes a few minutes)"
    rm -rf .venv-kernel-torch/share/dlgrade
    echo "$ksite" > "$tsite/dlgrade_kernel_base.pth"
    .venv/bin/pip --python .venv-kernel-torch/bin/python install "${pipq[@]}" --no-deps -r requirements-kernel-torch.txt
    # sympy's and networkx's test suites are never imported by a kernel; torch's own folders stay whole
    find "$tsite" -path "$tsite/torch" -prune -o -type d -name tests -prune -exec rm -rf {} +
    echo "$want" > "$stamp"
fi
