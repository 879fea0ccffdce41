#!/usr/bin/env bash
# Fresh machine -> the grader's own test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
DLGRADE_SETUP_BROWSER=1 bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
# two processes, one test file each at a time (its module fixtures stay in one process): the
# catalogue batch (test_catalogues.py) in one, the other files beside it
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "${DLGRADE_TEST_PROCESSES:-2}" --dist loadfile grader_tests "$@"
