// Runtime CPU dispatch for the hot loops. Prebuilt binaries run on unknown x86-64 CPUs, so each
// marked function is compiled three times (AVX-512, AVX2+FMA, baseline SSE2) and the loader
// picks the best one for the CPU once, at load time (GCC/Clang function multi-versioning).
// The loops are written on 16-float vectors (GCC/Clang vector extensions) that each clone maps
// to its own registers. Floating-point contraction stays off (ISO C++ mode), so all clones give
// bit-identical results.
#pragma once

// Not under the sanitizers: their runtimes are not set up yet when the loader runs the resolvers.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(DEEPR_NO_DISPATCH) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define DEEPR_DISPATCH __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define DEEPR_DISPATCHES 1
#else
#define DEEPR_DISPATCH
#endif

#include <cstdint>
#include <cstring>

namespace deepr {

// Activations are stored with the batch padded to a multiple of kLanes (with zeros), so every
// per-connection loop works on whole 16-float vectors: one AVX-512 register, two AVX2 or four
// SSE registers, whatever the clone.
constexpr uint32_t kLanes = 16;
typedef float Lanes __attribute__((vector_size(kLanes * sizeof(float))));
typedef int32_t Ints __attribute__((vector_size(kLanes * sizeof(int32_t))));  // masks, bits, indices

// Every function that takes or returns a vector is always inlined: called out of line from a
// clone, it could receive the vector under another target's calling convention.

inline uint32_t padded_batch(uint32_t batch) { return (batch + kLanes - 1) / kLanes * kLanes; }

__attribute__((always_inline)) inline Lanes load_lanes(const float* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

__attribute__((always_inline)) inline void store_lanes(float* p, Lanes v) { std::memcpy(p, &v, sizeof v); }

// The sum of the sixteen lanes as a fixed pairwise tree (lane l + lane l + 8, then l + 4, ...),
// done with shuffles inside registers: the same bits on every target.
__attribute__((always_inline)) inline float sum_lanes(Lanes v) {
  v += __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
  v += __builtin_shufflevector(v, v, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7);
  v += __builtin_shufflevector(v, v, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
  v += __builtin_shufflevector(v, v, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
  return v[0];
}

}  // namespace deepr
