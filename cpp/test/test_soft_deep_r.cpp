// soft-DEEP R (Algorithm 2): whole training steps against a float64 reference that keeps a theta
// for every position, the rule's invariants after every step with each optimiser, the
// connectivity the prior alone settles at (the theta_min rule of thumb), and a copy of the stores
// continuing bit for bit.
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "check.hpp"
#include "counter_uniform.hpp"
#include "mlp.hpp"
#include "network.hpp"
#include "reference_deepr.hpp"

using namespace deepr;
using deepr_test::mlp_layers;

namespace {

// An MLP without biases trained by soft-DEEP R with `beta`; budgets set the target connectivity p0.
NetworkSpec soft_spec(const std::vector<uint32_t>& sizes, const std::vector<uint64_t>& budgets, const std::string& optimiser,
                      double beta, uint64_t seed) {
  NetworkSpec spec = deepr_test::mlp_spec(sizes, budgets, false, false, false, GlobalShare::kByBudget, seed);
  spec.rule.optimiser = optimiser;
  spec.rule.structure = "soft-deep-r";
  spec.rule.settings = {{"beta", beta}};
  return spec;
}

std::vector<float> uniform_inputs(size_t count, uint64_t salt) {
  std::vector<float> x(count);
  for (size_t n = 0; n < count; ++n) x[n] = deepr_test::uniform(salt + n);
  return x;
}

std::vector<int32_t> labels_for(uint32_t samples, uint32_t classes, uint64_t salt) {
  std::vector<int32_t> labels(samples);
  for (uint32_t s = 0; s < samples; ++s) labels[s] = int32_t(deepr_test::mix(salt + s) % classes);
  return labels;
}

// Trains `net` for `steps` batches of `batch` consecutive samples (wrapping), checking every invariant after each.
void train_checked(Network& net, const std::vector<float>& inputs, const std::vector<int32_t>& labels, uint32_t batch,
                   uint32_t steps, const StepHyper& hyper) {
  const uint32_t samples = uint32_t(labels.size());
  std::vector<uint32_t> rows(batch);
  for (uint32_t t = 0; t < steps; ++t) {
    for (uint32_t b = 0; b < batch; ++b) rows[b] = (t * batch + b) % samples;
    StepStats stats;
    net.train_step(inputs.data(), labels.data(), rows.data(), batch, hyper, stats);
    const std::string problem = net.check();
    if (!problem.empty()) {
      deepr_test::fail(__FILE__, __LINE__, "step " + std::to_string(t) + ": " + problem);
      return;
    }
  }
}

double theta_min(double p0, double beta) { return -(1.0 - p0) / (p0 * beta); }

// Algorithm 2 on the reference's dense theta (its update touches only active positions, so the
// dormant ones keep their own theta there): the walk of the positions dormant before the step,
// the clip of those that died in it, and the activation of every dormant theta >= 0.
void soft_structure(deepr_reference::Layer& layer, const std::vector<bool>& active_before, uint64_t seed, uint64_t step,
                    uint32_t store, double noise_std, double floor) {
  const deepr_reference::Stream walk{seed, step, store, deepr_reference::kDormantNoise};
  for (uint64_t p = 0; p < layer.positions(); ++p) {
    if (!active_before[p]) layer.theta[p] = std::max(layer.theta[p] + noise_std * deepr_reference::normal(walk, p), floor);
    else if (!layer.active[p]) layer.theta[p] = std::max(layer.theta[p], floor);
  }
  for (uint64_t p = 0; p < layer.positions(); ++p)
    if (!active_before[p] && layer.theta[p] >= 0.0) {
      layer.active[p] = true;
      layer.velocity[p] = 0.0;
    }
}

}  // namespace

