// Distributions drawn from Philox blocks: exact uniform integers, uniform floats, normals.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "philox.hpp"

namespace deepr {

// Uniform float in (0, 1]: 24 random bits, never 0, so the logarithm below is finite.
inline float uniform_open0(uint32_t bits) { return float((bits >> 8) + 1) * (1.0f / 16777216.0f); }

// Natural logarithm of x in (0, 1], branch-free so that loops over it vectorise: x = m * 2^e with
// m in [sqrt(1/2), sqrt(2)), then log(m) = 2 atanh(t), t = (m - 1) / (m + 1), |t| < 0.172, by
// its odd series to t^9. Relative error below 2e-7.
inline float log_unit(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  int32_t e = int32_t(bits >> 23) - 127;
  bits = (bits & 0x007FFFFFu) | 0x3F800000u;  // mantissa as a float in [1, 2)
  float m;
  std::memcpy(&m, &bits, 4);
  const bool high = m > 1.41421356f;
  m = high ? 0.5f * m : m;
  e += high ? 1 : 0;
  const float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
  const float series = t * (2.0f + t2 * (0.666666667f + t2 * (0.4f + t2 * (0.285714286f + t2 * 0.222222222f))));
  return float(e) * 0.693147181f + series;
}

// cos(2 pi v) and sin(2 pi v) for v in [0, 1), branch-free: the nearest quarter turn q is taken
// out exactly, the rest (|angle| <= pi/4) goes through short Taylor polynomials (error < 4e-7),
// and q rotates the result.
inline void cos_sin_turn(float v, float& c, float& s) {
  const float quarters = v * 4.0f;
  const int32_t q = int32_t(quarters + 0.5f);
  const float a = (quarters - float(q)) * 1.57079633f, a2 = a * a;
  const float cr = 1.0f + a2 * (-0.5f + a2 * (0.0416666667f + a2 * (-0.00138888889f + a2 * 0.0000248015873f)));
  const float sr = a * (1.0f + a2 * (-0.166666667f + a2 * (0.00833333333f + a2 * -0.000198412698f)));
  const int32_t r = q & 3;  // rotate by r quarter turns
  c = r == 0 ? cr : r == 1 ? -sr : r == 2 ? -cr : sr;
  s = r == 0 ? sr : r == 1 ? cr : r == 2 ? -sr : -cr;
}

// Box-Muller: two independent standard normals from two uniform words.
inline void normal_pair(uint32_t a, uint32_t b, float& z0, float& z1) {
  const float radius = std::sqrt(-2.0f * log_unit(uniform_open0(a)));
  float c, s;
  cos_sin_turn(float(b >> 8) * (1.0f / 16777216.0f), c, s);
  z0 = radius * c;
  z1 = radius * s;
}

// Blocks first .. first + count - 1 (count <= 64) of a stream, written as pairs of words:
// (a[2i], b[2i]) and (a[2i + 1], b[2i + 1]) are block i. The same arithmetic as philox4x32_10,
// laid out lane by lane so that the rounds vectorise across blocks.
__attribute__((always_inline)) inline void philox_blocks(const RngStream& stream, uint32_t first, uint32_t count, uint32_t* a, uint32_t* b) {
  constexpr uint32_t kMax = 64;
  uint32_t c0[kMax], c1[kMax], c2[kMax], c3[kMax];
  const uint32_t step_lo = uint32_t(stream.step), step_hi = uint32_t(stream.step >> 32);
  const uint32_t tag = (stream.layer << 8) | uint32_t(stream.purpose);
  for (uint32_t i = 0; i < count; ++i) {
    c0[i] = first + i;
    c1[i] = step_lo;
    c2[i] = step_hi;
    c3[i] = tag;
  }
  uint32_t k0 = uint32_t(stream.seed), k1 = uint32_t(stream.seed >> 32);
  for (int round = 0; round < 10; ++round) {
    for (uint32_t i = 0; i < count; ++i) {
      const uint64_t p0 = uint64_t(0xD2511F53u) * c0[i];
      const uint64_t p1 = uint64_t(0xCD9E8D57u) * c2[i];
      const uint32_t n0 = uint32_t(p1 >> 32) ^ c1[i] ^ k0, n2 = uint32_t(p0 >> 32) ^ c3[i] ^ k1;
      c1[i] = uint32_t(p1);
      c3[i] = uint32_t(p0);
      c0[i] = n0;
      c2[i] = n2;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  for (uint32_t i = 0; i < count; ++i) {
    a[2 * i] = c0[i];
    b[2 * i] = c1[i];
    a[2 * i + 1] = c2[i];
    b[2 * i + 1] = c3[i];
  }
}

// Standard normals n[first .. first + count) of a stream: block i yields normals 4i .. 4i + 3, so
// any range can be regenerated on its own. The words are drawn first and transformed in a
// separate loop, which the compiler vectorises.
__attribute__((always_inline)) inline void fill_normals(const RngStream& stream, uint64_t first, uint64_t count, float* out) {
  constexpr uint64_t kPairs = 128;
  uint32_t a[kPairs], b[kPairs];
  float z0[kPairs], z1[kPairs];
  for (uint64_t done = 0; done < count;) {
    const uint64_t start = (first + done) & ~uint64_t(3);  // aligned to a block
    const uint64_t blocks = std::min<uint64_t>(kPairs / 2, (first + count - start + 3) / 4);
    philox_blocks(stream, uint32_t(start / 4), uint32_t(blocks), a, b);
    for (uint64_t j = 0; j < 2 * blocks; ++j) normal_pair(a[j], b[j], z0[j], z1[j]);
    // Normal 2j + 1 of the chunk is the second of pair j.
    const uint64_t skip = first + done - start;
    const uint64_t take = std::min<uint64_t>(4 * blocks - skip, count - done);
    for (uint64_t n = 0; n < take; ++n) {
      const uint64_t m = skip + n;
      out[done + n] = (m & 1) ? z1[m / 2] : z0[m / 2];
    }
    done += take;
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
