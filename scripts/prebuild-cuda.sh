#!/usr/bin/env bash
# The CUDA package, @deepr/cuda-linux-x64 (packages/cuda-linux-x64/): libdeepr_cuda.so built for every
# architecture a release ships (CMakeLists.txt, DEEPR_CUDA_ARCHITECTURES), checked (it exports only
# deepr_device_table, needs only libc, libm and the loader, and no glibc newer than the package
# states), and packed with npm. Needs nvcc (CUDA 13) and CMake; no GPU.
#
#   npm run prebuild:cuda        build dir build-cuda-release/; the tarball goes there too
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGE=packages/cuda-linux-x64
BUILD=build-cuda-release
GLIBC_FLOOR=2.35

version=$(node -p 'require("./package.json").version')
package_version=$(node -p "require('./$PACKAGE/package.json').version")
if [[ $version != "$package_version" ]]; then
  echo "prebuild-cuda: $PACKAGE/package.json is version $package_version, deepr is $version: make them the same" >&2
  exit 1
fi

mkdir -p "$BUILD"
cmake -S . -B "$BUILD" -DDEEPR_CUDA=ON -DCMAKE_BUILD_TYPE=Release > "$BUILD/configure.log" 2>&1 ||
  { cat "$BUILD/configure.log"; exit 1; }
cmake --build "$BUILD" --target deepr_cuda -j "${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
cp "$BUILD/libdeepr_cuda.so" "$PACKAGE/libdeepr_cuda.so"

library="$PACKAGE/libdeepr_cuda.so"
exports=$(nm -D --defined-only "$library" | awk '$2 ~ /^[TDBRW]$/ {print $3}')
if [[ $exports != deepr_device_table ]]; then
  echo "prebuild-cuda: $library exports more than deepr_device_table: $exports" >&2
  exit 1
fi
needed=$(readelf -d "$library" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
if [[ $needed != "ld-linux-x86-64.so.2 libc.so.6 libm.so.6 " && $needed != "libc.so.6 libm.so.6 " ]]; then
  echo "prebuild-cuda: $library needs $needed (only libc, libm and the loader are allowed)" >&2
  exit 1
fi
newest=$(objdump -T "$library" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
if [[ $(printf '%s\n%s\n' "$newest" "$GLIBC_FLOOR" | sort -V | tail -1) != "$GLIBC_FLOOR" ]]; then
  echo "prebuild-cuda: $library needs glibc $newest, newer than the $GLIBC_FLOOR its package states" >&2
  exit 1
fi

tarball=$(cd "$PACKAGE" && npm pack --silent --pack-destination "$OLDPWD/$BUILD")
echo "prebuild-cuda: $BUILD/$tarball: $(du -k "$BUILD/$tarball" | cut -f1) KiB packed, libdeepr_cuda.so $(du -k "$library" | cut -f1) KiB; needs $needed; glibc >= $newest"
