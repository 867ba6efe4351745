// The RNG against published known answers, and the distributions built on it.
#include <algorithm>
#include <cmath>
#include <vector>

#include "check.hpp"
#include "random.hpp"
#include "training.hpp"

using namespace deepr;

TEST(philox_matches_random123_known_answers) {
  // Known-answer vectors of Philox4x32-10 from Random123's kat_vectors.
  const PhiloxBlock zero = philox4x32_10({0, 0, 0, 0}, 0, 0);
  CHECK(zero == (PhiloxBlock{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  const PhiloxBlock ones = philox4x32_10({~0u, ~0u, ~0u, ~0u}, ~0u, ~0u);
  CHECK(ones == (PhiloxBlock{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  const PhiloxBlock pi = philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, 0xa4093822u, 0x299f31d0u);
  CHECK(pi == (PhiloxBlock{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
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
  // Any sub-range is the same numbers: normal k depends only on k.
  std::vector<float> part(37);
  fill_normals(stream, 1001, part.size(), part.data());
  for (size_t k = 0; k < part.size(); ++k) CHECK(part[k] == z[1001 + k]);
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

TEST(fast_normal_transform_matches_double_precision) {
  UniformIntegers uniform(RngStream{8, 0, 0, Purpose::kNoise});
  double worst = 0;
  for (int n = 0; n < 200000; ++n) {
    const uint32_t a = uint32_t(uniform.below(1ull << 32)), b = uint32_t(uniform.below(1ull << 32));
    float z0, z1;
    normal_pair(a, b, z0, z1);
    const double u = ((a >> 8) + 1) / 16777216.0, v = (b >> 8) / 16777216.0;
    const double r = std::sqrt(-2.0 * std::log(u)), angle = 2 * 3.14159265358979323846 * v;
    worst = std::max({worst, std::abs(z0 - r * std::cos(angle)) / (1 + r), std::abs(z1 - r * std::sin(angle)) / (1 + r)});
  }
  CHECK(worst < 2e-6);
  // The extremes of the uniform words stay finite.
  float z0, z1;
  normal_pair(0, 0xFFFFFFFFu, z0, z1);
  CHECK(std::isfinite(z0) && std::isfinite(z1) && z0 > 5.0f);
}

TEST(lane_wise_philox_equals_the_reference_function) {
  const RngStream stream{0x123456789abcdefull, 0x1122334455ull, 3, Purpose::kNoise};
  uint32_t a[128], b[128];
  philox_blocks(stream, 1000, 64, a, b);
  for (uint32_t i = 0; i < 64; ++i) {
    const PhiloxBlock r = stream.block(1000 + i);
    CHECK(a[2 * i] == r[0] && b[2 * i] == r[1] && a[2 * i + 1] == r[2] && b[2 * i + 1] == r[3]);
  }
}
