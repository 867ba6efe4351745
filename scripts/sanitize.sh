#!/usr/bin/env bash
# The sanitizers, three parts (see RELIABILITY.md):
#   1. the C++ core tests, built in build-asan/ (Debug, -fsanitize=address,undefined);
#   2. the Node addon built the same way in build-asan-addon/, driven by the seeded API fuzzer
#      (test/children/api-fuzz.mjs --part native) with the sanitizer runtimes preloaded into node;
#   3. the C++ core tests under ThreadSanitizer, built in build-tsan/: the thread pool and the
#      layer sweeps split between threads (the tests run the pool at 1, 2 and 4 threads).
# Every finding aborts its run (-fno-sanitize-recover=all, halt_on_error=1): exit status 0 means
# zero findings. Needs g++ or clang++ with the sanitizer runtimes, CMake, and `npm install` done.
#
#   scripts/sanitize.sh                  all three parts
#   scripts/sanitize.sh core             the core tests under ASan + UBSan only
#   scripts/sanitize.sh tsan             the core tests under TSan only
#   DEEPR_SANITIZE_CALLS=10000 scripts/sanitize.sh addon
set -euo pipefail
cd "$(dirname "$0")/.."

PART=${1:-all}
JOBS=${DEEPR_SANITIZE_JOBS:-2}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# allocator_may_return_null (ASan and TSan): an impossible allocation fails as it does without them (the device
# interface's test expects DEEPR_OUT_OF_MEMORY for one) instead of aborting the run.
export ASAN_OPTIONS="halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

if [[ $PART == all || $PART == core ]]; then
  # _GLIBCXX_ASSERTIONS adds bounds checks to std::vector::operator[] and friends, which ASan alone
  # misses when an index is past size() but within capacity().
  cmake -S . -B build-asan -DDEEPR_CORE_TESTS=ON -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS="$SAN -g -D_GLIBCXX_ASSERTIONS" -DCMAKE_EXE_LINKER_FLAGS="$SAN" > /dev/null
  cmake --build build-asan --target deepr_core_tests -j "$JOBS"
  echo "sanitize: core tests under ASan + UBSan"
  ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=1" ./build-asan/deepr_core_tests
fi

if [[ $PART == all || $PART == addon ]]; then
  # cmake-js sets CMAKE_CXX_FLAGS itself, so the sanitizer flags go in the Release flags.
  mkdir -p build-asan-addon
  npx cmake-js build --out build-asan-addon --CDCMAKE_BUILD_TYPE=Release \
    "--CDCMAKE_CXX_FLAGS_RELEASE=-O1 -g $SAN -D_GLIBCXX_ASSERTIONS" "--CDCMAKE_MODULE_LINKER_FLAGS=$SAN" > build-asan-addon/build.log 2>&1 \
    || { cat build-asan-addon/build.log; exit 1; }
  [[ -f dist/native.js ]] || npm run build > /dev/null
  CXX_FOR_RUNTIME=$(grep -m1 '^CMAKE_CXX_COMPILER:' build-asan-addon/CMakeCache.txt | cut -d= -f2)
  ASAN_RT=$("$CXX_FOR_RUNTIME" -print-file-name=libasan.so)
  UBSAN_RT=$("$CXX_FOR_RUNTIME" -print-file-name=libubsan.so)
  [[ -f $ASAN_RT && -f $UBSAN_RT ]] || { echo "sanitize: cannot find libasan.so / libubsan.so for $CXX_FOR_RUNTIME" >&2; exit 1; }
  CALLS=${DEEPR_SANITIZE_CALLS:-3000}
  echo "sanitize: addon under ASan + UBSan, API fuzzer with $CALLS calls per native function"
  # Node itself does not free everything at exit, so leak detection stays off for it.
  LD_PRELOAD="$ASAN_RT:$UBSAN_RT" ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
    node --expose-gc test/children/api-fuzz.mjs --part native --seed "${DEEPR_FUZZ_SEED:-20240601}" --calls "$CALLS" \
    --addon "$PWD/build-asan-addon/Release/deepr.node" --log build-asan-addon/fuzz-case.log \
    | tee build-asan-addon/fuzz-report.json
  node -e 'const r = JSON.parse(require("fs").readFileSync("build-asan-addon/fuzz-report.json", "utf8").trim().split("\n").pop());
    if (r.violations) { console.error("sanitize: the fuzzer found violations:", JSON.stringify(r.examples, null, 1)); process.exit(1); }'
fi
if [[ $PART == all || $PART == tsan ]]; then
  TSAN="-fsanitize=thread -fno-omit-frame-pointer"
  cmake -S . -B build-tsan -DDEEPR_CORE_TESTS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="$TSAN" -DCMAKE_EXE_LINKER_FLAGS="$TSAN" > /dev/null
  cmake --build build-tsan --target deepr_core_tests -j "$JOBS"
  echo "sanitize: core tests under TSan"
  TSAN_OPTIONS="halt_on_error=1:allocator_may_return_null=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}" ./build-tsan/deepr_core_tests
fi
echo "sanitize: clean (no AddressSanitizer, UndefinedBehaviorSanitizer or ThreadSanitizer findings)"
