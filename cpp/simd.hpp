// Runtime CPU dispatch for the hot loops. Prebuilt binaries run on unknown x86-64 CPUs, so each
// marked function is compiled three times (AVX-512, AVX2+FMA, baseline SSE2) and the loader
// picks the best one for the CPU once, at load time (GCC/Clang function multi-versioning).
// The loops are written on 16-float vectors (GCC/Clang vector extensions) that each clone maps
// to its own registers. Floating-point contraction stays off (ISO C++ mode), so all clones give
// bit-identical results.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(DEEPR_NO_DISPATCH) && \
    !defined(__SANITIZE_ADDRESS__)
#define DEEPR_DISPATCH __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
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

inline uint32_t padded_batch(uint32_t batch) { return (batch + kLanes - 1) / kLanes * kLanes; }

inline Lanes load_lanes(const float* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store_lanes(float* p, Lanes v) { std::memcpy(p, &v, sizeof v); }

// The sum of the sixteen lanes in a fixed pairwise order: the same bits on every target.
inline float sum_lanes(Lanes v) {
  float x[kLanes];
  std::memcpy(x, &v, sizeof x);
  for (uint32_t width = kLanes / 2; width > 0; width /= 2)
    for (uint32_t l = 0; l < width; ++l) x[l] += x[l + width];
  return x[0];
}

}  // namespace deepr
