// The statistics of the randomness that training actually uses, measured on real networks: the
// fixed signs, the initial magnitudes, the update noise and the reactivations.
//
// The seeds are fixed, so every test is deterministic; each threshold is set where a correct
// implementation would exceed it with probability about 1e-6 (stated with each check, with the
// value this seed reaches), far from where the defect it targets lands.
#include <algorithm>
#include <cmath>
#include <vector>

#include "check.hpp"
#include "mlp.hpp"
#include "network.hpp"
#include "random.hpp"
#include "training.hpp"

using namespace deepr;
using deepr_test::MlpLayer;
using deepr_test::mlp_layers;

namespace {

// |z| above this has two-sided normal probability 5.7e-7.
constexpr double kNormalBound = 5.0;
// Chi-square with 1 degree of freedom exceeds this with probability 1e-6 (4.8916^2).
constexpr double kChiSquare1Bound = 23.93;
// sqrt(n) times the Kolmogorov-Smirnov distance above this has probability 9.3e-7 (asymptotic
// Kolmogorov distribution).
constexpr double kKolmogorovBound = 2.7;

// The upper 1e-6 quantile of chi-square with `df` degrees of freedom, by Wilson-Hilferty: above
// the exact quantile by less than 1.2 % from 20 degrees of freedom up (15 % at 1: see below).
double chi_square_bound(double df) {
  const double z = 4.753424, c = 2.0 / (9.0 * df);  // z: the upper 1e-6 normal quantile
  return df * std::pow(1.0 - c + z * std::sqrt(c), 3.0);
}

// sqrt(n) times the largest distance between the empirical CDF of `sample` and `cdf`.
template <class Cdf>
double kolmogorov_smirnov(std::vector<double> sample, Cdf cdf) {
  std::sort(sample.begin(), sample.end());
  const double n = double(sample.size());
  double d = 0;
  for (size_t i = 0; i < sample.size(); ++i) {
    const double f = cdf(sample[i]);
    d = std::max({d, f - i / n, (i + 1) / n - f});
  }
  return std::sqrt(n) * d;
}

// Every position's sign in a layer: +1 or -1, by position (dormant positions 0).
std::vector<int> signs_by_position(const deepr_test::MlpLayer& layer) {
  std::vector<int> sign(layer.positions(), 0);
  for (uint32_t out = 0; out < layer.n_out; ++out)
    for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k)
      sign[layer.position_of(k, out)] = (layer.source[k] & kSignBit) ? -1 : 1;
  return sign;
}

}  // namespace

TEST(signs_are_half_negative_per_layer_and_independent_between_layers) {
  // Full 64 x 64 layers: every position is active in every layer, so a position's signs in two
  // layers can be compared. Measured: |z| at most 0.9 over the three layers and the three pairs.
  Network net(deepr_test::mlp_spec({{64, 64, 64, 64}, {4096, 4096, 4096}, false, false, false, GlobalShare::kByBudget, 21}));
  std::vector<std::vector<int>> signs;
  for (const MlpLayer& layer : mlp_layers(net)) signs.push_back(signs_by_position(layer));
  const double n = 4096;
  for (const std::vector<int>& sign : signs) {
    const double negative = double(std::count(sign.begin(), sign.end(), -1));
    CHECK(std::abs(negative - n / 2) / std::sqrt(n / 4) < kNormalBound);
  }
  // Independent layers agree on half the positions; signs that ignore the layer agree on all.
  for (size_t a = 0; a < signs.size(); ++a)
    for (size_t b = a + 1; b < signs.size(); ++b) {
      double agree = 0;
      for (size_t p = 0; p < signs[a].size(); ++p) agree += signs[a][p] == signs[b][p];
      CHECK(std::abs(agree - n / 2) / std::sqrt(n / 4) < kNormalBound);
    }
}

TEST(initial_theta_is_half_normal_over_sqrt_fan_in) {
  // theta sqrt(n_in) against the CDF of |N(0, 1)|, erf(x / sqrt 2), layer by layer: the layers
  // have different fan-ins, so a wrong scale in any of them shows. Measured: at most 0.95.
  Network net(deepr_test::mlp_spec({{784, 300, 100, 10}, {20000, 6000, 1000}, false, false, false, GlobalShare::kByBudget, 8}));
  for (const MlpLayer& layer : mlp_layers(net)) {
    std::vector<double> scaled;
    for (float t : layer.theta) scaled.push_back(t * std::sqrt(double(layer.n_in)));
    CHECK(kolmogorov_smirnov(scaled, [](double x) { return std::erf(x / std::sqrt(2.0)); }) < kKolmogorovBound);
  }
}

