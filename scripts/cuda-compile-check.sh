#!/usr/bin/env bash
# The random streams' scalar definitions compiled for the GPU: cuda/philox_check.cu built with nvcc
# for sm_75 and sm_90 (CI has nvcc but no GPU, so it only compiles; on a GPU machine run the binary,
# build-cuda/philox_check, to compare the GPU's draws with the CPU's bit for bit). It fails when
# ptxas reports a stack frame or spills, or the PTX has local memory, a call or a fused multiply-add
# in float (which would change the normals' bits). Without nvcc it says so and passes.
# The device interface's header: it compiles as C99 (with any C compiler) and, under nvcc,
# cuda/device_abi_check.cu (kernels taking its C views) builds for the same targets; on a GPU
# machine build-cuda/device_abi_check compares their outputs with the host's.
# The CUDA device library: libdeepr_cuda.so and its test program built through CMake
# (DEEPR_CUDA=ON, for sm_75 and sm_90 only: the release list is longer), nvcc's warnings as errors;
# the library must export deepr_device_table alone and need only libc, libm and the dynamic loader,
# and its kernels (PTX for sm_90) must have no local memory, call or float FMA. The kernels also
# run on the host, compiled as C++ (cuda/test_kernels_on_host.cpp), against the CPU device.
#
#   scripts/cuda-compile-check.sh        build dir build-cuda/; DEEPR_CUDA_JOBS=n builds with n jobs (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
"${CC:-cc}" -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -x c cpp/device/device_abi.h
echo "cuda-compile-check: cpp/device/device_abi.h compiles as C99"
NVCC=${NVCC:-$(command -v nvcc || true)}
if [[ -z $NVCC && -x /usr/local/cuda/bin/nvcc ]]; then NVCC=/usr/local/cuda/bin/nvcc; fi
if [[ -z $NVCC ]]; then
  echo "cuda-compile-check: skipped: nvcc not found"
  exit 0
fi

mkdir -p build-cuda
FLAGS=(-std=c++17 -O3 -Icpp -Xcompiler -ffp-contract=off)
"$NVCC" "${FLAGS[@]}" -gencode arch=compute_75,code=sm_75 -gencode arch=compute_90,code='[sm_90,compute_90]' \
  -Xptxas -v cuda/philox_check.cu -o build-cuda/philox_check > build-cuda/ptxas.log 2>&1 ||
  { cat build-cuda/ptxas.log; exit 1; }
"$NVCC" "${FLAGS[@]}" -gencode arch=compute_75,code=sm_75 -gencode arch=compute_90,code='[sm_90,compute_90]' \
  cuda/device_abi_check.cu -o build-cuda/device_abi_check
"$NVCC" "${FLAGS[@]}" -arch=sm_90 -ptx cuda/philox_check.cu -o build-cuda/philox_check.ptx

if grep -E "(^|[^0-9])[1-9][0-9]* bytes (stack frame|spill)" build-cuda/ptxas.log; then
  echo "cuda-compile-check: the kernel uses a stack frame or spills registers (build-cuda/ptxas.log)"
  exit 1
fi
if grep -nE "\.local|call|fma\.[a-z.]*f32|mad\.[a-z.]*f32" build-cuda/philox_check.ptx; then
  echo "cuda-compile-check: local memory, a call or a float FMA in build-cuda/philox_check.ptx"
  exit 1
fi
RELEASE=$("$NVCC" --version | grep -o 'release [0-9.]*')
echo "cuda-compile-check: device_abi_check builds for sm_75 and sm_90"
echo "cuda-compile-check: philox_check builds for sm_75 and sm_90 ($RELEASE): no stack, spills, local memory, calls or float FMA"

# The device library and its test program (the test links the core, for the CPU device).
cmake -S . -B build-cuda/lib -DDEEPR_CUDA=ON -DCMAKE_CUDA_COMPILER="$NVCC" -DDEEPR_CUDA_ARCHITECTURES="75-real;90-real" \
  -DCMAKE_BUILD_TYPE=Release > build-cuda/lib-configure.log 2>&1 || { cat build-cuda/lib-configure.log; exit 1; }
cmake --build build-cuda/lib -j "${DEEPR_CUDA_JOBS:-2}" --target deepr_cuda test_cuda_device test_kernels_on_host > build-cuda/lib-build.log 2>&1 ||
  { cat build-cuda/lib-build.log; exit 1; }
if grep -n "warning" build-cuda/lib-build.log; then echo "cuda-compile-check: warnings (build-cuda/lib-build.log)"; exit 1; fi
# The kernels' code run on the host against the CPU device (cuda/test_kernels_on_host.cpp).
build-cuda/lib/test_kernels_on_host
LIB=build-cuda/lib/libdeepr_cuda.so
EXPORTS=$(nm -D --defined-only "$LIB" | awk '{print $3}')
if [[ $EXPORTS != deepr_device_table ]]; then
  echo "cuda-compile-check: $LIB must export deepr_device_table only; it exports:"; echo "$EXPORTS"; exit 1
fi
NEEDED=$(readelf -d "$LIB" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
for lib in $NEEDED; do
  case $lib in
    libc.so.*|libm.so.*|ld-linux*) ;;
    *) echo "cuda-compile-check: $LIB needs $lib (only libc, libm and the loader are allowed)"; exit 1 ;;
  esac
done
"$NVCC" -std=c++17 -O3 -Icpp -Icuda -fmad=false -arch=sm_90 -ptx cuda/cuda_device.cu -o build-cuda/cuda_device.ptx
if grep -nE "\.local|^\s*call|fma\.[a-z.]*f32|mad\.[a-z.]*f32" build-cuda/cuda_device.ptx; then
  echo "cuda-compile-check: local memory, a call or a float FMA in build-cuda/cuda_device.ptx"
  exit 1
fi
echo "cuda-compile-check: $LIB builds for sm_75 and sm_90 without warnings; exports deepr_device_table only; needs $NEEDED"
echo "cuda-compile-check: build-cuda/lib/test_cuda_device builds (run it on a GPU machine: build-cuda/lib/test_cuda_device $LIB)"
echo "cuda-compile-check: done in $((SECONDS - started)) s"
