#!/usr/bin/env bash
# Fresh machine -> the demo cohort graded: autograded/, feedback/, reports/ (CSV + plot).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
dlgrade demo-cohort
exec dlgrade grade "$@"
