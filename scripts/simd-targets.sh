#!/usr/bin/env bash
# The same bits on every CPU: the C++ core tests built once per SIMD target with the dispatch off
# and the whole core compiled for that target (-march), each compared, kernel case by kernel case,
# with the digests of the normal build, whose dispatch picks the best target of this CPU
# (cpp/test/test_simd_targets.cpp). A target this CPU cannot run is skipped, and said so. The tests
# are built without floating-point contraction, like the core (CMakeLists.txt): with FMA allowed,
# the test files' own arithmetic (the fixed inputs, the inlined generator) would change instead.
#
#   scripts/simd-targets.sh        build dirs build-tests/ and build-simd-<target>/
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${DEEPR_SIMD_JOBS:-2}
if [[ $(uname -m) != x86_64 ]]; then
  echo "simd-targets: not an x86-64 machine: the core has no SIMD dispatch here (cpp/simd.hpp), nothing to compare"
  exit 0
fi

cmake -S . -B build-tests -DDEEPR_CORE_TESTS=ON -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build-tests --target deepr_core_tests -j "$JOBS" > /dev/null
DIGESTS=$PWD/build-tests/kernel-digests.txt
rm -f "$DIGESTS"
DEEPR_KERNEL_DIGESTS=$DIGESTS ./build-tests/deepr_core_tests > build-tests/digests.log || { cat build-tests/digests.log; exit 1; }
echo "simd-targets: $(wc -l < "$DIGESTS") kernel cases from the dispatched build"

# The CPU features each target needs (as /proc/cpuinfo names them).
declare -A NEEDS=(
  [x86-64]="sse2"
  [x86-64-v3]="avx avx2 bmi1 bmi2 f16c fma movbe"
  [x86-64-v4]="avx512f avx512bw avx512cd avx512dq avx512vl"
)
FLAGS=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
compared=0
for target in x86-64 x86-64-v3 x86-64-v4; do
  missing=""
  for f in ${NEEDS[$target]}; do [[ $FLAGS == *" $f "* ]] || missing+=" $f"; done
  if [[ -n $missing ]]; then
    echo "simd-targets: SKIPPED $target (this CPU lacks$missing)"
    continue
  fi
  dir=build-simd-$target
  cmake -S . -B "$dir" -DDEEPR_CORE_TESTS=ON -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_CXX_FLAGS=-march=$target -DDEEPR_NO_DISPATCH -ffp-contract=off" > /dev/null
  cmake --build "$dir" --target deepr_core_tests -j "$JOBS" > /dev/null
  if DEEPR_KERNEL_DIGESTS_EXPECTED=$DIGESTS "./$dir/deepr_core_tests" > "$dir/tests.log" 2>&1; then
    echo "simd-targets: $target gives the same bits (and passes every core test)"
    compared=$((compared + 1))
  else
    grep -v '^ok ' "$dir/tests.log"
    echo "simd-targets: $target FAILED" >&2
    exit 1
  fi
done
[[ $compared -gt 0 ]] || { echo "simd-targets: no target could be compared" >&2; exit 1; }
