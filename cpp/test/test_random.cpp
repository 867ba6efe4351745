// The RNG against published known answers, and the distributions built on it.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "check.hpp"
#include "random.hpp"
#include "training.hpp"

using namespace deepr;

static bool words_are(const PhiloxBlock& r, uint32_t r0, uint32_t r1, uint32_t r2, uint32_t r3) {
  return r[0] == r0 && r[1] == r1 && r[2] == r2 && r[3] == r3;
}

TEST(philox_matches_random123_known_answers) {
  // Known-answer vectors of Philox4x32-10 from Random123's kat_vectors.
  CHECK(words_are(philox4x32_10({0, 0, 0, 0}, 0, 0), 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u));
  CHECK(words_are(philox4x32_10({~0u, ~0u, ~0u, ~0u}, ~0u, ~0u), 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu));
  CHECK(words_are(philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, 0xa4093822u, 0x299f31d0u),
                  0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u));
}

TEST(normals_have_unit_moments_and_are_addressable) {
  const RngStream stream{42, 7, 1, Purpose::kNoise};
  const uint64_t n = 200000;
  std::vector<float> z(n);
  fill_normals(stream, 0, n, z.data());
  double mean = 0, var = 0, fourth = 0;
  for (float v : z) mean += v;
  mean /= n;
  for (float v : z) {
    var += (v - mean) * (v - mean);
    fourth += std::pow(v - mean, 4);
  }
  var /= n;
  fourth /= n;
  CHECK_NEAR(mean, 0.0, 0.01);      // std error 0.0022
  CHECK_NEAR(var, 1.0, 0.015);      // std error 0.0032
  CHECK_NEAR(fourth, 3.0, 0.1);     // kurtosis of a normal
  // Chi-square of a histogram in half-unit bins, tails included, against the normal CDF.
  const int bins = 14;  // (-inf, -3), [-3, -2.5), ..., [3, inf)
  std::vector<double> count(bins, 0);
  for (float v : z) count[std::min(bins - 1, std::max(0, int(std::floor((v + 3.0) * 2)) + 1))] += 1;
  const auto cdf = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  double chi2 = 0;
  for (int b = 0; b < bins; ++b) {
    const double lo = b == 0 ? -INFINITY : -3.0 + 0.5 * (b - 1), hi = b == bins - 1 ? INFINITY : -3.0 + 0.5 * b;
    const double expected = n * (cdf(hi) - cdf(lo));
    chi2 += (count[b] - expected) * (count[b] - expected) / expected;
  }
  CHECK(chi2 < 34.53);  // 13 degrees of freedom, p = 0.001
  // Any sub-range is the same numbers: normal k depends only on k. Ranges that start and end
  // inside a block, on a block, inside a batch and across batches, short ones in a tail batch.
  const uint64_t batch = 4 * kBatchBlocks;
  const uint64_t firsts[] = {0, 1, 2, 3, 4, 5, 1001, batch - 1, batch, batch + 3, 3 * batch - 2, 7 * batch + 1};
  const uint64_t counts[] = {0, 1, 2, 3, 4, 5, 31, 33, 63, 64, 65, 300, batch - 1, batch, batch + 1, 2 * batch + 5, 2662};
  std::vector<float> part;
  for (uint64_t first : firsts) {
    for (uint64_t count : counts) {
      part.assign(count + 1, -99.0f);
      fill_normals(stream, first, count, part.data());
      bool same = part[count] == -99.0f;  // nothing written past the range
      for (uint64_t k = 0; k < count; ++k) same &= part[k] == z[first + k];
      CHECK(same);
    }
  }
}