TEST(soft_deep_r_matches_a_float64_reference_step_by_step) {
  const std::vector<uint32_t> sizes{6, 5, 3};
  const std::vector<uint64_t> budgets{10, 5};  // p0 = 1/3 in both layers
  const uint64_t seed = 21;
  const double beta = 20;  // theta_min = -0.1
  const StepHyper hyper{0.1f, 0.05f, 0.05f, 0.0f};
  const uint32_t batch = 4, steps = 30;
  Network net(soft_spec(sizes, budgets, "sgd", beta, seed));
  deepr_reference::ReferenceDeepR reference({sizes, budgets, false, false, deepr_reference::Budget::kPerLayer, seed});
  // The reference's initial dormant theta: uniform in [theta_min, 0) from stream (0, store, 10).
  for (uint32_t l = 0; l < 2; ++l) {
    deepr_reference::Layer& layer = reference.layers()[l];
    const double floor = theta_min(double(budgets[l]) / double(layer.positions()), beta);
    for (uint64_t p = 0; p < layer.positions(); ++p)
      if (!layer.active[p])
        layer.theta[p] = floor * double(16777216u - (deepr_reference::Stream{seed, 0, l, deepr_reference::kDormantInit}.block(
                                                         uint32_t(p))[0] >> 8)) / 16777216.0;
  }
  const std::vector<float> inputs = uniform_inputs(size_t(batch) * steps * sizes[0], 100);
  const std::vector<int32_t> labels = labels_for(batch * steps, sizes.back(), 9000);
  uint64_t reactivated = 0, died = 0;
  for (uint32_t t = 0; t < steps; ++t) {
    std::vector<uint32_t> rows(batch);
    for (uint32_t b = 0; b < batch; ++b) rows[b] = t * batch + b;
    StepStats stats;
    net.train_step(inputs.data(), labels.data(), rows.data(), batch, hyper, stats);
    CHECK(net.check().empty());

    std::vector<double> x(inputs.begin() + std::ptrdiff_t(t) * batch * sizes[0], inputs.begin() + std::ptrdiff_t(t + 1) * batch * sizes[0]);
    std::vector<int32_t> y(labels.begin() + std::ptrdiff_t(t) * batch, labels.begin() + std::ptrdiff_t(t + 1) * batch);
    std::vector<std::vector<bool>> before;
    for (const deepr_reference::Layer& layer : reference.layers()) before.push_back(layer.active);
    reference.update(x, y, batch, {hyper.lr, hyper.alpha, hyper.noise_std, 0.0});
    for (uint32_t l = 0; l < 2; ++l) {
      deepr_reference::Layer& layer = reference.layers()[l];
      for (uint64_t p = 0; p < layer.positions(); ++p) died += before[l][p] && !layer.active[p];
      soft_structure(layer, before[l], seed, t, l, hyper.noise_std, theta_min(double(budgets[l]) / double(layer.positions()), beta));
      for (uint64_t p = 0; p < layer.positions(); ++p) reactivated += !before[l][p] && layer.active[p];
    }
    reference.end_step();

    for (uint32_t l = 0; l < 2; ++l) {
      const deepr_test::MlpLayer core = mlp_layers(net)[l];
      const deepr_reference::Layer& ref = reference.layers()[l];
      std::vector<double> theta(ref.positions(), NAN);
      std::vector<bool> active(ref.positions(), false);
      for (uint32_t out = 0; out < core.n_out; ++out)
        for (uint32_t k = core.row_start[out]; k < core.row_start[out + 1]; ++k) {
          active[core.position_of(k, out)] = true;
          theta[core.position_of(k, out)] = core.theta[k];
        }
      CHECK(core.weight.dormant_theta.size() == ref.positions());
      for (uint64_t p = 0; p < ref.positions(); ++p) {
        CHECK(active[p] == ref.active[p]);
        const double core_theta = active[p] ? theta[p] : double(core.weight.dormant_theta[p]);
        CHECK_NEAR(core_theta, ref.theta[p], 2e-5);
      }
    }
  }
  CHECK(died > 10);  // the run exercised both directions
  CHECK(reactivated > 10);
}

TEST(soft_deep_r_keeps_its_invariants_and_moves_k_with_every_optimiser) {
  const std::vector<float> inputs = uniform_inputs(64 * 12, 500);
  const std::vector<int32_t> labels = labels_for(64, 4, 700);
  for (const char* optimiser : {"sgd", "momentum", "adam"}) {
    Network net(soft_spec({12, 10, 4}, {30, 12}, optimiser, 20, 3));
    StepHyper hyper{0.05f, 0.05f, 0.05f, 0.9f};
    hyper.beta1 = 0.9f;
    hyper.beta2 = 0.999f;
    uint64_t differed = 0;
    for (int chunk = 0; chunk < 10; ++chunk) {
      train_checked(net, inputs, labels, 8, 10, hyper);
      for (const SparseStore* store : net.sparse_stores()) differed += store->active() != store->budget;
    }
    CHECK(differed > 0);  // no hard bound: K moves
  }
}

