// The core's batched generators (random.hpp) against the scalar definitions that also compile for
// the GPU (philox.hpp, philox_distributions.hpp), bit for bit: the Philox words of a batch, the
// normal transform over every 24-bit input, normals and uniform integers, in streams with seeds,
// steps and block indices that use the high counter and key words. (Signs have no batched path:
// test_reference_random.cpp checks position_is_negative against the independent implementation.)
#include <cstdint>
#include <cstring>
#include <vector>

#include "check.hpp"
#include "philox_distributions.hpp"
#include "random.hpp"
#include "reference_random.hpp"

using namespace deepr;

namespace {

const uint64_t kSeeds[] = {0, 7, 0x9E3779B97F4A7C15ull};
const uint64_t kSteps[] = {0, 3, 0x100000005ull};
const Purpose kNormalPurposes[] = {Purpose::kInitMagnitudes, Purpose::kNoise};

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST(scalar_philox_is_the_reference_generator) {
  // The scalar stream against the independent one (reference_random.hpp, itself checked against
  // Random123's known answers), with blocks at the end of the 32-bit block counter.
  bool same = true;
  for (uint64_t seed : kSeeds)
    for (uint64_t step : kSteps)
      for (uint32_t index : {0u, 1u, 4093u, 0xFFFFFFFFu}) {
        const PhiloxBlock r = RngStream{seed, step, 5, Purpose::kRewire}.block(index);
        const deepr_reference::Words w = deepr_reference::Stream{seed, step, 5, deepr_reference::kRewire}.block(index);
        for (int j = 0; j < 4; ++j) same &= r[j] == w[j];
      }
  CHECK(same);
}

TEST(batched_normal_transform_equals_the_scalar_one_on_every_input) {
  // Every 24-bit k as the radius word and as the angle word (their low 8 bits varied too), in
  // tail-sized batches of the batched transform against normal_pair.
  typedef BatchLanes<kTailBlocks>::Words Words;
  typedef BatchLanes<kTailBlocks>::Floats Floats;
  constexpr uint32_t kLanes = 2 * kTailBlocks;
  uint64_t differing = 0;
  for (uint64_t first = 0; first < (uint64_t(1) << 24); first += kLanes) {
    Words radius_words, angle_words;
    for (uint32_t i = 0; i < kLanes; ++i) {
      const uint32_t k = uint32_t(first) + i;
      radius_words[i] = k << 8 | (k & 0xFF);
      angle_words[i] = (0xFFFFFFu - k) << 8 | ((k * 37) & 0xFF);  // every k once, paired with another radius
    }
    Floats c, s;
    cos_sin_turn<kTailBlocks>(angle_words, c, s);
    const Floats radius = sqrt_lanes(squared_radius<kTailBlocks>(radius_words));
    const Floats z0 = radius * c, z1 = radius * s;
    for (uint32_t i = 0; i < kLanes; ++i) {
      float cos_normal, sin_normal;
      normal_pair(radius_words[i], angle_words[i], cos_normal, sin_normal);
      differing += !same_bits(z0[i], cos_normal) || !same_bits(z1[i], sin_normal);
    }
  }
  CHECK(differing == 0);
}

TEST(batched_normals_equal_the_scalar_normals) {
  // Ranges that start inside a block and inside a batch, span a whole batch and tails, and run the
  // 32-bit block counter over its end (normal 2^34 - 20 is in block 2^32 - 5).
  const uint64_t batch = 4 * kBatchBlocks;
  const uint64_t firsts[] = {0, 3, batch - 2, (uint64_t(1) << 34) - 20 + 1};
  const uint64_t count = 2 * batch + 4 * kTailBlocks + 7;
  std::vector<float> batched(count);
  uint64_t differing = 0;
  for (uint64_t seed : kSeeds)
    for (uint64_t step : kSteps)
      for (uint32_t layer : {0u, 2u, 255u})
        for (Purpose purpose : kNormalPurposes)
          for (uint64_t first : firsts) {
            const RngStream stream{seed, step, layer, purpose};
            fill_normals(stream, first, count, batched.data());
            for (uint64_t k = 0; k < count; ++k) differing += !same_bits(batched[k], normal(stream, first + k));
          }
  CHECK(differing == 0);
}

TEST(batched_block_draws_and_uniforms_equal_the_scalar_ones) {
  // The halves of batched blocks are the scalar blocks' words; batched uniform draws are the scalar
  // sequence, with bounds that reject whole blocks (2^63 + 1 rejects about half of all halves).
  const uint64_t bounds[] = {1, 2, 7, 480, 235200, (uint64_t(1) << 63) + 1, ~uint64_t(0)};
  bool same = true;
  for (uint64_t seed : kSeeds)
    for (uint64_t step : kSteps)
      for (Purpose purpose : {Purpose::kInitPositions, Purpose::kRewire, Purpose::kRewireShare, Purpose::kShuffle}) {
        const RngStream stream{seed, step, 3, purpose};
        for (uint32_t first : {0u, 37u, 0xFFFFFFFBu}) {
          const uint32_t blocks = kBatchBlocks + 5;
          std::vector<uint64_t> draws(2 * blocks);
          fill_block_draws(stream, first, blocks, draws.data());
          for (uint32_t i = 0; i < blocks; ++i) {
            const PhiloxBlock r = stream.block(first + i);
            same &= draws[2 * i] == (uint64_t(r[0]) << 32 | r[1]);
            same &= draws[2 * i + 1] == (uint64_t(r[2]) << 32 | r[3]);
          }
        }
        for (uint64_t bound : bounds) {
          const uint64_t count = 3 * kBatchBlocks + 11;
          std::vector<uint64_t> batched(count);
          UniformIntegers(stream).below(bound, count, batched.data());
          uint32_t next_block = 0;
          for (uint64_t n = 0; n < count; ++n) same &= batched[n] == uniform_below(stream, next_block, bound);
        }
      }
  CHECK(same);
}
