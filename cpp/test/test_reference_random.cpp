// The independent implementation of the random streams (reference_random.hpp) against published
// known answers, then the core's streams against it: the layout ARCHITECTURE.md documents, with
// seeds, steps and positions that use the high counter and key words.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "check.hpp"
#include "random.hpp"
#include "reference_random.hpp"
#include "training.hpp"

namespace ref = deepr_reference;

TEST(reference_philox_matches_random123_known_answers) {
  // Random123 known-answer tests (kat_vectors) for philox4x32 with 10 rounds: counter and key all
  // zero, all ones, and the digits of pi.
  CHECK(ref::philox({0, 0, 0, 0}, 0, 0) == (ref::Words{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  CHECK(ref::philox({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, 0xffffffffu, 0xffffffffu) ==
        (ref::Words{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  CHECK(ref::philox({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, 0xa4093822u, 0x299f31d0u) ==
        (ref::Words{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

namespace {

const uint64_t kSeeds[] = {0, 7, 0x9E3779B97F4A7C15ull};
const uint64_t kSteps[] = {0, 3, 0x100000005ull};

}  // namespace

TEST(core_normals_follow_the_documented_layout) {
  for (uint64_t seed : kSeeds)
    for (uint64_t step : kSteps)
      for (uint32_t layer : {0u, 2u}) {
        for (auto [purpose, core_purpose] : {std::pair{ref::kNoise, deepr::Purpose::kNoise},
                                             std::pair{ref::kInitMagnitudes, deepr::Purpose::kInitMagnitudes}}) {
          const uint64_t count = 1003;  // a batch and some tails of the core's generator
          std::vector<float> core(count);
          deepr::fill_normals(deepr::RngStream{seed, step, layer, core_purpose}, 0, count, core.data());
          double worst = 0;
          for (uint64_t n = 0; n < count; ++n) {
            const double expected = ref::normal(ref::Stream{seed, step, layer, purpose}, n);
            worst = std::max(worst, std::abs(core[n] - expected) / (1 + std::abs(expected)));
          }
          CHECK(worst < 2.5e-7);  // the core's float polynomials (cpp/random.hpp)
        }
      }
}

TEST(core_uniform_integers_follow_the_documented_layout) {
  // Bounds that change from draw to draw; 2^63 + 1 rejects about half of all halves, so whole blocks
  // are rejected too.
  const uint64_t bounds[] = {1, 2, 7, 480, 235200, (uint64_t(1) << 63) + 1, ~uint64_t(0)};
  for (uint64_t seed : kSeeds)
    for (uint64_t step : kSteps)
      for (auto [purpose, core_purpose] : {std::pair{ref::kInitPositions, deepr::Purpose::kInitPositions},
                                           std::pair{ref::kRewire, deepr::Purpose::kRewire},
                                           std::pair{ref::kRewireShare, deepr::Purpose::kRewireShare}}) {
        deepr::UniformIntegers core(deepr::RngStream{seed, step, 3, core_purpose});
        ref::UniformSequence expected(ref::Stream{seed, step, 3, purpose});
        bool same = true;
        for (int n = 0; n < 700; ++n) {
          const uint64_t bound = bounds[n % 7];
          same &= core.below(bound) == expected.below(bound);
        }
        CHECK(same);
      }
}

TEST(core_signs_follow_the_documented_layout) {
  for (uint64_t seed : kSeeds)
    for (uint32_t layer : {0u, 1u, 5u}) {
      uint64_t negative = 0, same = 0;
      const uint64_t positions = 4000;
      for (uint64_t p = 0; p < positions; ++p) {
        const uint64_t position = p % 2 ? p : (uint64_t(p) << 31) + p;  // half of them above 2^32
        const bool core = deepr::position_is_negative(seed, layer, position);
        same += core == (ref::sign(seed, layer, position) < 0);
        negative += core;
      }
      CHECK(same == positions);
      CHECK(negative > positions * 4 / 10 && negative < positions * 6 / 10);
    }
}

TEST(core_shuffle_follows_the_documented_layout) {
  for (uint64_t seed : kSeeds)
    for (uint64_t epoch : kSteps) {
      const uint32_t count = 1000;
      std::vector<uint32_t> expected(count);
      std::iota(expected.begin(), expected.end(), 0u);
      ref::UniformSequence uniform(ref::Stream{seed, epoch, 0, ref::kShuffle});
      for (uint32_t n = count; n > 1; --n) std::swap(expected[n - 1], expected[uniform.below(n)]);
      CHECK(deepr::epoch_order(seed, epoch, count) == expected);
    }
}