TEST(update_noise_has_the_set_std_and_is_fresh_per_step_and_layer) {
  // Training steps on a zero input: no weight gradient reaches any layer (no biases), so with
  // alpha = 0 each theta moves by exactly noise_std * nu. Every theta is reset to 1 before each
  // step (nothing dies, slots stay put), so nu = (theta - 1) / noise_std, to within 6e-6. The
  // layers hold more slots than one noise chunk of the sweep (4096).
  const uint32_t steps = 4, layers = 3, slots = 5000;
  Network net(deepr_test::mlp_spec({{100, 100, 100, 100}, {slots, slots, slots}, false, false, false, GlobalShare::kByBudget, 3}));
  const std::vector<float> zero(100, 0.0f);
  const std::vector<int32_t> label{0};
  const std::vector<uint32_t> row{0};
  const float noise_std = 0.01f;
  std::vector<std::vector<double>> nu;  // one sequence per (step, layer)
  StepStats stats;
  for (uint32_t s = 0; s < steps; ++s) {
    for (MlpLayer layer : mlp_layers(net)) std::fill(layer.theta.begin(), layer.theta.end(), 1.0f);
    net.train_step(zero.data(), label.data(), row.data(), 1, StepHyper{0.1f, 0.0f, noise_std, 0.0f}, stats);
    for (uint32_t l = 0; l < layers; ++l) {
      const MlpLayer layer = mlp_layers(net)[l];
      CHECK(layer.active() == slots);
      nu.emplace_back();
      for (float t : layer.theta) nu.back().push_back((double(t) - 1.0) / noise_std);
      // Slot k's noise is normal k of the stream (seed, step, layer, noise): exactly addressed.
      std::vector<float> stream(slots);
      fill_normals(RngStream{3, s, l, Purpose::kNoise}, 0, slots, stream.data());
      double worst = 0;
      for (uint32_t k = 0; k < slots; ++k) worst = std::max(worst, std::abs(nu.back()[k] - stream[k]));
      CHECK(worst < 2e-5);  // the rounding of theta near 1: measured 6.1e-6
    }
  }
  // Pooled, N(0, 1): the mean, the variance (the std is noise_std itself) and the whole
  // distribution. Measured: mean z 1.7, variance z -0.2, KS 1.53.
  std::vector<double> all;
  for (const std::vector<double>& v : nu) all.insert(all.end(), v.begin(), v.end());
  const double n = double(all.size());
  double sum = 0, squares = 0;
  for (double v : all) {
    sum += v;
    squares += v * v;
  }
  CHECK(std::abs(sum) / std::sqrt(n) < kNormalBound);
  CHECK(std::abs(squares - n) / std::sqrt(2 * n) < kNormalBound);
  CHECK(kolmogorov_smirnov(all, [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }) < kKolmogorovBound);
  // Slot k's noise in one (step, layer) against slot k's in another: uncorrelated, sqrt(slots) r
  // about N(0, 1). A stream shared by layers, or not renewed each step, gives r = 1. Over the
  // 66 pairs the bound 5.5 (3.8e-8 each) keeps the false-alarm probability at 2.5e-6.
  // Measured: at most 2.6.
  for (size_t a = 0; a < nu.size(); ++a)
    for (size_t b = a + 1; b < nu.size(); ++b) {
      double ab = 0, aa = 0, bb = 0;
      for (uint32_t k = 0; k < slots; ++k) {
        ab += nu[a][k] * nu[b][k];
        aa += nu[a][k] * nu[a][k];
        bb += nu[b][k] * nu[b][k];
      }
      CHECK(std::abs(ab / std::sqrt(aa * bb)) * std::sqrt(double(slots)) < 5.5);
    }
  CHECK(nu.size() == steps * layers);
}

