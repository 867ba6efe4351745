// Philox4x32-10: the counter-based RNG of Salmon et al., "Parallel random numbers: as easy as
// 1, 2, 3" (SC 2011). A block of four 32-bit words is a pure function of (counter, key), so any
// random number in a run can be recomputed from its coordinates alone: the same on every thread
// count and on the GPU, with no generator state to save in a checkpoint.
//
// Plain C++ that nvcc also compiles for the device (no std:: types, no vector extensions): this
// header and philox_distributions.hpp are the reference implementation of the random streams
// (ARCHITECTURE.md, "Random streams") for every device; the core's batched generator
// (random.hpp) is tested bit for bit against them.
#pragma once

#include <cstdint>

#ifdef __CUDACC__
#define DEEPR_HOST_DEVICE __host__ __device__
#else
#define DEEPR_HOST_DEVICE
#endif

namespace deepr {

struct PhiloxBlock {
  uint32_t words[4];

  DEEPR_HOST_DEVICE uint32_t operator[](int i) const { return words[i]; }
};

DEEPR_HOST_DEVICE inline PhiloxBlock philox4x32_10(PhiloxBlock ctr, uint32_t k0, uint32_t k1) {
  const uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  const uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t(kMul0) * ctr.words[0];
    const uint64_t p1 = uint64_t(kMul1) * ctr.words[2];
    ctr = {uint32_t(p1 >> 32) ^ ctr.words[1] ^ k0, uint32_t(p1), uint32_t(p0 >> 32) ^ ctr.words[3] ^ k1, uint32_t(p0)};
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return ctr;
}

// What a stream of random numbers is for. Part of the counter, so streams never overlap.
enum class Purpose : uint32_t {
  kInitPositions = 1,
  kInitMagnitudes = 2,
  kSign = 3,
  kNoise = 4,
  kRewire = 5,
  kRewireShare = 6,
  kShuffle = 7,
  kDenseInit = 8,  // a dense weight store's initial values, keyed by its dense store id
  kDormantNoise = 9,  // soft-DEEP R: the random walk of every dormant theta
  kDormantInit = 10,  // soft-DEEP R: the initial theta of every dormant position
};

// One independent stream: (seed, step, store, purpose), `store` the id of a parameter store (0
// where a stream belongs to no store). Block `index` of the stream is
// philox(counter = {index, step low, step high, store << 8 | purpose}, key = seed).
struct RngStream {
  uint64_t seed;
  uint64_t step;
  uint32_t store;
  Purpose purpose;

  DEEPR_HOST_DEVICE PhiloxBlock block(uint32_t index) const {
    return philox4x32_10({index, uint32_t(step), uint32_t(step >> 32), (store << 8) | uint32_t(purpose)},
                         uint32_t(seed), uint32_t(seed >> 32));
  }
};

}  // namespace deepr
