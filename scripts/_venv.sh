# Sourced by demo.sh and test.sh (from the project root): create the project's own .venv if it is
# missing, and say how llama.cpp is built when pip compiles it from source (only the library is
# needed: no examples, tools, tests or server). pip's wheel cache makes later installs quick.
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
# Not -march=native: on this kind of machine the CPU advertises AMX, a native build emits AMX tile
# instructions, and the kernel kills the process on the first one (SIGILL, seen here). AVX2 + FMA +
# F16C (x86-64-v3) is what every machine of this kind runs.
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}"
.venv/bin/python -m pip install --quiet --upgrade pip
