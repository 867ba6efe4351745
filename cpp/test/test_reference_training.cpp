// Training steps of the core against the independent float64 reference of reference_deepr.hpp,
// compared after initialisation and after every step: the active set exactly, the sign of every
// connection exactly, theta, velocity and biases within float32 rounding, and the number of
// connections regrown per layer exactly.
#include <cmath>
#include <string>
#include <vector>

#include "check.hpp"
#include "counter_uniform.hpp"
#include "mlp.hpp"
#include "network.hpp"
#include "reference_deepr.hpp"

using deepr_test::MlpLayer;
using deepr_test::mlp_layers;
using deepr_test::uniform;
using deepr_test::uniform_double;

namespace ref = deepr_reference;

namespace {

// 24 - 20 - 12 - 5: the first two layers sparse (regrowth by rejection), the last more than half
// full (regrowth by enumeration, and so is its initialisation).
const std::vector<uint32_t> kSizes{24, 20, 12, 5};
const std::vector<uint64_t> kBudgets{96, 72, 40};
constexpr uint32_t kSamples = 300, kSteps = 30;
// lr * alpha, the noise and the gradient steps are all far above the tolerances below, so each
// term, in each layer and at each step, is seen on its own.
constexpr float kLr = 0.05f, kAlpha = 0.02f, kNoiseStd = 0.003f, kMomentum = 0.9f;

// float32 against float64, for theta, velocities, biases and the loss: relative, plus a floor
// for values near zero. Over 30 steps the measured differences stay below 7.4e-7 absolute, and
// 7e-6 relative for values above 0.01.
constexpr double kRelative = 1e-5, kAbsolute = 2e-6;
// Within this of zero after an update (well above any difference the tolerance allows), float32
// and float64 may disagree on whether a connection died; the reference then follows the core for
// that connection (counted, and rare).
constexpr double kNearZero = 1e-5;

struct DataSet {
  std::vector<float> inputs;
  std::vector<int32_t> labels;
};

// Inputs in [-1, 1); labels from a fixed random linear teacher, so the gradients carry some structure.
DataSet make_data() {
  const uint32_t features = kSizes.front(), classes = kSizes.back();
  DataSet data{std::vector<float>(size_t(kSamples) * features), std::vector<int32_t>(kSamples)};
  for (uint32_t s = 0; s < kSamples; ++s) {
    double best = -INFINITY;
    for (uint32_t c = 0; c < classes; ++c) {
      double score = 0;
      for (uint32_t i = 0; i < features; ++i) {
        const double x = data.inputs[size_t(s) * features + i] = uniform(uint64_t(s) * features + i);
        score += x * uniform_double(1000000 + uint64_t(c) * features + i);
      }
      if (score > best) {
        best = score;
        data.labels[s] = int32_t(c);
      }
    }
  }
  return data;
}

struct Case {
  uint32_t batch;
  bool bias;
  bool momentum;
  ref::Budget budget;
  uint64_t seed;
};

std::string describe(const Case& c) {
  const char* budget = c.budget == ref::Budget::kPerLayer          ? "per layer"
                       : c.budget == ref::Budget::kGlobalByBudget ? "global by budget"
                                                                  : "global by dormant";
  return "batch " + std::to_string(c.batch) + (c.bias ? ", biases" : ", no biases") +
         (c.momentum ? ", momentum" : ", SGD") + ", budget " + budget + ", seed " + std::to_string(c.seed);
}

bool close_enough(double core, double reference) {
  return std::abs(core - reference) <= kRelative * std::abs(reference) + kAbsolute;
}

// Compares every layer of the core with the reference: first the values of the connections active
// in both and the biases, then the active sets (values first, so that a wrong update is reported
// as such rather than through the connections it kills). Records the first difference and returns
// false (later differences follow from it).
bool same_state(const deepr::Network& net, const ref::ReferenceDeepR& reference, const std::string& where) {
  const auto fail = [&](size_t l, const std::string& what) {
    deepr_test::fail(__FILE__, __LINE__, where + ", layer " + std::to_string(l) + ": " + what);
    return false;
  };
  for (size_t l = 0; l < mlp_layers(net).size(); ++l) {
    const deepr_test::MlpLayer core = mlp_layers(net)[l];
    const ref::Layer& expected = reference.layers()[l];
    for (uint32_t out = 0; out < core.n_out; ++out) {
      for (uint32_t k = core.row_start[out]; k < core.row_start[out + 1]; ++k) {
        const uint64_t p = core.position_of(k, out);
        const std::string at = "position " + std::to_string(p);
        if (!expected.active[p]) continue;
        if (((core.source[k] & deepr::kSignBit) != 0) != (expected.sign[p] < 0)) return fail(l, at + ": sign differs");
        if (!close_enough(core.theta[k], expected.theta[p]))
          return fail(l, at + ": theta " + std::to_string(core.theta[k]) + ", reference " + std::to_string(expected.theta[p]));
        if (core.has_momentum() && !close_enough(core.velocity[k], expected.velocity[p]))
          return fail(l, at + ": velocity " + std::to_string(core.velocity[k]) + ", reference " +
                             std::to_string(expected.velocity[p]));
      }
    }
    for (uint32_t out = 0; out < core.bias.size(); ++out) {
      if (!close_enough(core.bias[out], expected.bias[out]))
        return fail(l, "bias " + std::to_string(out) + ": " + std::to_string(core.bias[out]) + ", reference " +
                           std::to_string(expected.bias[out]));
      if (!core.bias_velocity.empty() && !close_enough(core.bias_velocity[out], expected.bias_velocity[out]))
        return fail(l, "bias velocity " + std::to_string(out) + ": " + std::to_string(core.bias_velocity[out]) +
                           ", reference " + std::to_string(expected.bias_velocity[out]));
    }
  }
  for (size_t l = 0; l < mlp_layers(net).size(); ++l) {
    const deepr_test::MlpLayer core = mlp_layers(net)[l];
    const ref::Layer& expected = reference.layers()[l];
    if (core.active() != expected.active_count())
      return fail(l, std::to_string(core.active()) + " active connections, reference " +
                         std::to_string(expected.active_count()));
    for (uint32_t out = 0; out < core.n_out; ++out)
      for (uint32_t k = core.row_start[out]; k < core.row_start[out + 1]; ++k)
        if (!expected.active[core.position_of(k, out)])
          return fail(l, "position " + std::to_string(core.position_of(k, out)) + " is active, dormant in the reference");
  }
  return true;
}

// Where the reference's theta is within kNearZero of zero, takes the core's outcome for that
// connection: dead when the core has no slot for it or one at exactly 0 (regrown in the same step),
// otherwise its theta and velocity. Returns how many connections it settled.
uint64_t follow_core_near_zero(const deepr::Network& net, ref::ReferenceDeepR& reference) {
  uint64_t settled = 0;
  for (uint32_t l = 0; l < mlp_layers(net).size(); ++l) {
    const deepr_test::MlpLayer core = mlp_layers(net)[l];
    ref::Layer& layer = reference.layers()[l];
    for (uint64_t p : reference.near_zero(l, kNearZero)) {
      ++settled;
      layer.active[p] = false;
      const uint32_t out = uint32_t(p / core.n_in);
      for (uint32_t k = core.row_start[out]; k < core.row_start[out + 1]; ++k) {
        if (core.position_of(k, out) != p || core.theta[k] == 0.0f) continue;
        CHECK(close_enough(core.theta[k], layer.theta[p]));  // alive in the core, and still near zero
        layer.active[p] = true;
        layer.theta[p] = core.theta[k];
        if (core.has_momentum()) layer.velocity[p] = core.velocity[k];
      }
    }
  }
  return settled;
}

struct Outcome {
  bool complete = false;          // every step compared equal
  std::vector<uint64_t> regrown;  // per layer, over all steps
  uint32_t steps_with_regrowth = 0;
  uint64_t settled = 0;  // near-zero outcomes taken from the core
  uint64_t updates = 0;  // connection updates compared
};

// Initialisation and kSteps steps of one case; stops at the first difference.
Outcome run_case(const Case& c, const DataSet& data) {
  const deepr::GlobalShare share =
      c.budget == ref::Budget::kGlobalByDormant ? deepr::GlobalShare::kByDormant : deepr::GlobalShare::kByBudget;
  const bool global = c.budget != ref::Budget::kPerLayer;
  deepr::Network net(deepr_test::mlp_spec(kSizes, kBudgets, c.bias, c.momentum, global, share, c.seed));
  ref::ReferenceDeepR reference(ref::Config{kSizes, kBudgets, c.bias, c.momentum, c.budget, c.seed});
  Outcome outcome;
  outcome.regrown.assign(kBudgets.size(), 0);
  const std::string name = describe(c);
  if (!same_state(net, reference, name + ", initial state")) return outcome;

  const deepr::StepHyper hyper{kLr, kAlpha, kNoiseStd, c.momentum ? kMomentum : 0.0f};
  const ref::Hyper reference_hyper{kLr, kAlpha, kNoiseStd, c.momentum ? kMomentum : 0.0f};
  const uint32_t features = kSizes.front();
  std::vector<uint32_t> rows(c.batch);
  std::vector<double> inputs(size_t(c.batch) * features);
  std::vector<int32_t> labels(c.batch);
  deepr::StepStats stats;
  for (uint32_t step = 0; step < kSteps; ++step) {
    for (uint32_t b = 0; b < c.batch; ++b) {
      rows[b] = uint32_t((uint64_t(step) * c.batch * 7 + uint64_t(b) * 13) % kSamples);
      labels[b] = data.labels[rows[b]];
      for (uint32_t i = 0; i < features; ++i)
        inputs[size_t(b) * features + i] = data.inputs[size_t(rows[b]) * features + i];
    }
    for (const deepr_test::MlpLayer& layer : mlp_layers(net)) outcome.updates += layer.active();
    net.train_step(data.inputs.data(), data.labels.data(), rows.data(), c.batch, hyper, stats);
    const double loss = reference.update(inputs, labels, c.batch, reference_hyper);
    outcome.settled += follow_core_near_zero(net, reference);
    const std::vector<uint64_t> regrown = reference.regrow();

    const std::string where = name + ", after step " + std::to_string(step);
    CHECK(net.check().empty());
    if (!close_enough(stats.loss.loss_sum, loss)) {
      deepr_test::fail(__FILE__, __LINE__,
                       where + ": loss " + std::to_string(stats.loss.loss_sum) + ", reference " + std::to_string(loss));
      return outcome;
    }
    if (!same_state(net, reference, where)) return outcome;
    if (stats.rewired != regrown) {
      deepr_test::fail(__FILE__, __LINE__, where + ": connections regrown per layer differ from the reference");
      return outcome;
    }
    uint64_t regrown_now = 0;
    for (size_t l = 0; l < regrown.size(); ++l) {
      outcome.regrown[l] += regrown[l];
      regrown_now += regrown[l];
    }
    outcome.steps_with_regrowth += regrown_now > 0;
  }
  outcome.complete = true;
  return outcome;
}

}  // namespace

