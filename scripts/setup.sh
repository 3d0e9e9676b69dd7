#!/usr/bin/env bash
# Set up everything Nabaa needs, from nothing, and fast the second time:
#   a virtualenv with pinned packages, llama-cpp-python built once with AMX-safe flags
#   (its wheel cached), and the default models assembled and verified.
# Usage: scripts/setup.sh [--dev]   (--dev adds test tools and Chromium)
# Env: NABAA_GPU=cuda builds llama.cpp with CUDA; LLAMA_CMAKE_ARGS replaces the flags.
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[ "${1:-}" = "--dev" ] && DEV=1
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
CACHE=${NABAA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nabaa}
LLAMA_VERSION=0.3.36
# Not -march=native: llama.cpp's AMX path segfaults on these Xeons. AVX-512 is added
# where the CPU has it (prompt processing about 1.4x faster here than AVX2 alone).
CPU_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  CPU_FLAGS="$CPU_FLAGS -DGGML_AVX512=ON"
  grep -qw avx512_vnni /proc/cpuinfo && CPU_FLAGS="$CPU_FLAGS -DGGML_AVX512_VNNI=ON"
  grep -qw avx512_bf16 /proc/cpuinfo && CPU_FLAGS="$CPU_FLAGS -DGGML_AVX512_BF16=ON"
  grep -qw avx512vbmi /proc/cpuinfo && CPU_FLAGS="$CPU_FLAGS -DGGML_AVX512_VBMI=ON"
fi
grep -qw avx_vnni /proc/cpuinfo 2>/dev/null && CPU_FLAGS="$CPU_FLAGS -DGGML_AVX_VNNI=ON"
if [ "${NABAA_GPU:-}" = "cuda" ]; then CPU_FLAGS="$CPU_FLAGS -DGGML_CUDA=on"; fi
LLAMA_CMAKE_ARGS=${LLAMA_CMAKE_ARGS:-$CPU_FLAGS}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if [ ! -x .venv/bin/python ]; then
  say "Creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check)

req=requirements.txt
[ "$DEV" = 1 ] && req=requirements-dev.txt
stamp=".venv/.installed-$(basename "$req").sha256"
want=$(cat requirements*.txt | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "Installing Python packages ($req)"
  "${PIP[@]}" install -q -r "$req"
  echo "$want" > "$stamp"
fi

key=$(echo "$LLAMA_VERSION $LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)
wheels="$CACHE/llama-wheels/$key"
if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  say "Building llama-cpp-python $LLAMA_VERSION ($LLAMA_CMAKE_ARGS); 6-8 minutes, once"
  mkdir -p "$wheels"
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS" "${PIP[@]}" wheel -q --no-deps --no-cache-dir \
    "llama-cpp-python==$LLAMA_VERSION" -w "$wheels"
fi
if [ "$(cat .venv/.llama-build 2>/dev/null)" != "$key" ]; then
  say "Installing llama-cpp-python from $wheels"
  # Its dependencies (diskcache, jinja2, numpy) are pinned in requirements.txt.
  "${PIP[@]}" install -q --force-reinstall --no-deps "$wheels"/llama_cpp_python-*.whl
  echo "$key" > .venv/.llama-build
fi

if [ "$DEV" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  say "Installing Debian's Chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq chromium >/dev/null
fi

say "Checking the models (assembled and verified on first run)"
NABAA_CACHE_DIR="$CACHE" .venv/bin/python -m rag models
