// Changing the rule between steps: switching from SGD to momentum adds zeroed velocities in place,
// which gives the same bits as moving the state into a network built with momentum (velocities at
// zero), the way lib/ added momentum before the rule could change.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "mlp.hpp"
#include "network.hpp"
#include "refusal.hpp"

using namespace deepr;
using deepr_test::refusal;

namespace {

const std::vector<uint32_t> kSizes{20, 16, 12, 4};
const std::vector<uint64_t> kBudgets{40, 60, 24};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Data {
  std::vector<float> inputs;
  std::vector<int32_t> labels;
};

Data make_data() {
  Data d{std::vector<float>(64 * 20), std::vector<int32_t>(64)};
  for (uint32_t n = 0; n < 64; ++n) {
    d.labels[n] = int32_t(n % 4);
    for (uint32_t i = 0; i < 20; ++i) d.inputs[n * 20 + i] = float(std::cos(n * 0.7 + i * 1.3) + (i % 4 == n % 4));
  }
  return d;
}

void train(Network& net, const Data& d, uint32_t steps, const StepHyper& hyper) {
  StepStats stats;
  for (uint32_t s = 0; s < steps; ++s) {
    std::vector<uint32_t> rows(10);
    for (uint32_t b = 0; b < 10; ++b) rows[b] = (s * 10 + b * 7) % 64;
    net.train_step(d.inputs.data(), d.labels.data(), rows.data(), 10, hyper, stats);
  }
}

}  // namespace

TEST(switching_sgd_to_momentum_equals_a_momentum_network_with_zero_velocities) {
  const Data data = make_data();
  Network switched(deepr_test::mlp_spec(kSizes, kBudgets, true, false, false, GlobalShare::kByBudget, 14));
  train(switched, data, 30, StepHyper{0.1f, 1e-4f, 0.01f, 0.0f});

  // Today's way: a network built with momentum, given the trained state and zero velocities.
  Network rebuilt(deepr_test::mlp_spec(kSizes, kBudgets, true, true, false, GlobalShare::kByBudget, 14));
  const std::vector<deepr_test::MlpLayer> from = deepr_test::mlp_layers(switched), to = deepr_test::mlp_layers(rebuilt);
  for (size_t l = 0; l < from.size(); ++l) {
    StateArrays velocity = to[l].weight.states;
    to[l].weight = from[l].weight;
    to[l].weight.states = velocity;
    keep_states(to[l].weight.states, {"velocity"}, to[l].weight.active());
    std::fill(to[l].weight.states[0].values.begin(), to[l].weight.states[0].values.end(), 0.0f);
    to[l].bias = from[l].bias;
  }
  rebuilt.set_step(switched.step());
  CHECK(rebuilt.check().empty());

  RuleSpec momentum = switched.spec().rule;
  momentum.optimiser = "momentum";
  switched.set_rule(momentum);
  for (const deepr_test::MlpLayer& layer : deepr_test::mlp_layers(switched)) {
    CHECK(layer.velocity == std::vector<float>(layer.active(), 0.0f));
    CHECK(layer.bias_velocity == std::vector<float>(layer.n_out, 0.0f));
  }
  const StepHyper hyper{0.1f, 1e-4f, 0.01f, 0.5f};
  train(switched, data, 40, hyper);
  train(rebuilt, data, 40, hyper);
  bool moved = false;
  const std::vector<deepr_test::MlpLayer> a = deepr_test::mlp_layers(switched), b = deepr_test::mlp_layers(rebuilt);
  for (size_t l = 0; l < a.size(); ++l) {
    CHECK(a[l].row_start == b[l].row_start && a[l].source == b[l].source);
    CHECK(same_bits(a[l].theta, b[l].theta) && same_bits(a[l].velocity, b[l].velocity));
    CHECK(same_bits(a[l].bias, b[l].bias) && same_bits(a[l].bias_velocity, b[l].bias_velocity));
    for (float v : a[l].velocity) moved |= v != 0.0f;
  }
  CHECK(moved);  // the velocities took part
  CHECK(switched.check().empty());
}

