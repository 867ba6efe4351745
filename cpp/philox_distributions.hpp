// The scalar transforms from Philox blocks to what the core draws: connection signs, exactly
// uniform integers and standard normals, as ARCHITECTURE.md ("Random streams") documents them.
// Plain C++ for the host and the device, like philox.hpp. The normals are the same bits as the
// core's batched generator (random.hpp): the same float operations from the same constants, in
// the same order, each one rounded on its own. The device side uses the _rn intrinsics, which nvcc
// never fuses into an FMA; the host side relies on the build's -ffp-contract=off (CMakeLists.txt).
#pragma once

#include <cstdint>

#include "philox.hpp"

namespace deepr {

// The fixed sign of connection `position` of sparse store `store`: true when negative. A pure function of the
// seed, so a connection that dies and is drawn again comes back with its old sign (Bellec et al. 2018, sec. 2).
DEEPR_HOST_DEVICE inline bool position_is_negative(uint64_t seed, uint32_t store, uint64_t position) {
  const uint32_t store_and_purpose = (store << 8) | uint32_t(Purpose::kSign);
  const PhiloxBlock r = philox4x32_10({uint32_t(position), uint32_t(position >> 32), 0, store_and_purpose},
                                      uint32_t(seed), uint32_t(seed >> 32));
  return (r[0] & 1u) != 0;
}

// Lemire's multiply-and-reject step: result = x * bound / 2^64, accepted unless x falls in the
// biased remainder. That check is a 64-bit division, only needed in the rare case that the low
// half of the product is below the bound.
DEEPR_HOST_DEVICE inline bool uniform_accept(uint64_t x, uint64_t bound, uint64_t& result) {
#ifdef __CUDA_ARCH__
  result = __umul64hi(x, bound);
  const uint64_t low = x * bound;
#else
  const unsigned __int128 m = (unsigned __int128)x * bound;
  result = uint64_t(m >> 64);
  const uint64_t low = uint64_t(m);
#endif
  return low >= bound || low >= (0 - bound) % bound;
}

// The next uniform integer in [0, bound) of a sequence that has used blocks 0 .. next_block - 1 of
// its stream: block next_block's first half, or its second if the first is rejected; a block
// rejected twice passes the draw on to the next.
DEEPR_HOST_DEVICE inline uint64_t uniform_below(const RngStream& stream, uint32_t& next_block, uint64_t bound) {
  for (uint64_t result;;) {
    const PhiloxBlock r = stream.block(next_block++);
    if (uniform_accept((uint64_t(r[0]) << 32) | r[1], bound, result) ||
        uniform_accept((uint64_t(r[2]) << 32) | r[3], bound, result))
      return result;
  }
}

// The constants of the normal transform, shared with the batched generator (random.hpp).
// -2 ln m = f (-2 + f R(f)) for f = m - 1, R a degree-7 minimax fit, coefficients of f^7 .. f^0.
constexpr float kLogFit7 = -0.174696922f, kLogFit6 = 0.286150455f, kLogFit5 = -0.298359454f,
                kLogFit4 = 0.33141017f, kLogFit3 = -0.399241447f, kLogFit2 = 0.500035107f,
                kLogFit1 = -0.666679025f, kLogFit0 = 0.999999821f;
constexpr float kMinusTwoLn2 = -1.38629436f;  // -2 ln 2: each power of two of u
constexpr int32_t kSqrtHalfBits = 0x3F3504F3;  // the bits of sqrt(1/2)
// sin a = a + a^3 (s3 + a^2 (s5 + a^2 s7)) for |a| <= pi/4 (minimax).
constexpr float kSinFit3 = -0.166666552f, kSinFit5 = 0.0083321603f, kSinFit7 = -0.000195152825f;
constexpr float kRadiansPerStep = 1.57079633f / 4194304.0f;  // a quarter turn is 2^22 steps of k

// Single IEEE float operations, rounded to nearest and never fused with their neighbours.
namespace ieee {

#ifdef __CUDA_ARCH__
__device__ inline float add(float a, float b) { return __fadd_rn(a, b); }
__device__ inline float sub(float a, float b) { return __fsub_rn(a, b); }
__device__ inline float mul(float a, float b) { return __fmul_rn(a, b); }
__device__ inline float sqrt(float a) { return __fsqrt_rn(a); }
__device__ inline uint32_t bits(float a) { return __float_as_uint(a); }
__device__ inline float from_bits(uint32_t b) { return __uint_as_float(b); }
#else
inline float add(float a, float b) { return a + b; }
inline float sub(float a, float b) { return a - b; }
inline float mul(float a, float b) { return a * b; }
inline float sqrt(float a) { return __builtin_sqrtf(a); }
inline uint32_t bits(float a) {
  uint32_t b;
  __builtin_memcpy(&b, &a, sizeof b);
  return b;
}
inline float from_bits(uint32_t b) {
  float a;
  __builtin_memcpy(&a, &b, sizeof a);
  return a;
}
#endif

}  // namespace ieee

// The Box-Muller pair of two Philox words: cos_normal, sin_normal = r cos t, r sin t, with
// r^2 = -2 ln u, u = (k + 1) / 2^24 from radius_word and t = 2 pi k / 2^24 from angle_word, k the
// top 24 bits of a word.
// r^2: u = m 2^e with m in [sqrt(1/2), sqrt(2)), f = m - 1 exact, -2 ln u = -2 e ln 2 + f (-2 + f R(f)).
// No division, relative error below 1.5e-7.
// t: the nearest quarter turn q is taken out exactly in integers; the rest a (|a| <= pi/4) gives
// sin a by its polynomial and cos a = sqrt(1 - sin^2 a) (>= sqrt(1/2): no cancellation); q then
// rotates (cos a, sin a) by swapping and negating. Error below 1.3e-7.
DEEPR_HOST_DEVICE inline void normal_pair(uint32_t radius_word, uint32_t angle_word, float& cos_normal,
                                          float& sin_normal) {
  using ieee::add;
  using ieee::mul;
  // The bits of k + 1 = u 2^24 as a float (exact); the offset also takes the 24 off the exponent.
  const int32_t x = int32_t(ieee::bits(float(int32_t((radius_word >> 8) + 1u))));
  const int32_t offset = x - (kSqrtHalfBits + (24 << 23));
  const int32_t e = offset >> 23;  // arithmetic shift: e <= 0
  const float f = ieee::sub(ieee::from_bits(uint32_t((offset & 0x007FFFFF) + kSqrtHalfBits)), 1.0f);
  float r = add(mul(kLogFit7, f), kLogFit6);
  r = add(mul(r, f), kLogFit5);
  r = add(mul(r, f), kLogFit4);
  r = add(mul(r, f), kLogFit3);
  r = add(mul(r, f), kLogFit2);
  r = add(mul(r, f), kLogFit1);
  r = add(mul(r, f), kLogFit0);
  const float radius = ieee::sqrt(add(mul(float(e), kMinusTwoLn2), mul(f, add(-2.0f, mul(f, r)))));

  // k - 2^22 q: the low 22 bits of k as a signed number. q mod 4: the top two bits of k + 2^21.
  const int32_t rest = int32_t(angle_word << 2) >> 10;
  const uint32_t quarters = angle_word + (1u << 29);
  const float a = mul(float(rest), kRadiansPerStep);
  const float a2 = mul(a, a);
  const float sin_a = add(a, mul(mul(a, a2), add(kSinFit3, mul(a2, add(kSinFit5, mul(a2, kSinFit7))))));
  const float cos_a = ieee::sqrt(ieee::sub(1.0f, mul(sin_a, sin_a)));
  // Odd q swaps the two; q = 1, 2 negate the cosine, q = 2, 3 the sine.
  const bool odd = (quarters >> 30) & 1u;
  const uint32_t cos_bits = ieee::bits(odd ? sin_a : cos_a), sin_bits = ieee::bits(odd ? cos_a : sin_a);
  cos_normal = mul(radius, ieee::from_bits(cos_bits ^ ((quarters + (1u << 30)) & 0x80000000u)));
  sin_normal = mul(radius, ieee::from_bits(sin_bits ^ (quarters & 0x80000000u)));
}

// Standard normal n of a stream: block n / 4 gives normals 4i .. 4i + 3, from its pairs
// (word 0, word 1) and (word 2, word 3).
DEEPR_HOST_DEVICE inline float normal(const RngStream& stream, uint64_t n) {
  const PhiloxBlock r = stream.block(uint32_t(n / 4));
  const bool second_pair = n % 4 >= 2;  // selects, not an index: the block stays in registers on a GPU
  float cos_normal, sin_normal;
  normal_pair(second_pair ? r[2] : r[0], second_pair ? r[3] : r[1], cos_normal, sin_normal);
  return n % 2 == 0 ? cos_normal : sin_normal;
}

}  // namespace deepr
