#!/usr/bin/env bash
# The main job, from nothing: create the project's own .venv, install plansentry with the embedded
# model (llama.cpp is compiled from source by pip the first time, several minutes on 2 cores; pip's
# wheel cache makes later installs quick), then run `plansentry demo`. Arguments go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
# Only the library is needed from llama.cpp: skip its examples, tools, tests and server.
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}"
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[llm]"
exec .venv/bin/plansentry demo "$@"
