#!/usr/bin/env bash
# Fresh machine -> the demo cohort graded: autograded/, feedback/, reports/ (CSV + plot).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
# Graded cases are drawn from the instructor's secret key. A real course makes one once with
# `dlgrade keygen`; the demo makes a throw-away key outside the repository when none is set.
config_dir="${XDG_CONFIG_HOME:-$HOME/.config}/dlgrade"
if [ -z "${DLGRADE_COURSE_KEY:-}${DLGRADE_KEY_FILE:-}" ] && [ ! -f "$config_dir/dlmath.key" ]; then
    export DLGRADE_KEY_FILE="$config_dir/dlmath-demo.key"
    [ -f "$DLGRADE_KEY_FILE" ] || dlgrade keygen "$DLGRADE_KEY_FILE" >/dev/null
    echo "demo: graded cases are drawn from the throw-away key $DLGRADE_KEY_FILE"
fi
dlgrade demo-cohort
# the demo's students are built from the instructor's solution, so the report discounts it and
# flags the one planted pair (demo-copy-gus copied demo-honest-fay) in every assignment
dlgrade similarity --discount-reference
exec dlgrade grade "$@"
