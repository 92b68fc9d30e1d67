# Sourced by demo.sh and test.sh (from the project root): create the project's own .venv if it is
# missing, and say how llama.cpp is built when pip compiles it from source (only the library is
# needed: no examples, tools, tests or server). pip's wheel cache makes later installs quick.
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}"
.venv/bin/python -m pip install --quiet --upgrade pip
