#!/usr/bin/env bash
# The whole test suite, from nothing: the project's own .venv, plansentry with its test extras
# (the embedded model and a llama.cpp server, atheris, matplotlib, Ray, playwright), the drone
# and rware kits (kits/plansentry-drone, kits/plansentry-rware, each installed on its own as a
# third party's kit would be), Debian's chromium, then lint (ruff), type-check (mypy; strict on
# core/ and on both kits) and test (pytest, plansentry's tests and the kits'). Arguments go to
# pytest. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
.venv/bin/python -m pip install --quiet -e ".[test]" -e kits/plansentry-drone -e kits/plansentry-rware
# Debian's chromium, for the test that renders the HTML report headless (playwright drives it; its
# own browser download is neither needed nor possible here), and curl, for the tests that run the
# docs' curl commands (in CI a missing tool fails its tests: tests/helpers.py require_tools).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get install -y -q "${missing[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
    else
        echo "scripts/test.sh: ${missing[*]} missing; install Debian's package(s) of that name" >&2
        exit 1
    fi
fi
.venv/bin/ruff check src tests bench fuzz kits
.venv/bin/ruff format --check src tests bench fuzz kits
.venv/bin/mypy
.venv/bin/mypy --config-file kits/plansentry-drone/pyproject.toml kits/plansentry-drone/src
.venv/bin/mypy --config-file kits/plansentry-rware/pyproject.toml kits/plansentry-rware/src
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "scripts/test.sh: pytest collected no tests; that is a failure, not a pass" >&2
    exit 1
fi
exit "$status"
