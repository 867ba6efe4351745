// Distributions drawn from Philox blocks: exact uniform integers, uniform floats, normals.
#pragma once

#include <cmath>
#include <cstdint>

#include "philox.hpp"

namespace deepr {

// Uniform float in (0, 1]: 24 random bits, never 0, so log() below is finite.
inline float uniform_open0(uint32_t bits) { return float((bits >> 8) + 1) * (1.0f / 16777216.0f); }

// Box-Muller: two independent standard normals from two uniform words.
inline void normal_pair(uint32_t a, uint32_t b, float& z0, float& z1) {
  const float radius = std::sqrt(-2.0f * std::log(uniform_open0(a)));
  const float angle = 6.2831853071795864f * float(b >> 8) * (1.0f / 16777216.0f);
  z0 = radius * std::cos(angle);
  z1 = radius * std::sin(angle);
}

// Standard normals n[0..count) of a stream; block i yields normals 4i .. 4i+3.
inline void fill_normals(const RngStream& stream, uint64_t first, uint64_t count, float* out) {
  for (uint64_t done = 0; done < count;) {
    const uint64_t index = first + done;
    const PhiloxBlock r = stream.block(uint32_t(index / 4));
    float z[4];
    normal_pair(r[0], r[1], z[0], z[1]);
    normal_pair(r[2], r[3], z[2], z[3]);
    for (uint64_t lane = index % 4; lane < 4 && done < count; ++lane) out[done++] = z[lane];
  }
}

// Draws exactly uniform integers in [0, bound) from consecutive blocks of one stream, with
// Lemire's multiply-and-reject method: no modulo bias, whatever the bound.
class UniformIntegers {
 public:
  explicit UniformIntegers(const RngStream& stream) : stream_(stream) {}

  uint64_t below(uint64_t bound) {
    const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
    for (;;) {
      const PhiloxBlock r = stream_.block(next_++);
      for (int half = 0; half < 2; ++half) {
        const uint64_t x = (uint64_t(r[2 * half]) << 32) | r[2 * half + 1];
        const unsigned __int128 m = (unsigned __int128)x * bound;
        if (uint64_t(m) >= threshold) return uint64_t(m >> 64);
      }
    }
  }

  uint32_t blocks_used() const { return next_; }

 private:
  RngStream stream_;
  uint32_t next_ = 0;
};

// The fixed sign of connection `position` of `layer`: true when negative. A pure function of the
// seed, so a connection that dies and is drawn again comes back with its old sign (paper, sec. 1.1).
inline bool position_is_negative(uint64_t seed, uint32_t layer, uint64_t position) {
  const PhiloxBlock r = philox4x32_10({uint32_t(position), uint32_t(position >> 32), 0, (layer << 8) | uint32_t(Purpose::kSign)},
                                      uint32_t(seed), uint32_t(seed >> 32));
  return (r[0] & 1u) != 0;
}

}  // namespace deepr
