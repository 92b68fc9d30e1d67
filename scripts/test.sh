#!/usr/bin/env bash
# The whole test suite, from nothing: the project's own .venv, plansentry with its test extras
# (the embedded model and a llama.cpp server included), then lint (ruff), type-check (mypy; strict
# on core/) and test (pytest). Arguments go to pytest. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
.venv/bin/python -m pip install --quiet -e ".[test]"
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "scripts/test.sh: pytest collected no tests; that is a failure, not a pass" >&2
    exit 1
fi
exit "$status"
