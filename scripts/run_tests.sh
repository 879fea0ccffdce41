#!/usr/bin/env bash
# Fresh machine -> the grader's own test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
DLGRADE_SETUP_BROWSER=1 bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
exec .venv/bin/python -m pytest -q -p no:cacheprovider grader_tests "$@"