TEST(soft_deep_r_settles_at_the_target_connectivity_under_the_prior_alone) {
  // All-zero inputs: every weight gradient is zero, so theta follows the prior alone, whose active
  // mass is p0 by the choice of theta_min (Bellec et al. 2018, sec. 2: the exponential on theta >= 0,
  // flat on [theta_min, 0)). beta = 2 eta alpha / std^2 = 20; layer 0 p0 = 0.25, layer 1 p0 = 0.5.
  const std::vector<uint32_t> sizes{40, 25, 8};
  Network net(soft_spec(sizes, {250, 100}, "sgd", 20, 17));
  const StepHyper hyper{0.1f, 0.01f, 0.01f, 0.0f};
  const std::vector<float> inputs(size_t(16) * sizes[0], 0.0f);
  const std::vector<int32_t> labels = labels_for(16, sizes.back(), 40);
  const uint32_t burn_in = 1000, measured = 3000;
  train_checked(net, inputs, labels, 16, burn_in, hyper);
  std::vector<double> sum(2, 0.0);
  for (uint32_t t = 0; t < measured; ++t) {
    train_checked(net, inputs, labels, 16, 1, hyper);
    for (size_t s = 0; s < 2; ++s) sum[s] += double(net.sparse_stores()[s]->active()) / double(net.sparse_stores()[s]->positions());
  }
  CHECK_NEAR(sum[0] / measured, 0.25, 0.03);
  CHECK_NEAR(sum[1] / measured, 0.5, 0.05);
}

TEST(soft_deep_r_continues_bit_for_bit_from_a_copy_of_its_stores) {
  const std::vector<float> inputs = uniform_inputs(32 * 9, 900);
  const std::vector<int32_t> labels = labels_for(32, 3, 950);
  const NetworkSpec spec = soft_spec({9, 7, 3}, {20, 8}, "adam", 20, 5);
  const StepHyper hyper{0.05f, 0.05f, 0.05f, 0.0f};
  Network first(spec), resumed(spec);
  train_checked(first, inputs, labels, 8, 20, hyper);
  for (size_t s = 0; s < first.sparse_stores().size(); ++s) *resumed.sparse_stores()[s] = *first.sparse_stores()[s];
  resumed.set_step(first.step());
  train_checked(first, inputs, labels, 8, 20, hyper);
  train_checked(resumed, inputs, labels, 8, 20, hyper);
  for (size_t s = 0; s < first.sparse_stores().size(); ++s) {
    const SparseStore &a = *first.sparse_stores()[s], &b = *resumed.sparse_stores()[s];
    CHECK(a.source == b.source && a.row_start == b.row_start);
    CHECK(a.theta.size() == b.theta.size() && std::memcmp(a.theta.data(), b.theta.data(), a.theta.size() * 4) == 0);
    CHECK(std::memcmp(a.dormant_theta.data(), b.dormant_theta.data(), a.dormant_theta.size() * 4) == 0);
  }
}

TEST(switching_rules_draws_and_drops_the_dormant_theta) {
  NetworkSpec spec = deepr_test::mlp_spec({6, 4, 3}, {8, 6}, false, false, true, GlobalShare::kByBudget, 2);
  Network net(spec);
  CHECK(net.sparse_stores()[0]->dormant_theta.empty());
  RuleSpec soft;
  soft.structure = "soft-deep-r";
  soft.settings = {{"beta", 20}};
  net.set_rule(soft);
  CHECK(net.check().empty());
  CHECK(net.sparse_stores()[0]->dormant_theta.size() == 24);
  net.set_rule(spec.rule);  // DEEP R with a global budget: no dormant theta kept
  CHECK(net.sparse_stores()[0]->dormant_theta.empty());
  CHECK(net.check().empty());
}

TEST(soft_deep_r_rule_records_are_checked) {
  const NetworkSpec spec = soft_spec({4, 3}, {6}, "sgd", 20, 1);
  const auto refused = [&](RuleSpec rule, const std::string& expected) {
    try {
      parse_rule(rule);
      deepr_test::fail(__FILE__, __LINE__, "accepted: " + expected);
    } catch (const std::invalid_argument& e) {
      if (std::string(e.what()) != expected) deepr_test::fail(__FILE__, __LINE__, std::string("got: ") + e.what() + "\nexpected: " + expected);
    }
  };
  RuleSpec rule = spec.rule;
  rule.settings = {};
  refused(rule, "rule.structure \"soft-deep-r\" needs rule.beta (it takes beta)");
  rule.settings = {{"beta", 0}};
  refused(rule, "rule.beta must be in [1e-30, 3.4e+38], got 0");
  rule = spec.rule;
  rule.prior = "none";
  refused(rule, "rule.prior \"none\" does not go with rule.structure \"soft-deep-r\": the structure reads theta below 0 as dormant, the prior a "
                "signed weight; use the prior deep-r");
  rule = spec.rule;
  rule.budget = "global";
  refused(rule, "rule.budget \"global\" shares DEEP R's regrowth between stores; rule.structure \"soft-deep-r\" regrows nothing: use rule.budget "
                "\"layer\"");
}
