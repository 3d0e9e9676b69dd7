#!/usr/bin/env bash
# Check a CUDA build of llama-cpp-python on a machine with an NVIDIA GPU, offline: build the wheel
# with setup.sh's NABAA_GPU=cuda flags (scripts/llama_flags.sh), offload every layer of test GGUFs
# and generate, against the same model on the CPU; show which architectures were compiled and how
# libggml-cuda.so finds its libraries (no NCCL). Took 276 s on an H200 with 16 cores.
# Usage: scripts/check_gpu.sh DIR OUT
#   DIR holds llama_cpp_python-0.3.36.tar.gz (an sdist), wheels/ (scikit-build-core, pathspec,
#   packaging, diskcache; a cmake wheel, used only where the machine has no cmake) and *.gguf
#   test models. Where DIR also holds make_test_gguf.py and gguf-py/, a larger model is written
#   first (MODEL_DIMS: n_embd n_layer n_head n_ff, default 2048 8 16 5632, 785 MiB of F16).
#   OUT receives check.log and build.log.gz.
# Env: PYTHON (python3); WHEEL=a built wheel skips the build; NABAA_CUDA_ARCH (see llama_flags.sh).
set -uo pipefail
usage="usage: scripts/check_gpu.sh DIR OUT"
DIR=$(cd "${1:?$usage}" && pwd) && OUT=$(mkdir -p "${2:?$usage}" && cd "$2" && pwd) || exit 2
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
{  # everything below also goes to OUT/check.log
echo "== machine"
nvidia-smi
command -v nvcc && nvcc --version
$PY --version; echo "cores: $(nproc)"; echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"

echo "== flags"
. scripts/llama_flags.sh
NABAA_GPU=cuda llama_flags native
echo "LLAMA_CMAKE_ARGS=$LLAMA_CMAKE_ARGS"
echo "LLAMA_KEY=$LLAMA_KEY   (wheel cache: ~/.cache/nabaa/llama-wheels/$LLAMA_KEY)"

if [ -z "${WHEEL:-}" ]; then
  echo "== build (log: $OUT/build.log.gz)"
  # Build backend from DIR/wheels, with no index and no isolation: nothing is downloaded.
  $PY -m pip install -q --no-index --no-deps --no-compile --target "$T/bk" \
    $(ls "$DIR"/wheels/*.whl | grep -v /cmake-) || exit 1
  if ! $PY -c 'import cmake' 2>/dev/null && ! command -v cmake >/dev/null; then
    $PY -m pip install -q --no-index --no-deps --no-compile --target "$T/bk" "$DIR"/wheels/cmake-*.whl
  fi
  s=$SECONDS
  PYTHONPATH=$T/bk CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    timeout 420 $PY -m pip wheel -v --no-deps --no-index --no-build-isolation --no-cache-dir \
    -w "$T/wheel" "$DIR"/llama_cpp_python-*.tar.gz >"$T/build.log" 2>&1
  rc=$?
  echo "build: exit $rc in $((SECONDS - s)) s"
  grep -E -- '-- (The CUDA compiler|Found CUDAToolkit|CUDA Toolkit found|Using CMAKE_CUDA_ARCH|Including CUDA)' "$T/build.log" | sort -u
  echo "nvcc targets (compile commands per target):"
  grep -oE 'arch=compute_[0-9a-z]+,code=[^ ]+' "$T/build.log" | sort | uniq -c
  gzip -c "$T/build.log" >"$OUT/build.log.gz"
  [ $rc = 0 ] || { tail -40 "$T/build.log"; exit 1; }
  WHEEL=$(ls "$T"/wheel/llama_cpp_python-*.whl)
fi
ls -la "$WHEEL"
$PY -m pip install -q --no-index --no-deps --no-compile --target "$T/site" "$WHEEL" "$DIR"/wheels/diskcache-*.whl || exit 1

echo "== libggml-cuda.so"
lib=$T/site/llama_cpp/lib/libggml-cuda.so
if [ -f "$lib" ]; then
  ldd "$lib"
  command -v readelf >/dev/null && readelf -d "$lib" | grep -E 'NEEDED|RPATH|RUNPATH'
  if ldd "$lib" | grep -qi nccl; then echo "FAIL: linked to NCCL"; else echo "OK: no NCCL"; fi
  echo "cuBLAS without LD_LIBRARY_PATH:"; env -u LD_LIBRARY_PATH ldd "$lib" | grep -E 'cublas|not found'
  echo "cuBLAS in the loader's cache:"; ldconfig -p | grep -E 'libcublas(Lt)?\.so' || echo "  none"
  command -v cuobjdump >/dev/null && {
    echo "machine code (ELF) and PTX embedded:"
    cuobjdump --list-elf "$lib" | grep -oE 'sm_[0-9]+[a-z]?' | sort | uniq -c
    cuobjdump --list-ptx "$lib" | grep -oE 'sm_[0-9]+[a-z]?' | sort | uniq -c
  }
else
  echo "no libggml-cuda.so in the wheel (not a CUDA build)"
fi
echo "CUDA libraries from pip (nvidia-* wheels), for LD_LIBRARY_PATH:"
for d in $($PY -c 'import importlib.util as u; s = u.find_spec("nvidia"); print(*(s.submodule_search_locations if s else []))' 2>/dev/null); do
  find "$d" -name 'libcublas.so*' -o -name 'libcudart.so*' | sort
done

models=("$DIR"/*.gguf)
if [ -f "$DIR/make_test_gguf.py" ] && [ -d "$DIR/gguf-py" ]; then
  echo "== test model ${MODEL_DIMS:-2048 8 16 5632}"
  # shellcheck disable=SC2086
  PYTHONPATH=$DIR/gguf-py timeout 120 $PY "$DIR/make_test_gguf.py" "$T/test-big.gguf" ${MODEL_DIMS:-2048 8 16 5632} &&
    models+=("$T/test-big.gguf")
fi

gen() {  # MODEL NGL: load, warm up, generate 128 tokens (EOS banned), print tokens/s
  PYTHONPATH=$T/site timeout 150 $PY - "$1" "$2" 2>"$T/llama.log" <<'EOF'
import os, sys, time
import llama_cpp
path, ngl = sys.argv[1], int(sys.argv[2])
t = time.time()
llm = llama_cpp.Llama(path, n_gpu_layers=ngl, n_ctx=256, n_threads=int(os.environ.get("THREADS", os.cpu_count())), seed=0, verbose=True)
load = time.time() - t
ban = {llm.token_eos(): -1e9}
llm.create_completion("Hello", max_tokens=8, temperature=0.0, logit_bias=ban)  # warm-up
llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
t = time.time()
out = llm.create_completion("Hello world, the question is", max_tokens=128, temperature=0.0, logit_bias=ban)
wall = time.time() - t
p = llama_cpp.llama_perf_context(llm._ctx.ctx)
n = out["usage"]["completion_tokens"]
print(f"  n_gpu_layers={ngl}: load {load:.1f} s; {n} tokens in {wall:.2f} s = {n / wall:.1f} tokens/s end to end; "
      f"llama.cpp decode {p.n_eval} tokens at {1000 * p.n_eval / p.t_eval_ms:.1f} tokens/s")
EOF
  local rc=$?
  grep -E 'offloaded [0-9]+/[0-9]+ layers|model buffer size|ggml_cuda_init|Device 0:' "$T/llama.log" | sed 's/^/  /'
  if [ $rc != 0 ]; then tail -20 "$T/llama.log"; fi
  # "offloaded N/N" echoes the request; the per-layer lines say where each layer went.
  local all on_gpu
  all=$(grep -c 'load_tensors: layer .* assigned to device' "$T/llama.log")
  on_gpu=$(grep -c 'load_tensors: layer .* assigned to device CUDA' "$T/llama.log")
  echo "  layers on the GPU: $on_gpu of $all (the output layer counted)"
  if [ "$2" != 0 ]; then
    [ "$all" -gt 0 ] && [ "$on_gpu" = "$all" ] && echo "  OK: every layer offloaded" || echo "  FAIL: not every layer offloaded"
  fi
}
for m in "${models[@]}"; do
  echo "== $(basename "$m") ($(du -m "$m" | cut -f1) MB): GPU (n_gpu_layers=-1), then CPU (0, ${THREADS:-$(nproc)} threads)"
  gen "$m" -1
  gen "$m" 0
done
} 2>&1 | tee "$OUT/check.log"
