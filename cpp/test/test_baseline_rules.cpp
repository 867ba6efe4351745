// The comparison rules: fixed sparsity, magnitude pruning (Han et al. 2015) and the priors none,
// l2 and l1-shrink. Each update against a float64 computation, the invariants after every step,
// the same bits for the fused and split paths and for 1 and 2 threads, pruning against a float64
// recomputation of its threshold, and the rule checks.
#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "counter_data.hpp"
#include "mlp.hpp"
#include "network.hpp"
#include "rules/prune_structure.hpp"
#include "thread_pool.hpp"

using namespace deepr;
using deepr_test::MlpLayer;
using deepr_test::mlp_layers;

namespace {

constexpr uint32_t kSamples = 256;

using DataSet = deepr_test::CounterData;

DataSet make_data(uint32_t features, uint32_t classes) { return deepr_test::counter_data(kSamples, features, classes); }

// The rows of step `step`: a fixed walk through the data set.
std::vector<uint32_t> rows_of(uint32_t step, uint32_t batch) { return deepr_test::walk_rows(step, batch, kSamples); }

// An MLP under a baseline rule; budgets of 0 stand for every position (dense).
NetworkSpec baseline_spec(const std::vector<uint32_t>& sizes, std::vector<uint64_t> budgets, bool momentum,
                          const std::string& prior, const std::string& structure,
                          const std::map<std::string, double>& settings = {}) {
  for (size_t l = 0; l < budgets.size(); ++l)
    if (budgets[l] == 0) budgets[l] = uint64_t(sizes[l]) * sizes[l + 1];
  NetworkSpec spec = deepr_test::mlp_spec(sizes, budgets, true, momentum, false, GlobalShare::kByBudget, 9);
  spec.rule.prior = prior;
  spec.rule.structure = structure;
  spec.rule.settings = settings;
  return spec;
}

std::map<std::string, double> schedule(double start, double every, double times, double quality) {
  return {{"pruneStart", start}, {"pruneEvery", every}, {"pruneTimes", times}, {"quality", quality}};
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

bool identical(const Network& a, const Network& b) {
  if (a.step() != b.step()) return false;
  for (size_t l = 0; l < mlp_layers(a).size(); ++l) {
    const MlpLayer x = mlp_layers(a)[l], y = mlp_layers(b)[l];
    if (!same_bits(x.row_start, y.row_start) || !same_bits(x.source, y.source) || !same_bits(x.theta, y.theta) ||
        !same_bits(x.velocity, y.velocity) || !same_bits(x.bias, y.bias))
      return false;
  }
  return true;
}

uint64_t active(const Network& net) {
  uint64_t k = 0;
  for (const SparseStore* s : net.sparse_stores()) k += s->active();
  return k;
}

struct RuleCase {
  const char* prior;
  const char* structure;
  std::map<std::string, double> settings;
  bool momentum;
};

std::vector<RuleCase> rule_cases() {
  return {{"none", "fixed", {}, false},
          {"l2", "fixed", {}, true},
          {"l1-shrink", "fixed", {}, false},
          {"l2", "prune", schedule(10, 15, 4, 1.0), false},
          {"l2", "prune", schedule(5, 10, 6, 0.7), true},
          {"l1-shrink", "prune", schedule(59, 1, 1, 0.0), false}};
}

std::string describe(const RuleCase& c) {
  return std::string(c.prior) + " + " + c.structure + (c.momentum ? ", momentum" : "");
}

const StepHyper kHyper = [] {
  StepHyper h;
  h.lr = 0.2f;
  h.alpha = 0.004f;
  h.noise_std = 0.0f;
  h.momentum = 0.9f;
  h.weight_decay = 0.01f;
  return h;
}();

}  // namespace

TEST(baseline_priors_match_a_float64_update) {
  // Known gradients through the exchange hook; the update of every slot against the prior applied
  // in float64 to theta - eta g (the momentum's first step is the same: v = g). Large steps, so
  // that many weights cross zero and stay active with the opposite sign.
  const DataSet data = make_data(12, 4);
  StepHyper hyper = kHyper;
  hyper.lr = 1.0f;
  hyper.alpha = 0.05f;  // shrinks a tenth of the weights to exactly 0
  for (const char* prior : {"none", "l2", "l1-shrink"})
    for (bool momentum : {false, true}) {
      Network net(baseline_spec({12, 10, 4}, {60, 0}, momentum, prior, "fixed"));
      std::vector<std::vector<float>> before;
      for (const MlpLayer& layer : mlp_layers(net)) before.push_back(layer.theta);
      const auto gradient = [](size_t l, size_t k) { return float(0.3 * std::sin(1.0 + 7.0 * l + 0.37 * k)); };
      net.set_gradient_exchange([&](std::vector<LayerGradients>& g, BatchLoss&) {
        for (size_t i = 0, l = 0; i < g.size(); ++i)
          if (!g[i].stores.empty()) {
            for (size_t k = 0; k < g[i].stores[0].size(); ++k) g[i].stores[0][k] = gradient(l, k);
            ++l;
          }
      });
      StepStats stats;
      const std::vector<uint32_t> rows = rows_of(0, 20);
      net.train_step(data.inputs.data(), data.labels.data(), rows.data(), 20, hyper, stats);
      CHECK(net.check().empty());
      uint64_t crossed = 0, zeroed = 0, compared = 0;
      for (size_t l = 0; l < before.size(); ++l) {
        const MlpLayer layer = mlp_layers(net)[l];
        CHECK(layer.theta.size() == before[l].size());  // fixed: no slot comes or goes
        for (size_t k = 0; k < before[l].size() && k < layer.theta.size(); ++k) {
          const double stepped = double(before[l][k]) - double(hyper.lr) * gradient(l, k);
          double expected = stepped;
          if (std::string(prior) == "l2") expected = stepped - double(hyper.lr) * hyper.weight_decay * stepped;
          if (std::string(prior) == "l1-shrink") {
            const double shrink = double(hyper.lr) * hyper.alpha;
            if (std::abs(std::abs(stepped) - shrink) < 1e-6) continue;  // at the kink: float rounding decides
            expected = std::copysign(std::max(std::abs(stepped) - shrink, 0.0), stepped);
            zeroed += expected == 0.0;
          }
          CHECK_NEAR(layer.theta[k], expected, 1e-7 + 1e-6 * std::abs(expected));
          if (expected == 0.0) CHECK(layer.theta[k] == 0.0f);
          crossed += expected < 0.0;
          ++compared;
        }
      }
      CHECK(compared > 90 && crossed > 10);
      if (std::string(prior) == "l1-shrink") CHECK(zeroed > 0);
    }
}

TEST(baseline_rules_keep_their_invariants_and_give_the_same_bits_fused_and_split) {
  const DataSet data = make_data(16, 5);
  for (const RuleCase& c : rule_cases()) {
    const NetworkSpec spec = baseline_spec({16, 14, 5}, {0, 0}, c.momentum, c.prior, c.structure, c.settings);
    Network fused(spec), split(spec);
    split.set_gradient_exchange([](std::vector<LayerGradients>&, BatchLoss&) {});
    const uint64_t positions = 16 * 14 + 14 * 5;
    CHECK(active(fused) == positions);  // dense: every position is active from the start
    std::vector<uint64_t> k_before(fused.sparse_stores().size());
    uint64_t negative = 0, prunes = 0;
    for (uint32_t step = 0; step < 60; ++step) {
      for (size_t s = 0; s < k_before.size(); ++s) k_before[s] = fused.sparse_stores()[s]->active();
      const std::vector<uint32_t> rows = rows_of(step, 24);
      StepStats a, b;
      fused.train_step(data.inputs.data(), data.labels.data(), rows.data(), 24, kHyper, a);
      split.train_step(data.inputs.data(), data.labels.data(), rows.data(), 24, kHyper, b);
      if (!identical(fused, split) || a.loss.loss_sum != b.loss.loss_sum) {
        deepr_test::fail(__FILE__, __LINE__, describe(c) + ": the paths differ after step " + std::to_string(step));
        break;
      }
      const std::string problem = fused.check();  // sorted, no duplicates, indices in range, fixed signs, K <= budget
      if (!problem.empty()) {
        deepr_test::fail(__FILE__, __LINE__, describe(c) + ", step " + std::to_string(step) + ": " + problem);
        break;
      }
      bool shrank = false;
      for (size_t s = 0; s < k_before.size(); ++s) {
        const uint64_t k = fused.sparse_stores()[s]->active();
        CHECK(k <= k_before[s]);  // K only decreases
        shrank |= k < k_before[s];
        CHECK(a.rewired[s] == 0);
      }
      const bool scheduled = std::string(c.structure) == "prune" && PruneStructure(c.settings).prunes_at(step);
      if (!scheduled) CHECK(!shrank);  // nothing is removed between the scheduled prunes
      prunes += shrank;
      for (const SparseStore* s : fused.sparse_stores())
        for (float t : s->theta) negative += t < 0.0f;
    }
    CHECK(negative > 0);  // weights crossed zero and stayed active as signed weights
    if (std::string(c.structure) == "fixed") CHECK(active(fused) == positions);
    if (std::string(c.structure) == "prune" && c.settings.at("quality") > 0) CHECK(prunes > 0 && active(fused) < positions);
  }
}

TEST(baseline_rules_give_the_same_bits_for_1_and_2_threads) {
  // A first layer big enough that the fused sweep splits it over the pool (300 x 100 dense, 112
  // samples), trained through a prune.
  const unsigned threads = ThreadPool::shared().size();
  const DataSet data = make_data(300, 10);
  for (const RuleCase& c : {RuleCase{"l2", "prune", schedule(3, 3, 2, 0.8), true}, RuleCase{"l1-shrink", "fixed", {}, false}}) {
    std::vector<Network> nets;
    nets.reserve(2);
    for (unsigned t : {1u, 2u}) {
      ThreadPool::shared().resize(t);
      nets.emplace_back(baseline_spec({300, 100, 10}, {0, 0}, c.momentum, c.prior, c.structure, c.settings));
      StepStats stats;
      for (uint32_t step = 0; step < 8; ++step) {
        const std::vector<uint32_t> rows = rows_of(step, 100);
        nets.back().train_step(data.inputs.data(), data.labels.data(), rows.data(), 100, kHyper, stats);
      }
      CHECK(nets.back().check().empty());
    }
    CHECK(identical(nets[0], nets[1]));
  }
  ThreadPool::shared().resize(threads);
}

TEST(prune_removes_exactly_the_weights_below_quality_times_their_deviation) {
  // Until its first prune a pruned network trains exactly as a fixed one (the same prior); the
  // fixed network's weights after that step are those the prune saw. The survivors: every slot with
  // |w| > quality x the standard deviation of its store's weights, computed here in float64.
  const DataSet data = make_data(16, 5);
  const double quality = 0.9;
  Network pruned(baseline_spec({16, 14, 5}, {120, 0}, false, "l2", "prune", schedule(4, 100, 1, quality)));
  Network fixed(baseline_spec({16, 14, 5}, {120, 0}, false, "l2", "fixed"));
  StepStats stats;
  for (uint32_t step = 0; step < 5; ++step) {
    const std::vector<uint32_t> rows = rows_of(step, 24);
    pruned.train_step(data.inputs.data(), data.labels.data(), rows.data(), 24, kHyper, stats);
    fixed.train_step(data.inputs.data(), data.labels.data(), rows.data(), 24, kHyper, stats);
    if (step < 4) CHECK(identical(pruned, fixed));
  }
  for (size_t l = 0; l < 2; ++l) {
    const MlpLayer seen = mlp_layers(fixed)[l], kept = mlp_layers(pruned)[l];
    double mean = 0, variance = 0;
    const size_t n = seen.theta.size();
    const auto w = [&](size_t k) { return (seen.source[k] & kSignBit) ? -double(seen.theta[k]) : double(seen.theta[k]); };
    for (size_t k = 0; k < n; ++k) mean += w(k) / double(n);
    for (size_t k = 0; k < n; ++k) variance += (w(k) - mean) * (w(k) - mean) / double(n);
    const double threshold = quality * std::sqrt(variance);
    std::vector<uint64_t> survivors;
    std::vector<float> survivor_theta;
    for (uint32_t out = 0; out < seen.n_out; ++out)
      for (uint32_t k = seen.row_start[out]; k < seen.row_start[out + 1]; ++k)
        if (std::abs(double(seen.theta[k])) > threshold * (1 + 1e-12)) {
          survivors.push_back(seen.position_of(k, out));
          survivor_theta.push_back(seen.theta[k]);
        }
    std::vector<uint64_t> positions;
    for (uint32_t out = 0; out < kept.n_out; ++out)
      for (uint32_t k = kept.row_start[out]; k < kept.row_start[out + 1]; ++k) positions.push_back(kept.position_of(k, out));
    CHECK(positions == survivors);
    CHECK(same_bits(kept.theta, survivor_theta));
    CHECK(survivors.size() > n / 4 && survivors.size() < n);  // a real cut, not all or nothing
  }
  CHECK(pruned.check().empty());
}

TEST(prune_with_quality_0_removes_exactly_the_weights_l1_shrinkage_zeroed) {
  const DataSet data = make_data(16, 5);
  StepHyper hyper = kHyper;
  hyper.alpha = 0.05f;  // strong enough to zero many weights
  Network net(baseline_spec({16, 14, 5}, {0, 0}, false, "l1-shrink", "prune", schedule(30, 1, 1, 0.0)));
  Network reference(baseline_spec({16, 14, 5}, {0, 0}, false, "l1-shrink", "fixed"));
  StepStats stats;
  for (uint32_t step = 0; step <= 30; ++step) {
    const std::vector<uint32_t> rows = rows_of(step, 24);
    net.train_step(data.inputs.data(), data.labels.data(), rows.data(), 24, hyper, stats);
    reference.train_step(data.inputs.data(), data.labels.data(), rows.data(), 24, hyper, stats);
  }
  uint64_t zeros = 0, nonzero = 0;
  for (const SparseStore* s : reference.sparse_stores())
    for (float t : s->theta) (t == 0.0f ? zeros : nonzero)++;
  CHECK(zeros > 0 && nonzero > 0);
  CHECK(active(net) == nonzero);
  for (const SparseStore* s : net.sparse_stores())
    for (float t : s->theta) CHECK(t != 0.0f);
}

TEST(baseline_rules_are_checked_by_name_and_setting) {
  const auto refused = [](const NetworkSpec& spec, const std::string& message) {
    try {
      Network net(spec);
      deepr_test::fail(__FILE__, __LINE__, "accepted, expected: " + message);
    } catch (const std::invalid_argument& e) {
      if (std::string(e.what()) != message) deepr_test::fail(__FILE__, __LINE__, std::string("got: ") + e.what() + "\nexpected: " + message);
    }
  };
  const std::vector<uint32_t> sizes{6, 5, 3};
  refused(baseline_spec(sizes, {0, 0}, false, "deep-r", "fixed"),
          "rule.prior \"deep-r\" does not go with rule.structure \"fixed\": the structure trains signed weights, the prior "
          "reads theta below 0 as dormant; use the prior none, l2 or l1-shrink");
  refused(baseline_spec(sizes, {10, 6}, false, "l2", "deep-r"),
          "rule.prior \"l2\" does not go with rule.structure \"deep-r\": the structure reads theta below 0 as dormant, the "
          "prior a signed weight; use the prior deep-r");
  refused(baseline_spec(sizes, {0, 0}, false, "none", "fixed", {{"quality", 1}}),
          "rule.quality is not a setting of rule.structure \"fixed\"; it takes none");
  std::map<std::string, double> missing = schedule(1, 1, 1, 1);
  missing.erase("pruneEvery");
  refused(baseline_spec(sizes, {0, 0}, false, "l2", "prune", missing),
          "rule.structure \"prune\" needs rule.pruneEvery (it takes pruneStart, pruneEvery, pruneTimes, quality)");
  refused(baseline_spec(sizes, {0, 0}, false, "l2", "prune", schedule(1, 0, 1, 1)),
          "rule.pruneEvery must be an integer in [1, 9.0072e+15], got 0");
  refused(baseline_spec(sizes, {0, 0}, false, "l2", "prune", schedule(1.5, 1, 1, 1)),
          "rule.pruneStart must be an integer in [0, 9.0072e+15], got 1.5");
  refused(baseline_spec(sizes, {0, 0}, false, "l2", "prune", schedule(1, 1, 1, -0.5)),
          "rule.quality must be in [0, 3.4e+38], got -0.5");
  NetworkSpec global = baseline_spec(sizes, {0, 0}, false, "none", "fixed");
  global.rule.budget = "global";
  refused(global, "rule.budget \"global\" shares DEEP R's regrowth between stores; rule.structure \"fixed\" regrows nothing: "
                  "use rule.budget \"layer\"");
  refused(baseline_spec(sizes, {0, 0}, false, "l2", "lottery"), "rule.structure is \"lottery\"; the core knows deep-r, fixed, prune, soft-deep-r");
  refused(baseline_spec(sizes, {0, 0}, false, "l3", "fixed"), "rule.prior is \"l3\"; the core knows deep-r, none, l2, l1-shrink");

  // Each prior's hyper-parameters, after the optimiser's.
  const auto names = [&](const char* prior, const char* structure, bool momentum) {
    std::string all;
    const Rule rule = parse_rule(baseline_spec(sizes, {0, 0}, momentum, prior, structure, std::string(structure) == "prune" ? schedule(1, 1, 1, 1) : std::map<std::string, double>{}).rule);
    for (const HyperField& f : hyper_fields(rule)) all += std::string(all.empty() ? "" : " ") + f.name;
    return all;
  };
  CHECK(names("none", "fixed", false) == "lr");
  CHECK(names("l2", "prune", true) == "lr momentum weightDecay");
  CHECK(names("l1-shrink", "fixed", false) == "lr alpha");
}

TEST(switching_from_a_baseline_rule_to_deep_r_is_refused_while_it_would_change_the_network) {
  const DataSet data = make_data(16, 5);
  Network net(baseline_spec({16, 14, 5}, {100, 40}, false, "none", "fixed"));
  StepStats stats;
  StepHyper hyper = kHyper;
  hyper.lr = 1.0f;
  for (uint32_t step = 0; step < 10; ++step) {
    const std::vector<uint32_t> rows = rows_of(step, 24);
    net.train_step(data.inputs.data(), data.labels.data(), rows.data(), 24, hyper, stats);
  }
  RuleSpec deep_r;
  try {
    net.set_rule(deep_r);
    deepr_test::fail(__FILE__, __LINE__, "switched to deep-r with negative weights");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("holds negative weights") != std::string::npos);
  }
  CHECK(net.spec().rule.structure == "fixed" && net.check().empty());  // unchanged
  // A pruned network has fewer connections than its budget: DEEP R's per-store budget refuses it;
  // fixed sparsity keeps training what is left.
  Network pruned(baseline_spec({16, 14, 5}, {0, 0}, false, "l2", "prune", schedule(0, 1, 1, 1.0)));
  pruned.train_step(data.inputs.data(), data.labels.data(), rows_of(0, 24).data(), 24, kHyper, stats);
  try {
    pruned.set_rule(deep_r);
    deepr_test::fail(__FILE__, __LINE__, "switched to deep-r below the budget");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("rule.budget is \"layer\", but sparse store 0 has") == 0);
  }
  RuleSpec fixed = pruned.spec().rule;
  fixed.structure = "fixed";
  fixed.settings.clear();
  pruned.set_rule(fixed);
  const uint64_t left = active(pruned);
  CHECK(left < 16 * 14 + 14 * 5);
  pruned.train_step(data.inputs.data(), data.labels.data(), rows_of(1, 24).data(), 24, kHyper, stats);
  CHECK(pruned.check().empty() && active(pruned) == left);
}