TEST(training_steps_match_the_float64_reference) {
  const DataSet data = make_data();
  // Batches of 5 and 40 (one and three 16-sample vectors), 70 and 100 (past the kernels' unrolled
  // widths up to 64); biases on and off; each budget mode; momentum everywhere but one SGD case.
  std::vector<Case> cases;
  uint64_t seed = 1;
  for (uint32_t batch : {5u, 40u, 70u, 100u})
    for (ref::Budget budget : {ref::Budget::kPerLayer, ref::Budget::kGlobalByBudget, ref::Budget::kGlobalByDormant})
      for (bool bias : {false, true}) cases.push_back(Case{batch, bias, true, budget, seed++});
  cases.push_back(Case{70, true, false, ref::Budget::kPerLayer, seed++});

  uint64_t settled = 0, updates = 0;
  for (const Case& c : cases) {
    const Outcome outcome = run_case(c, data);
    if (outcome.complete) {
      // Regrowth in most steps and in every layer, so regrown positions are compared too.
      CHECK(outcome.steps_with_regrowth >= kSteps / 2);
      for (uint64_t regrown : outcome.regrown) CHECK(regrown > 0);
    }
    settled += outcome.settled;
    updates += outcome.updates;
  }
  // Outcomes taken from the core are rare (29 of 156,000 updates).
  if (settled * 1000 >= updates)
    deepr_test::fail(__FILE__, __LINE__, std::to_string(settled) + " of " + std::to_string(updates) +
                                             " updates ended within 1e-5 of zero: too many to compare");
}
