#!/usr/bin/env bash
# Set up everything Nabaa needs, from nothing, and fast the second time:
#   a virtualenv with pinned packages, llama-cpp-python built once with AMX-safe flags
#   (its wheel cached), and the default models assembled and verified.
# Usage: scripts/setup.sh [--dev] [--isa avx2] [--server]
#   --dev adds test tools and Chromium. --isa avx2 also builds llama.cpp as an AVX2-only laptop
#   would, into .venv/isa-avx2, for NABAA_CPU_ISA=avx2 (the AVX2-only profile). --server
#   also builds llama.cpp's llama-server (same source and flags) into .venv/bin, for
#   `make serve-llm` and NABAA_LLM_URL.
# Env: NABAA_GPU=cuda builds llama.cpp with CUDA (NABAA_CUDA_ARCH, default this GPU's);
#   LLAMA_CMAKE_ARGS replaces the flags.
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
SERVER=0
LLAMA_ISA=native
while [ $# -gt 0 ]; do
  case "$1" in
    --dev) DEV=1 ;;
    --isa) LLAMA_ISA=${2:?--isa takes avx2}; shift ;;
    --server) SERVER=1 ;;
    *) echo "usage: scripts/setup.sh [--dev] [--isa avx2] [--server]" >&2; exit 2 ;;
  esac
  shift
done
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
CACHE=${NABAA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nabaa}
. scripts/llama_flags.sh
case "$LLAMA_ISA" in native | avx2) ;; *) echo "--isa takes avx2" >&2; exit 2 ;; esac

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

install_llama() {  # ISA TARGET: the wheel for that ISA, built once into the cache, installed
  llama_flags "$1"
  local target=$2 wheels="$CACHE/llama-wheels/$LLAMA_KEY"
  if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    say "Building llama-cpp-python $LLAMA_VERSION ($LLAMA_CMAKE_ARGS); 6-8 minutes, once"
    mkdir -p "$wheels"
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" "${PIP[@]}" wheel -q --no-deps --no-cache-dir \
      "llama-cpp-python==$LLAMA_VERSION" -w "$wheels"
  fi
  [ "$(cat "$target/.llama-build" 2>/dev/null)" = "$LLAMA_KEY" ] && return
  say "Installing llama-cpp-python from $wheels"
  # Its dependencies (diskcache, jinja2, numpy) are pinned in requirements.txt.
  if [ "$target" = .venv ]; then
    "${PIP[@]}" install -q --force-reinstall --no-deps "$wheels"/llama_cpp_python-*.whl
  else
    rm -rf "$target" && mkdir -p "$target"
    "${PIP[@]}" install -q --no-deps --target "$target" "$wheels"/llama_cpp_python-*.whl
  fi
  echo "$LLAMA_KEY" > "$target/.llama-build"
}
install_llama native .venv
# The profile's build lives beside the venv's own, which stays this machine's.
[ "$LLAMA_ISA" = native ] || install_llama "$LLAMA_ISA" ".venv/isa-$LLAMA_ISA"

install_llama_server() {  # llama.cpp's server from the wheel's own source and flags, built once
  llama_flags native
  local dir="$CACHE/llama-server/$LLAMA_KEY" work
  if [ ! -x "$dir/llama-server" ]; then
    say "Building llama.cpp's llama-server ($LLAMA_CMAKE_ARGS); about 6 minutes on 2 cores, once"
    work=$(mktemp -d)
    "${PIP[@]}" download -q --no-deps --no-binary :all: "llama-cpp-python==$LLAMA_VERSION" -d "$work"
    tar xzf "$work"/llama_cpp_python-*.tar.gz -C "$work"
    # Static, without the web UI (its assets come from the network), curl or OpenSSL.
    # shellcheck disable=SC2086
    if ! { cmake -S "$work"/llama_cpp_python-*/vendor/llama.cpp -B "$work/build" \
        $LLAMA_CMAKE_ARGS -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
        -DLLAMA_BUILD_APP=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_UI=OFF \
        -DLLAMA_USE_PREBUILT_UI=OFF \
        && cmake --build "$work/build" --target llama-server -j"$(nproc)"; } >"$work/build.log" 2>&1
    then
      tail -30 "$work/build.log" >&2
      echo "llama-server did not build; the whole log is $work/build.log" >&2
      exit 1
    fi
    mkdir -p "$dir"
    cp "$work/build/bin/llama-server" "$dir/.llama-server.partial"
    mv "$dir/.llama-server.partial" "$dir/llama-server"
    rm -rf "$work"
  fi
  ln -sf "$dir/llama-server" .venv/bin/llama-server
}
if [ "$SERVER" = 1 ]; then install_llama_server; fi

if [ "$DEV" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  say "Installing Debian's Chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq chromium >/dev/null
fi

say "Checking the models (assembled and verified on first run)"
NABAA_CACHE_DIR="$CACHE" .venv/bin/python -m rag models
