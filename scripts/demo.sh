#!/usr/bin/env bash
# The main job, from nothing: the project's own .venv, plansentry with the embedded model
# (llama.cpp is compiled from source the first time, several minutes on 2 cores), then
# `plansentry demo`. Arguments go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
.venv/bin/python -m pip install --quiet -e ".[llm]"
exec .venv/bin/plansentry demo "$@"
