// An independent implementation of the random streams that ARCHITECTURE.md ("Random streams")
// documents: its own scalar Philox4x32-10, key and counter layout, and transforms from bits to
// normals (in double precision), uniform integers and signs. It shares no code with the core, so
// tests that compare the two put the documented layout itself under test.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace deepr_reference {

using Words = std::array<uint32_t, 4>;

// The purposes of ARCHITECTURE.md's table (the fourth counter word is layer << 8 | purpose).
constexpr uint32_t kInitPositions = 1, kInitMagnitudes = 2, kSign = 3, kNoise = 4, kRewire = 5, kRewireShare = 6,
                   kShuffle = 7, kDenseInit = 8, kDormantNoise = 9, kDormantInit = 10;

// Philox4x32-10 (Salmon et al., SC 2011): ten rounds of two 32 x 32 -> 64-bit products, the key
// bumped by the Weyl constants after each round.
inline Words philox(Words counter, uint32_t key0, uint32_t key1) {
  for (int round = 0; round < 10; ++round) {
    const uint64_t product0 = uint64_t(counter[0]) * 0xD2511F53u;
    const uint64_t product1 = uint64_t(counter[2]) * 0xCD9E8D57u;
    const uint32_t hi0 = uint32_t(product0 >> 32), lo0 = uint32_t(product0);
    const uint32_t hi1 = uint32_t(product1 >> 32), lo1 = uint32_t(product1);
    counter = Words{hi1 ^ counter[1] ^ key0, lo1, hi0 ^ counter[3] ^ key1, lo0};
    key0 += 0x9E3779B9u;
    key1 += 0xBB67AE85u;
  }
  return counter;
}

// One stream: its blocks are philox({index, step low, step high, layer << 8 | purpose}, seed).
struct Stream {
  uint64_t seed, step;
  uint32_t layer, purpose;

  Words block(uint32_t index) const {
    return philox(Words{index, uint32_t(step & 0xFFFFFFFFu), uint32_t(step >> 32), layer << 8 | purpose},
                  uint32_t(seed & 0xFFFFFFFFu), uint32_t(seed >> 32));
  }
};

// Normal n of a stream: number n mod 4 of block n / 4, by Box-Muller on the top 24 bits of the
// words, radius from words 0 and 2, angle from words 1 and 3.
inline double normal(const Stream& stream, uint64_t n) {
  const Words w = stream.block(uint32_t(n / 4));
  const uint32_t pair = uint32_t(n % 4) / 2;
  const double u = double((w[2 * pair] >> 8) + 1) / 16777216.0;  // in (0, 1]
  const double angle = 2.0 * 3.14159265358979323846 * double(w[2 * pair + 1] >> 8) / 16777216.0;
  const double radius = std::sqrt(-2.0 * std::log(u));
  return n % 2 == 0 ? radius * std::cos(angle) : radius * std::sin(angle);
}

// A sequence of uniform integers: each draw takes the next block, and accepts its first 64-bit half
// (word 0 : word 1) or else its second (word 2 : word 3) by Lemire's rule; a block rejected twice
// passes the draw on to the next block.
class UniformSequence {
 public:
  explicit UniformSequence(const Stream& stream) : stream_(stream) {}

  uint64_t below(uint64_t bound) {
    const uint64_t two_to_64_mod_bound = (UINT64_MAX % bound + 1) % bound;
    for (;;) {
      const Words w = stream_.block(next_block_++);
      for (int half = 0; half < 2; ++half) {
        const uint64_t x = uint64_t(w[2 * half]) << 32 | w[2 * half + 1];
        const unsigned __int128 product = (unsigned __int128)x * bound;
        if (uint64_t(product) >= two_to_64_mod_bound) return uint64_t(product >> 64);
      }
    }
  }

 private:
  Stream stream_;
  uint32_t next_block_ = 0;
};

// The fixed sign of a position: -1 when bit 0 of the first word of the block with counter
// {position low, position high, 0, layer << 8 | kSign} is set.
inline double sign(uint64_t seed, uint32_t layer, uint64_t position) {
  const Words w = philox(Words{uint32_t(position & 0xFFFFFFFFu), uint32_t(position >> 32), 0, layer << 8 | kSign},
                         uint32_t(seed & 0xFFFFFFFFu), uint32_t(seed >> 32));
  return (w[0] & 1u) ? -1.0 : 1.0;
}

}  // namespace deepr_reference
