# The CMake flags llama-cpp-python is built with, and the wheel-cache key they make.
# Sourced by setup.sh and check_gpu.sh: `llama_flags native|avx2` sets LLAMA_CMAKE_ARGS and
# LLAMA_KEY. Env: NABAA_GPU, NABAA_CUDA_ARCH; LLAMA_CMAKE_ARGS, if set, replaces native's flags.
LLAMA_VERSION=0.3.36
_llama_args_given=${LLAMA_CMAKE_ARGS:-}

llama_flags() {
  # Not -march=native: llama.cpp's AMX path segfaults on these Xeons. The avx2 set is what an
  # AVX2-only laptop builds; AVX-512 is added where the CPU has it (prompt processing about
  # 1.4x faster than AVX2 alone).
  local isa=$1 flags="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
  if [ "$isa" = native ]; then
    if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
      flags="$flags -DGGML_AVX512=ON"
      grep -qw avx512_vnni /proc/cpuinfo && flags="$flags -DGGML_AVX512_VNNI=ON"
      grep -qw avx512_bf16 /proc/cpuinfo && flags="$flags -DGGML_AVX512_BF16=ON"
      grep -qw avx512vbmi /proc/cpuinfo && flags="$flags -DGGML_AVX512_VBMI=ON"
    fi
    grep -qw avx_vnni /proc/cpuinfo 2>/dev/null && flags="$flags -DGGML_AVX_VNNI=ON"
  fi
  if [ "${NABAA_GPU:-}" = "cuda" ]; then
    # One CUDA architecture, this machine's GPU unless NABAA_CUDA_ARCH names one (e.g. 90):
    # left unset, every architecture is compiled (several times longer) and Hopper gets PTX
    # only. NCCL off: a wheel linked to the build machine's NCCL fails where it is absent.
    local arch=${NABAA_CUDA_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')}
    flags="$flags -DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=${arch:-native} -DGGML_CUDA_NCCL=OFF"
  fi
  if [ "$isa" = native ] && [ -n "$_llama_args_given" ]; then flags=$_llama_args_given; fi
  LLAMA_CMAKE_ARGS=$flags
  LLAMA_KEY=$(echo "$LLAMA_VERSION $LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)
}