namespace {

// Over many steps of real training, how often each position was reactivated against how often
// it would be if each step's new connections were a uniform subset of the positions dormant at
// regrowth; and how the new connections split between layers against the documented share.
struct ReactivationTally {
  std::vector<std::vector<double>> observed, expected;  // per layer, per position
  std::vector<double> layer_observed, layer_expected;   // per layer
  bool room_left = true;  // every layer kept a dormant position in every step (kByBudget's shares)
};

ReactivationTally tally_reactivations(const deepr_test::MlpConfig& spec, int steps) {
  Network net(deepr_test::mlp_spec(spec));
  const size_t n = mlp_layers(net).size();
  ReactivationTally tally;
  for (const MlpLayer& layer : mlp_layers(net)) {
    tally.observed.emplace_back(layer.positions(), 0.0);
    tally.expected.emplace_back(layer.positions(), 0.0);
  }
  tally.layer_observed.assign(n, 0.0);
  tally.layer_expected.assign(n, 0.0);

  const uint32_t features = spec.sizes.front(), classes = spec.sizes.back(), count = 64, batch = 8;
  std::vector<float> inputs(count * features);
  std::vector<int32_t> labels(count);
  for (uint32_t s = 0; s < count; ++s) {
    labels[s] = int32_t(s % classes);
    for (uint32_t i = 0; i < features; ++i) inputs[s * features + i] = float(std::cos(s * 0.7 + i * 1.1) + (i % classes == s % classes));
  }
  const std::vector<uint32_t> order = epoch_order(spec.seed, 0, count);
  double budget_sum = 0;
  for (uint64_t k : spec.budgets) budget_sum += double(k);
  StepStats stats;
  for (int step = 0; step < steps; ++step) {
    net.train_step(inputs.data(), labels.data(), order.data() + (step * batch) % count, batch, StepHyper{0.2f, 1e-2f, 0.3f, 0.0f}, stats);
    // A connection activated in this step sits at exactly theta = 0; every other active one has
    // been through the update (noise included) and survived it. The positions dormant at
    // regrowth are all but the survivors.
    std::vector<std::vector<char>> survived(n);
    std::vector<double> born(n, 0.0), dormant(n, 0.0);
    double deficit = 0, room = 0;
    for (size_t l = 0; l < n; ++l) {
      const MlpLayer layer = mlp_layers(net)[l];
      survived[l].assign(layer.positions(), 0);
      for (uint32_t out = 0; out < layer.n_out; ++out)
        for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k) {
          const uint64_t p = layer.position_of(k, out);
          if (layer.theta[k] == 0.0f) {
            born[l] += 1;
            tally.observed[l][p] += 1;
          } else {
            survived[l][p] = 1;
          }
        }
      dormant[l] = double(layer.positions()) - double(layer.active() - uint64_t(born[l]));
      tally.room_left &= dormant[l] > born[l];
      deficit += born[l];
      room += dormant[l];
    }
    for (size_t l = 0; l < n; ++l) {
      for (uint64_t p = 0; p < survived[l].size(); ++p)
        if (!survived[l][p]) tally.expected[l][p] += born[l] / dormant[l];
      tally.layer_observed[l] += born[l];
      tally.layer_expected[l] += !spec.global_budget ? born[l]
                                 : spec.share == GlobalShare::kByBudget ? deficit * double(spec.budgets[l]) / budget_sum
                                                                        : deficit * dormant[l] / room;
    }
  }
  CHECK(net.check().empty());
  return tally;
}

// Pearson's statistic over the cells with a nonzero expectation, its degrees of freedom, and the
// largest |observed - expected| / sqrt(expected) over cells expecting at least 10.
struct Fit {
  double chi2 = 0, df = -1, worst = 0;
};

Fit fit(const std::vector<double>& observed, const std::vector<double>& expected) {
  Fit f;
  for (size_t c = 0; c < observed.size(); ++c) {
    if (expected[c] == 0) {
      CHECK(observed[c] == 0);
      continue;
    }
    const double d = observed[c] - expected[c];
    f.chi2 += d * d / expected[c];
    f.df += 1;
    if (expected[c] >= 10) f.worst = std::max(f.worst, std::abs(d) / std::sqrt(expected[c]));
  }
  return f;
}

// Each layer's reactivations against uniform subsets of its dormant positions: Pearson's
// statistic (a new connection per step is drawn without replacement, which only narrows its
// spread, so the chi-square bound is conservative), and the single worst position, which a
// position never drawn (a range off by one) fails alone. 5.5 for the worst of 64 positions keeps
// the false-alarm probability at 2.4e-6.
void check_uniform_within_layers(const ReactivationTally& tally) {
  for (size_t l = 0; l < tally.observed.size(); ++l) {
    double total = 0;
    for (double o : tally.observed[l]) total += o;
    CHECK(total > 3000);  // enough reactivations for the bounds to mean something
    const Fit f = fit(tally.observed[l], tally.expected[l]);
    CHECK(f.chi2 < chi_square_bound(f.df));
    CHECK(f.worst < 5.5);
  }
}

}  // namespace

TEST(reactivations_are_uniform_over_dormant_positions_in_training_per_layer_budget) {
  // Layer 0 is a quarter full (regrowth by rejection), layer 1 three quarters (by enumeration).
  // Measured: chi-square 74.1 and 20.3 for 63 and 31 degrees of freedom (bounds 131.7 and 84.2),
  // worst positions 2.5 and 1.6.
  const ReactivationTally tally = tally_reactivations({{8, 8, 4}, {16, 24}, false, false, false, GlobalShare::kByBudget, 17}, 8000);
  check_uniform_within_layers(tally);
}

TEST(reactivations_are_uniform_over_dormant_positions_in_training_global_budget) {
  // One budget for both layers, shared by budget (multinomial, 16 : 24, while every layer has
  // room) or by dormant positions (hypergeometric: narrower than the chi-square assumes).
  // Measured, by budget then by dormant positions: chi-square 2.0 and 0.01 between the layers
  // (bound 23.9), at most 85.6 for 63 degrees of freedom within a layer (bound 131.7), worst
  // position 3.5.
  for (const GlobalShare share : {GlobalShare::kByBudget, GlobalShare::kByDormant}) {
    const ReactivationTally tally = tally_reactivations({{8, 8, 8}, {16, 24}, false, false, true, share, 23}, 8000);
    check_uniform_within_layers(tally);
    CHECK(tally.room_left);
    const Fit between = fit(tally.layer_observed, tally.layer_expected);
    CHECK(between.df == 1);
    CHECK(between.chi2 < kChiSquare1Bound);
  }
}