TEST(uniform_integers_are_unbiased) {
  // Chi-square over a bound that does not divide 2^64.
  UniformIntegers uniform(RngStream{3, 0, 0, Purpose::kRewire});
  const uint64_t bound = 7, draws = 70000;
  std::vector<double> count(bound, 0);
  for (uint64_t n = 0; n < draws; ++n) {
    const uint64_t v = uniform.below(bound);
    CHECK(v < bound);
    count[v] += 1;
  }
  double chi2 = 0;
  for (double c : count) chi2 += (c - draws / double(bound)) * (c - draws / double(bound)) / (draws / double(bound));
  CHECK(chi2 < 22.46);  // 6 degrees of freedom, p = 0.001
}

TEST(batched_uniform_integers_equal_single_draws) {
  // 2^63 + 1 rejects about half of all halves, so blocks rejected twice occur, within a batch and
  // at its end; the counts span several batches.
  for (uint64_t bound : {uint64_t(1), uint64_t(7), uint64_t(235200), (uint64_t(1) << 63) + 1}) {
    for (uint64_t count : {uint64_t(1), uint64_t(17), uint64_t(4 * kBatchBlocks + 3)}) {
      const RngStream stream{11, count, 2, Purpose::kRewire};
      UniformIntegers single(stream), batched(stream);
      std::vector<uint64_t> draws(count + 1, 0);
      batched.below(bound, count, draws.data());
      bool same = draws[count] == 0;  // nothing written past the end
      for (uint64_t n = 0; n < count; ++n) same &= draws[n] == single.below(bound);
      same &= batched.below(bound) == single.below(bound);  // and both go on from the same block
      CHECK(same);
    }
  }
}

TEST(epoch_order_is_a_seeded_permutation) {
  const std::vector<uint32_t> a = epoch_order(5, 3, 1000), b = epoch_order(5, 3, 1000), c = epoch_order(5, 4, 1000);
  CHECK(a == b);
  CHECK(a != c);
  std::vector<bool> seen(1000, false);
  for (uint32_t v : a) {
    CHECK(v < 1000 && !seen[v]);
    seen[v] = true;
  }
}

// Blocks first .. first + kBlocks - 1 from philox_batch against the reference function.
template <uint32_t kBlocks>
static bool batch_equals_the_reference(const RngStream& stream, uint32_t first) {
  typename BatchLanes<kBlocks>::Blocks w[4];
  philox_batch<kBlocks>(stream, first, w);
  bool same = true;
  for (uint32_t i = 0; i < kBlocks; ++i) {
    const PhiloxBlock r = stream.block(first + i);
    for (int j = 0; j < 4; ++j) same &= uint32_t(w[j][i]) == r[j];
  }
  return same;
}

TEST(batched_philox_equals_the_reference_function) {
  const RngStream stream{0x123456789abcdefull, 0x1122334455ull, 3, Purpose::kNoise};
  // From 2^32 - 5 on, the batch runs the 32-bit block counter over its end: blocks 2^32 - 5 ..
  // 2^32 - 1, then 0, 1, ...
  for (uint32_t first : {1000u, 0xFFFFFFFBu}) {
    CHECK(batch_equals_the_reference<kBatchBlocks>(stream, first));
    CHECK(batch_equals_the_reference<kTailBlocks>(stream, first));
  }
}

typedef BatchLanes<kBatchBlocks> Batch;

// f over every 2^24 values of the top 24 bits of a word (the low 8 bits, which the transforms
// ignore, set to junk), a batch of pairs at a time.
template <class F>
static void for_all_words(F f) {
  constexpr uint32_t kPairs = 2 * kBatchBlocks;
  for (uint32_t k0 = 0; k0 < (1u << 24); k0 += kPairs) {
    uint32_t words[kPairs];
    for (uint32_t i = 0; i < kPairs; ++i) words[i] = ((k0 + i) << 8) | ((k0 + 7 * i) & 0xFF);
    Batch::Words lanes;
    std::memcpy(&lanes, words, sizeof lanes);
    f(k0, lanes);
  }
}

