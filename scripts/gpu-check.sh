#!/usr/bin/env bash
# Everything deepr checks on a machine with an NVIDIA GPU, in one command, ending with a summary.
# It needs nvcc, CMake and a driver, not Node (GPU machines may have no Node). cuda/philox_check.cu
# makes 2^20 draws of the random streams' scalar definition (cpp/philox.hpp,
# cpp/philox_distributions.hpp), which the CUDA device draws its noise and signs from, on the GPU and
# on the CPU and compares them bit for bit; cuda/device_abi_check.cu runs kernels on the device
# interface's C views (cpp/device/device_abi.h); cuda/test_cuda_device.cpp checks the CUDA device
# library, libdeepr_cuda.so (built here for this GPU), call by call against the CPU device.
#
#   scripts/gpu-check.sh        build dir build-cuda/
set -uo pipefail
cd "$(dirname "$0")/.."
NVCC=${NVCC:-$(command -v nvcc || true)}
if [[ -z $NVCC && -x /usr/local/cuda/bin/nvcc ]]; then NVCC=/usr/local/cuda/bin/nvcc; fi
if [[ -z $NVCC ]]; then echo "gpu-check: nvcc not found (install the CUDA toolkit, or set NVCC)" >&2; exit 1; fi
if ! command -v nvidia-smi > /dev/null; then echo "gpu-check: no NVIDIA driver here (nvidia-smi not found)" >&2; exit 1; fi

declare -a rows
status=0
record() {  # name, exit status, detail
  rows+=("$(printf '%-34s %-6s %s' "$1" "$([[ $2 -eq 0 ]] && echo pass || echo FAIL)" "$3")")
  [[ $2 -eq 0 ]] || status=1
}

GPU=$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader | head -1)
echo "gpu-check: $GPU; $("$NVCC" --version | grep -o 'release [0-9.]*')"

# The static checks (no stack, spills, local memory or float FMA in the kernel), as CI runs them.
out=$(NVCC=$NVCC DEEPR_CUDA_JOBS=$(nproc) scripts/cuda-compile-check.sh 2>&1); code=$?
echo "$out"
record "kernel compiles clean (sm_75, sm_90)" $code "$(tail -1 <<< "$out" | cut -c1-80)"

# The same source built for this GPU, then run: the GPU's draws against the CPU's.
mkdir -p build-cuda
if "$NVCC" -std=c++17 -O3 -Icpp -Xcompiler -ffp-contract=off -arch=native cuda/philox_check.cu \
  -o build-cuda/philox_check_native > build-cuda/native.log 2>&1; then
  out=$(build-cuda/philox_check_native 2>&1); code=$?
else
  out=$(cat build-cuda/native.log); code=1
fi
echo "$out"
record "random streams: GPU = CPU bit for bit" $code "$(tail -1 <<< "$out" | cut -c1-80)"

# Kernels on the device interface's C views (cuda/device_abi_check.cu, built by the compile check).
out=$(build-cuda/device_abi_check 2>&1); code=$?
echo "$out"
record "device ABI views in a kernel" $code "$(tail -1 <<< "$out" | cut -c1-80)"

# The CUDA device library built for this GPU, and its test program: every table call against the
# CPU device's, the MLP trained through both, the error paths (one line per check above the summary).
if cmake -S . -B build-cuda/native -DDEEPR_CUDA=ON -DCMAKE_CUDA_COMPILER="$NVCC" -DDEEPR_CUDA_ARCHITECTURES=native \
  -DCMAKE_BUILD_TYPE=Release > build-cuda/native-lib.log 2>&1 &&
  cmake --build build-cuda/native -j "$(nproc)" --target deepr_cuda test_cuda_device >> build-cuda/native-lib.log 2>&1; then
  out=$(build-cuda/native/test_cuda_device build-cuda/native/libdeepr_cuda.so 2>&1); code=$?
else
  out=$(tail -30 build-cuda/native-lib.log); code=1
fi
echo "$out"
record "CUDA device = CPU device" $code "$( (grep '^FAIL ' <<< "$out" || tail -1 <<< "$out") | head -1 | cut -c1-80)"

echo
echo "gpu-check summary ($GPU)"
printf '%s\n' "${rows[@]}"
exit $status