TEST(set_rule_refuses_unknown_parts_and_budgets_the_stores_do_not_meet) {
  Network net(deepr_test::mlp_spec(kSizes, kBudgets, false, false, true, GlobalShare::kByBudget, 2));
  const Data data = make_data();
  train(net, data, 200, StepHyper{0.5f, 1e-2f, 0.2f, 0.0f});  // the global budget moves connections between stores
  bool moved = false;
  for (const SparseStore* s : net.sparse_stores()) moved |= s->active() != s->budget;
  CHECK(moved);
  RuleSpec per_layer = net.spec().rule;
  per_layer.budget = "layer";
  bool refused = false;
  try {
    net.set_rule(per_layer);
  } catch (const std::invalid_argument& e) {
    refused = std::string(e.what()).find("active connections, not its budget") != std::string::npos;
  }
  CHECK(refused);
  RuleSpec unknown = net.spec().rule;
  unknown.structure = "none";
  refused = false;
  try {
    net.set_rule(unknown);
  } catch (const std::invalid_argument& e) {
    refused = std::string(e.what()).find("rule.structure is \"none\"") != std::string::npos;
  }
  CHECK(refused);
  CHECK(net.spec().rule.budget == "global" && net.check().empty());  // unchanged
}

// The structure rule taking over must find its own bound already kept: a baseline's (each store
// within its budget) after DEEP R's global budget moved connections between stores, and a global
// budget (the network's connections fill it) after a prune removed some.
TEST(set_rule_refuses_a_structure_whose_bound_the_trained_stores_break) {
  const Data data = make_data();

  Network global(deepr_test::mlp_spec(kSizes, kBudgets, false, false, true, GlobalShare::kByBudget, 2));
  train(global, data, 200, StepHyper{0.5f, 1e-2f, 0.2f, 0.0f});
  bool over = false;
  for (const SparseStore* s : global.sparse_stores()) over |= s->active() > s->budget;
  CHECK(over);
  RuleSpec fixed = global.spec().rule;
  fixed.prior = "none";
  fixed.structure = "fixed";
  fixed.budget = "layer";
  const std::string over_budget = refusal(global, fixed);
  CHECK(over_budget.find("rule.structure \"fixed\" (rule.budget \"layer\") does not hold") != std::string::npos);
  CHECK(over_budget.find("active connections, more than its budget") != std::string::npos);
  CHECK(global.spec().rule.structure == "deep-r" && global.check().empty());  // unchanged

  NetworkSpec prune_spec = deepr_test::mlp_spec(kSizes, kBudgets, false, false, false, GlobalShare::kByBudget, 3);
  prune_spec.rule.prior = "none";
  prune_spec.rule.structure = "prune";
  prune_spec.rule.settings = {{"pruneStart", 0}, {"pruneEvery", 1}, {"pruneTimes", 1}, {"quality", 1}};
  Network pruned(prune_spec);
  train(pruned, data, 2, StepHyper{0.1f, 0.0f, 0.0f, 0.0f});
  uint64_t active = 0, budget = 0;
  for (const SparseStore* s : pruned.sparse_stores()) active += s->active(), budget += s->budget;
  CHECK(active < budget);
  // DEEP R reads theta below 0 as dormant and refuses such weights first: only the budget is left in the way.
  for (SparseStore* s : pruned.sparse_stores())
    for (float& t : s->theta) t = std::abs(t);
  RuleSpec deep_r = pruned.spec().rule;
  deep_r.prior = "deep-r";
  deep_r.structure = "deep-r";
  deep_r.budget = "global";
  deep_r.settings.clear();
  const std::string under_budget = refusal(pruned, deep_r);
  CHECK(under_budget.find("active connections in the network, global budget") != std::string::npos);
  CHECK(pruned.spec().rule.structure == "prune" && pruned.check().empty());  // unchanged
}
