#!/usr/bin/env bash
# Everything deepr checks on a machine with an NVIDIA GPU, in one command, ending with a summary.
# It needs nvcc, CMake and a driver, not Node (GPU machines may have no Node). cuda/philox_check.cu
# makes 2^20 draws of the random streams' scalar definition (cpp/philox.hpp,
# cpp/philox_distributions.hpp), which the CUDA device draws its noise and signs from, on the GPU and
# on the CPU and compares them bit for bit; cuda/device_abi_check.cu runs kernels on the device
# interface's C views (cpp/device/device_abi.h); cuda/test_cuda_device.cpp checks the CUDA device
# library, libdeepr_cuda.so (built here for this GPU), call by call against the CPU device. Then,
# through Node, scripts/gpu-node-check.mjs: the default MNIST network trained on the GPU and on the
# CPU, the error paths and a speed table, with dense PyTorch on the GPU beside it where python3 has
# PyTorch with CUDA. Node, dist/, the addon and MNIST come from .carry/, which scripts/gpu-carry.sh
# packs on a machine with Node before the session.
#
#   scripts/gpu-check.sh        build dir build-cuda/
set -uo pipefail
cd "$(dirname "$0")/.."
NVCC=${NVCC:-$(command -v nvcc || true)}
if [[ -z $NVCC && -x /usr/local/cuda/bin/nvcc ]]; then NVCC=/usr/local/cuda/bin/nvcc; fi
if [[ -z $NVCC ]]; then echo "gpu-check: nvcc not found (install the CUDA toolkit, or set NVCC)" >&2; exit 1; fi
if ! command -v nvidia-smi > /dev/null; then echo "gpu-check: no NVIDIA driver here (nvidia-smi not found)" >&2; exit 1; fi

declare -a rows node_rows
status=0
record() {  # name, exit status, detail
  rows+=("$(printf '%-34s %-6s %s' "$1" "$([[ $2 -eq 0 ]] && echo pass || echo FAIL)" "$3")")
  [[ $2 -eq 0 ]] || status=1
}
skipped() {  # name, why it did not run
  rows+=("$(printf '%-34s %-6s %s' "$1" skip "$2")")
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

# Through Node: the carried node (or one on the PATH) runs the working tree's gpu-node-check.mjs
# beside the carried dist/, which it imports, with the addon and the library just built.
LIB=$PWD/build-cuda/native/libdeepr_cuda.so
if [[ ! -f .carry/node-check.tar.xz ]]; then
  skipped "Node: MNIST, errors, speed" "no .carry/node-check.tar.xz (run scripts/gpu-carry.sh before the session)"
elif [[ ! -f $LIB ]]; then
  record "Node: MNIST, errors, speed" 1 "no $LIB (its build failed above)"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  tar -C "$work" -xJf .carry/node-check.tar.xz
  NODE=$(command -v node || true)
  if [[ -f .carry/node.xz ]]; then xz -dc .carry/node.xz > "$work/node" && chmod +x "$work/node" && NODE=$work/node; fi
  mkdir -p "$work/scripts"
  cp scripts/gpu-node-check.mjs "$work/scripts/"
  declare -a dense=()
  if [[ -z $NODE ]]; then
    record "Node: MNIST, errors, speed" 1 "no node: .carry/node.xz is missing and none is on the PATH"
  else
    if python3 -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" 2> /dev/null; then
      spec="{\"cases\": $("$NODE" "$work/scripts/gpu-node-check.mjs" --speed-cases)}"
      python3 bench/dense_torch_cuda.py "$spec" > "$work/dense.json" 2> "$work/dense.log"; code=$?
      record "dense PyTorch on the GPU" $code "$( ( [[ $code -eq 0 ]] && grep -o '"torch": "[^"]*"' "$work/dense.json" || tail -1 "$work/dense.log") | cut -c1-80)"
      [[ $code -eq 0 ]] && dense=(--dense "$work/dense.json")
    else
      skipped "dense PyTorch on the GPU" "python3 has no PyTorch that sees a CUDA device"
    fi
    out=$(DEEPR_BINARY="$work/deepr.node" DEEPR_CUDA_LIB="$LIB" "$NODE" "$work/scripts/gpu-node-check.mjs" \
      --mnist "$work/mnist" --summary "$work/summary.txt" ${dense[@]+"${dense[@]}"} 2>&1); code=$?
    echo "$out"
    record "Node: MNIST, errors, speed" $code "$(tail -1 <<< "$out" | cut -c1-80)"
    [[ -f $work/summary.txt ]] && mapfile -t node_rows < "$work/summary.txt"
  fi
fi

echo
echo "gpu-check summary ($GPU, $SECONDS s)"
printf '%s\n' "${rows[@]}"
if [[ ${#node_rows[@]} -gt 0 ]]; then
  echo
  echo "scripts/gpu-node-check.mjs:"
  printf '%s\n' "${node_rows[@]}"
fi
exit $status
