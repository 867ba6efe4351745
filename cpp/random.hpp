// The batched generators: normals and uniform integers made many Philox blocks at a time, the same
// bits as the scalar definitions in philox_distributions.hpp (cpp/test/test_scalar_random.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include "philox.hpp"
#include "philox_distributions.hpp"
#include "simd.hpp"

namespace deepr {

// The normal generator works on batches of Philox blocks held in GCC/Clang vector types, mostly
// wider than any register: each dispatch clone (simd.hpp) splits them into its own registers, zmm,
// ymm or xmm, and the independent pieces keep its pipelines busy. Only IEEE-exact operations, in a
// fixed order, so every clone gives the same bits. Lanes of a batch of kBlocks blocks:
template <uint32_t kBlocks>
struct BatchLanes {
  typedef uint64_t Blocks __attribute__((vector_size(8 * kBlocks)));  // one word of each block
  typedef uint32_t Words __attribute__((vector_size(8 * kBlocks)));   // one word of each pair
  typedef int32_t Ints __attribute__((vector_size(8 * kBlocks)));
  typedef float Floats __attribute__((vector_size(8 * kBlocks)));
};

template <class To, class From>
__attribute__((always_inline)) inline To bits_as(From v) {
  static_assert(sizeof(To) == sizeof(From), "a reinterpretation keeps the size");
  To to;
  std::memcpy(&to, &v, sizeof to);
  return to;
}

template <class Blocks, size_t... I>
constexpr Blocks lane_indices(std::index_sequence<I...>) {
  return Blocks{I...};
}

// philox4x32_10 of kBlocks counters at once, in place: word j of counter i is the low half of lane
// i of c[j]. The arithmetic of philox4x32_10, except that the high halves carry junk: the products
// read only the low halves, which spares packing the words between rounds.
template <uint32_t kBlocks>
__attribute__((always_inline)) inline void philox_lanes(typename BatchLanes<kBlocks>::Blocks c[4], uint64_t seed) {
  typedef typename BatchLanes<kBlocks>::Blocks Blocks;
  constexpr uint64_t kLow = 0xFFFFFFFFu;
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const Blocks p0 = (c[0] & kLow) * 0xD2511F53u, p1 = (c[2] & kLow) * 0xCD9E8D57u;
    c[0] = (p1 >> 32) ^ c[1] ^ k0;
    c[2] = (p0 >> 32) ^ c[3] ^ k1;
    c[1] = p1;
    c[3] = p0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
}

// Blocks first .. first + kBlocks - 1 of a stream: word j of block i is the low half of lane i of
// w[j] (the high halves carry junk).
template <uint32_t kBlocks>
__attribute__((always_inline)) inline void philox_batch(const RngStream& stream, uint32_t first,
                                                        typename BatchLanes<kBlocks>::Blocks w[4]) {
  typedef typename BatchLanes<kBlocks>::Blocks Blocks;
  w[0] = lane_indices<Blocks>(std::make_index_sequence<kBlocks>()) + first;
  w[1] = Blocks{} + uint32_t(stream.step);
  w[2] = Blocks{} + uint32_t(stream.step >> 32);
  w[3] = Blocks{} + ((stream.store << 8) | uint32_t(stream.purpose));
  philox_lanes<kBlocks>(w, stream.seed);
}

// Lane-wise square root: the vector extensions have none, and with -fno-math-errno this loop becomes
// vector sqrt instructions.
template <class Floats>
__attribute__((always_inline)) inline Floats sqrt_lanes(Floats v) {
  float x[sizeof v / sizeof(float)];
  std::memcpy(x, &v, sizeof x);
  for (float& e : x) e = std::sqrt(e);
  std::memcpy(&v, x, sizeof x);
  return v;
}

// -2 ln u for u = (k + 1) / 2^24 in (0, 1], k the top 24 bits of each word: the squared Box-Muller
// radius (u is never 0, so it is finite). u = m 2^e with m in [sqrt(1/2), sqrt(2)), and
// ln m = f + f^2 R(f) with f = m - 1 (exact) and R a degree-7 minimax fit of (ln(1 + f) - f) / f^2
// (relative error 3e-8 before rounding), here as -2 ln m = f (-2 + f R2), R2 = -2 R. No division.
// Relative error below 1.5e-7, measured against double precision over all 2^24 values of k.
template <uint32_t kBlocks>
__attribute__((always_inline)) inline typename BatchLanes<kBlocks>::Floats squared_radius(
    typename BatchLanes<kBlocks>::Words words) {
  typedef typename BatchLanes<kBlocks>::Ints Ints;
  typedef typename BatchLanes<kBlocks>::Floats Floats;
  // The bits of k + 1 = u 2^24 as a float (exact); the offset also takes the 24 off the exponent.
  const Ints x = bits_as<Ints>(__builtin_convertvector(bits_as<Ints>((words >> 8) + 1u), Floats));
  const Ints offset = x - (kSqrtHalfBits + (24 << 23));
  const Ints e = offset >> 23;  // arithmetic shift: e <= 0
  const Floats f = bits_as<Floats>((offset & 0x007FFFFF) + kSqrtHalfBits) - 1.0f;
  Floats r = kLogFit7 * f + kLogFit6;
  r = r * f + kLogFit5;
  r = r * f + kLogFit4;
  r = r * f + kLogFit3;
  r = r * f + kLogFit2;
  r = r * f + kLogFit1;
  r = r * f + kLogFit0;
  return __builtin_convertvector(e, Floats) * kMinusTwoLn2 + f * (-2.0f + f * r);
}

// cos(2 pi v) and sin(2 pi v) for v = k / 2^24, k the top 24 bits of each word. The nearest quarter
// turn q is taken out exactly in integers; the rest a (|a| <= pi/4) gives sin a by a degree-7
// minimax polynomial and cos a = sqrt(1 - sin^2 a) (>= sqrt(1/2): no cancellation); q then rotates
// (cos a, sin a) by swapping and negating. Error below 1.3e-7, measured against double precision
// over all 2^24 values of k.
template <uint32_t kBlocks>
__attribute__((always_inline)) inline void cos_sin_turn(typename BatchLanes<kBlocks>::Words words,
                                                        typename BatchLanes<kBlocks>::Floats& c,
                                                        typename BatchLanes<kBlocks>::Floats& s) {
  typedef typename BatchLanes<kBlocks>::Words Words;
  typedef typename BatchLanes<kBlocks>::Ints Ints;
  typedef typename BatchLanes<kBlocks>::Floats Floats;
  // k - 2^22 q: the low 22 bits of k as a signed number. q mod 4: the top two bits of k + 2^21.
  const Ints rest = bits_as<Ints>(words << 2) >> 10;
  const Words quarters = words + (1u << 29);
  const Floats a = __builtin_convertvector(rest, Floats) * kRadiansPerStep;
  const Floats a2 = a * a;
  const Floats sin_a = a + (a * a2) * (kSinFit3 + a2 * (kSinFit5 + a2 * kSinFit7));
  const Floats cos_a = sqrt_lanes(1.0f - sin_a * sin_a);
  // Odd q swaps the two; q = 1, 2 negate the cosine, q = 2, 3 the sine. Bitwise selects, as GCC
  // expands ?: on vectors wider than a register element by element.
  const Words odd = bits_as<Words>(bits_as<Ints>(quarters << 1) >> 31);
  const Words cos_bits = bits_as<Words>(cos_a), sin_bits = bits_as<Words>(sin_a);
  c = bits_as<Floats>(((sin_bits & odd) | (cos_bits & ~odd)) ^ ((quarters + (1u << 30)) & 0x80000000u));
  s = bits_as<Floats>(((cos_bits & odd) | (sin_bits & ~odd)) ^ (quarters & 0x80000000u));
}

// Normals 4 first .. 4 (first + kBlocks) - 1 of a stream, in order, into out. Block i makes the
// pairs (word 0, word 1) and (word 2, word 3), and pair (a, b) the normals r cos t, r sin t with
// r^2 from a and t from b (Box-Muller).
template <uint32_t kBlocks>
__attribute__((always_inline)) inline void normal_batch(const RngStream& stream, uint32_t first, float* out) {
  typedef typename BatchLanes<kBlocks>::Blocks Blocks;
  typedef typename BatchLanes<kBlocks>::Words Words;
  typedef typename BatchLanes<kBlocks>::Floats Floats;
  Blocks w[4];
  philox_batch<kBlocks>(stream, first, w);
  // Pair 2i is (word 0, word 1) of block i, pair 2i + 1 (word 2, word 3): the low and high halves
  // of its 64-bit lane.
  constexpr bool kLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
  const auto pairs = [](Blocks even, Blocks odd) {
    constexpr uint64_t kLow = 0xFFFFFFFFu;
    return bits_as<Words>(kLittleEndian ? (even & kLow) | (odd << 32) : (odd & kLow) | (even << 32));
  };
  const Floats radius = sqrt_lanes(squared_radius<kBlocks>(pairs(w[0], w[2])));
  Floats c, s;
  cos_sin_turn<kBlocks>(pairs(w[1], w[3]), c, s);
  const Floats z0 = radius * c, z1 = radius * s;
  // Pair j gives normals 2j and 2j + 1 (a loop that vectorises well on every target).
  float cos_part[2 * kBlocks], sin_part[2 * kBlocks];
  std::memcpy(cos_part, &z0, sizeof cos_part);
  std::memcpy(sin_part, &z1, sizeof sin_part);
  for (uint32_t j = 0; j < 2 * kBlocks; ++j) {
    out[2 * j] = cos_part[j];
    out[2 * j + 1] = sin_part[j];
  }
}

// The batch sizes: kBatchBlocks for throughput; kTailBlocks, two registers' width on the widest
// target, for what is left of a range when a whole batch is more than it needs (300 normals are
// one batch and three tails, not two batches), and for the few blocks of uniform integers.
constexpr uint32_t kBatchBlocks = 64, kTailBlocks = 16;

// Standard normals n[first .. first + count) of a stream: block i yields normals 4i .. 4i + 3, so
// any range can be regenerated on its own (random.cpp).
void fill_normals(const RngStream& stream, uint64_t first, uint64_t count, float* out);

// The two 64-bit draws of blocks first .. first + count - 1 of a stream, made in batches:
// block i gives out[2 i] = word 0 : word 1 and out[2 i + 1] = word 2 : word 3 (random.cpp).
void fill_block_draws(const RngStream& stream, uint32_t first, uint32_t count, uint64_t* out);

// The fixed signs of `count` positions of a store, as position_is_negative gives them one at a
// time: sign_bits[n] = kSignBit if position n is negative, else 0 (random.cpp).
void position_sign_bits(uint64_t seed, uint32_t store, const uint64_t* positions, uint32_t count, uint32_t* sign_bits);

// Draws exactly uniform integers in [0, bound) from consecutive blocks of one stream, with
// Lemire's multiply-and-reject method: no modulo bias, whatever the bound. Draw n takes block n
// (its first half, or its second if the first is rejected; a block rejected twice moves on to the
// next), so a batch of draws equals the same number of single ones.
class UniformIntegers {
 public:
  explicit UniformIntegers(const RngStream& stream) : stream_(stream) {}

  uint64_t below(uint64_t bound) { return uniform_below(stream_, next_, bound); }

  // `count` draws into out, as many calls of below(bound) would give, with their blocks made in
  // batches (several times faster when there are more than a few).
  void below(uint64_t bound, uint64_t count, uint64_t* out) {
    uint64_t draws[2 * kBatchBlocks];
    while (count > 0) {
      const uint32_t batch = uint32_t(std::min<uint64_t>(count, kBatchBlocks));
      fill_block_draws(stream_, next_, batch, draws);
      uint32_t n = 0;
      while (n < batch &&
             (uniform_accept(draws[2 * n], bound, out[n]) || uniform_accept(draws[2 * n + 1], bound, out[n])))
        ++n;
      next_ += n;
      if (n < batch) out[n++] = below(bound);  // block rejected twice: on to the next, one at a time
      out += n;
      count -= n;
    }
  }

 private:
  RngStream stream_;
  uint32_t next_ = 0;
};

}  // namespace deepr