TEST(squared_radius_matches_double_precision) {
  double worst = 0;
  for_all_words([&](uint32_t k0, Batch::Words words) {
    const Batch::Floats r2 = squared_radius<kBatchBlocks>(words);
    for (uint32_t i = 0; i < 2 * kBatchBlocks; ++i) {
      const double exact = -2.0 * std::log((k0 + i + 1) / 16777216.0);
      if (exact > 0) worst = std::max(worst, std::abs(r2[i] - exact) / exact);
      else CHECK(r2[i] == 0.0f);  // u = 1
    }
  });
  CHECK(worst < 1.6e-7);  // measured 1.48e-7
  // The smallest uniform, 2^-24, gives the largest radius, sqrt(48 ln 2) = 5.77.
  const Batch::Floats smallest = squared_radius<kBatchBlocks>(Batch::Words{} + 0u);
  CHECK_NEAR(smallest[0], 48 * std::log(2.0), 1e-5);
}

TEST(cos_sin_turn_matches_double_precision) {
  double worst = 0;
  for_all_words([&](uint32_t k0, Batch::Words words) {
    Batch::Floats c, s;
    cos_sin_turn<kBatchBlocks>(words, c, s);
    for (uint32_t i = 0; i < 2 * kBatchBlocks; ++i) {
      const double angle = 2 * 3.14159265358979323846 * ((k0 + i) / 16777216.0);
      worst = std::max({worst, std::abs(c[i] - std::cos(angle)), std::abs(s[i] - std::sin(angle))});
    }
  });
  CHECK(worst < 1.4e-7);  // measured 1.21e-7
}

TEST(normals_match_box_muller_in_double_precision) {
  // From the reference Philox words: block i gives normals 4i .. 4i + 3 from the pairs
  // (word 0, word 1) and (word 2, word 3).
  const RngStream stream{8, 3, 2, Purpose::kNoise};
  const uint32_t blocks = 5000;
  std::vector<float> z(4 * blocks);
  fill_normals(stream, 0, z.size(), z.data());
  double worst = 0;
  for (uint32_t i = 0; i < blocks; ++i) {
    const PhiloxBlock r = stream.block(i);
    for (int pair = 0; pair < 2; ++pair) {
      const double u = ((r[2 * pair] >> 8) + 1) / 16777216.0, v = (r[2 * pair + 1] >> 8) / 16777216.0;
      const double radius = std::sqrt(-2.0 * std::log(u)), angle = 2 * 3.14159265358979323846 * v;
      const float z0 = z[4 * i + 2 * pair], z1 = z[4 * i + 2 * pair + 1];
      worst = std::max({worst, std::abs(z0 - radius * std::cos(angle)) / (1 + radius),
                        std::abs(z1 - radius * std::sin(angle)) / (1 + radius)});
    }
  }
  CHECK(worst < 2.5e-7);  // measured 1.3e-7 over 4 million normals
}

TEST(normals_are_the_same_bits_on_every_target) {
  // fill_normals runs its build for the best dispatch target of this machine; normal_batch, inlined
  // here, is built for the baseline target like the rest of this file.
  const RngStream stream{77, 12345, 4, Purpose::kNoise};
  const uint32_t batches = 300, n = 4 * kBatchBlocks * batches;
  std::vector<float> baseline(n), dispatched(n);
  for (uint32_t b = 0; b < batches; ++b) {
    normal_batch<kBatchBlocks>(stream, b * kBatchBlocks, baseline.data() + 4 * kBatchBlocks * b);
  }
  fill_normals(stream, 0, n, dispatched.data());
  CHECK(std::memcmp(baseline.data(), dispatched.data(), n * sizeof(float)) == 0);
  // A few normals: a tail batch.
  normal_batch<kTailBlocks>(stream, 0, baseline.data());
  fill_normals(stream, 0, 4 * kTailBlocks, dispatched.data());
  CHECK(std::memcmp(baseline.data(), dispatched.data(), 4 * kTailBlocks * sizeof(float)) == 0);
}
