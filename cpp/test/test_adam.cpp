// The adam optimiser against a float64 computation of its step, on a sparse store (with DEEP R's
// prior outside Adam's scaling, and rewiring) and on dense stores; its bias corrections count the
// network's steps; switching to it with set_rule.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "check.hpp"
#include "layers/dense_linear.hpp"
#include "layers/sparse_linear.hpp"
#include "network.hpp"
#include "reference_random.hpp"

using namespace deepr;

namespace {

constexpr uint32_t kSamples = 60;
const StepHyper kHyper = [] {
  StepHyper h{0.02f, 0.004f, 0.003f, 0.0f};  // lr, alpha, noise, momentum
  h.beta1 = 0.8f;
  h.beta2 = 0.95f;
  h.epsilon = 1e-6f;
  return h;
}();

// sparse_linear (12 -> 10, K = 50, bias) -> relu -> dense_linear (10 -> 3, bias) -> mean_squared_error.
NetworkSpec spec(const std::string& optimiser) {
  NetworkSpec s;
  s.seed = 17;
  s.layers = {{"sparse_linear", {{"inputs", 12}, {"outputs", 10}, {"budget", 50}}, {{"bias", true}}},
              {"relu", {}, {}},
              {"dense_linear", {{"inputs", 10}, {"outputs", 3}}, {{"bias", true}}},
              {"mean_squared_error", {}, {}}};
  s.rule.optimiser = optimiser;
  return s;
}

std::vector<float> table(uint32_t width, double phase) {
  std::vector<float> v(size_t(kSamples) * width);
  for (size_t n = 0; n < v.size(); ++n) v[n] = float(std::sin(phase + 0.61 * double(n)) * 1.5);
  return v;
}

std::vector<uint32_t> rows_of(uint32_t step) {
  std::vector<uint32_t> rows(12);
  for (uint32_t b = 0; b < 12; ++b) rows[b] = (step * 12 + b * 5) % kSamples;
  return rows;
}

// A parameter before the step (value, m, v) and its gradient; what Adam and the prior make of it.
struct Expected {
  double value, m, v;
};

Expected adam(float value, float m, float v, float g, uint64_t step, double prior) {
  const StepHyper& h = kHyper;
  const double t = double(step) + 1;  // the network's step count, 1 for its first step
  Expected e;
  e.m = h.beta1 * double(m) + (1 - double(h.beta1)) * g;
  e.v = h.beta2 * double(v) + (1 - double(h.beta2)) * double(g) * g;
  const double m_hat = e.m / (1 - std::pow(double(h.beta1), t)), v_hat = e.v / (1 - std::pow(double(h.beta2), t));
  e.value = value - h.lr * m_hat / (std::sqrt(v_hat) + h.epsilon) + prior;
  return e;
}

struct Slot {
  uint32_t k;
  float theta, m, v;
};

std::map<uint64_t, Slot> slots_by_position(const SparseStore& s) {
  std::map<uint64_t, Slot> slots;
  for (uint32_t out = 0; out < s.n_out; ++out)
    for (uint32_t k = s.row_start[out]; k < s.row_start[out + 1]; ++k)
      slots[s.position_of(k, out)] = {k, s.theta[k], (*find_state(s.states, "m"))[k], (*find_state(s.states, "v"))[k]};
  return slots;
}

}  // namespace

TEST(adam_steps_match_float64_on_sparse_and_dense_stores) {
  const std::vector<float> x = table(12, 0.2), t = table(3, 1.1);
  Network net(spec("adam"));
  CHECK(state_names(net.rule()) == std::vector<std::string>({"m", "v"}));
  auto& linear = *dynamic_cast<SparseLinear*>(net.layers()[0].get());
  auto& readout = *dynamic_cast<DenseLinear*>(net.layers()[2].get());
  std::vector<LayerGradients> gradients;
  net.set_gradient_exchange([&](std::vector<LayerGradients>& g, BatchLoss&) { gradients = g; });  // sees them, changes nothing
  uint64_t compared = 0, died = 0, regrown = 0;
  for (uint32_t step = 0; step < 12; ++step) {
    const uint64_t count = net.step();
    const std::map<uint64_t, Slot> before = slots_by_position(linear.weight());
    std::vector<DenseStore> dense_before{*linear.bias(), readout.weight(), *readout.bias()};
    const std::vector<uint32_t> rows = rows_of(step);
    StepStats stats;
    net.train_step(x.data(), SampleTargets{nullptr, t.data()}, rows.data(), 12, kHyper, stats);

    // The sparse weight: Adam's step, then -eta alpha + noise_std nu_k outside its scaling.
    const std::map<uint64_t, Slot> after = slots_by_position(linear.weight());
    const deepr_reference::Stream noise{17, count, 0, deepr_reference::kNoise};
    for (const auto& [position, s] : before) {
      const double prior = -double(kHyper.lr) * kHyper.alpha + double(kHyper.noise_std) * deepr_reference::normal(noise, s.k);
      const Expected e = adam(s.theta, s.m, s.v, gradients[0].stores[0][s.k], count, prior);
      const auto now = after.find(position);
      if (e.value < -1e-6) {  // died: dormant now, or regrown with everything at zero
        ++died;
        CHECK(now == after.end() || (now->second.theta == 0.0f && now->second.m == 0.0f && now->second.v == 0.0f));
        continue;
      }
      if (e.value < 1e-6 || now == after.end()) {
        CHECK(now != after.end() || e.value < 1e-6);
        continue;
      }
      CHECK_NEAR(now->second.theta, e.value, 1e-6);
      CHECK_NEAR(now->second.m, e.m, 1e-7 + 1e-6 * std::abs(e.m));
      CHECK_NEAR(now->second.v, e.v, 1e-9 + 1e-6 * std::abs(e.v));
      ++compared;
    }
    for (const auto& [position, s] : after)
      if (!before.count(position)) {  // regrown: every state starts at zero
        ++regrown;
        CHECK(s.theta == 0.0f && s.m == 0.0f && s.v == 0.0f);
      }

    // The dense stores (the sparse layer's bias, the readout's weight and bias): Adam's step only.
    const DenseStore* now[3] = {linear.bias(), &readout.weight(), readout.bias()};
    const std::vector<float>* g[3] = {&gradients[0].stores[1], &gradients[2].stores[0], &gradients[2].stores[1]};
    for (int d = 0; d < 3; ++d)
      for (size_t n = 0; n < now[d]->value.size(); ++n) {
        const DenseStore& b = dense_before[d];
        const Expected e = adam(b.value[n], b.states[0].values[n], b.states[1].values[n], (*g[d])[n], count, 0.0);
        CHECK_NEAR(now[d]->value[n], e.value, 1e-6 * (1 + std::abs(e.value)));
        CHECK_NEAR(now[d]->states[0].values[n], e.m, 1e-7 + 1e-6 * std::abs(e.m));
        CHECK_NEAR(now[d]->states[1].values[n], e.v, 1e-9 + 1e-6 * std::abs(e.v));
        ++compared;
      }
    CHECK(net.check().empty());
  }
  CHECK(compared > 500);
  CHECK(died > 0 && regrown > 0);  // slots moved and regrew under Adam, and were checked
}

TEST(switching_sgd_to_adam_adds_zero_moments_and_keeps_the_step_count) {
  const std::vector<float> x = table(12, 0.4), t = table(3, 0.9);
  Network switched(spec("sgd")), built(spec("adam"));
  StepStats stats;
  for (uint32_t step = 0; step < 5; ++step) {
    const std::vector<uint32_t> rows = rows_of(step);
    switched.train_step(x.data(), SampleTargets{nullptr, t.data()}, rows.data(), 12, StepHyper{0.05f, 1e-3f, 0.0f, 0.0f}, stats);
  }
  // The Adam network is given the trained parameters and the step count, with zero moments.
  for (size_t l : {0u, 2u}) {
    const std::vector<StoreRef> from = switched.layers()[l]->stores(), to = built.layers()[l]->stores();
    for (size_t s = 0; s < from.size(); ++s) {
      if (from[s].sparse) {
        const StateArrays moments = to[s].sparse->states;
        *to[s].sparse = *from[s].sparse;
        to[s].sparse->states = moments;
        keep_states(to[s].sparse->states, {"m", "v"}, to[s].sparse->active());
        for (StateArray& a : to[s].sparse->states) std::fill(a.values.begin(), a.values.end(), 0.0f);
      } else {
        to[s].dense->value = from[s].dense->value;
      }
    }
  }
  built.set_step(switched.step());
  CHECK(built.check().empty());

  RuleSpec rule = switched.spec().rule;
  rule.optimiser = "adam";
  switched.set_rule(rule);
  for (size_t l : {0u, 2u})
    for (const StoreRef& s : switched.layers()[l]->stores()) {
      const StateArrays& states = s.sparse ? s.sparse->states : s.dense->states;
      const size_t size = s.sparse ? s.sparse->active() : s.dense->value.size();
      CHECK(states.size() == 2 && states[0].name == "m" && states[1].name == "v");
      for (const StateArray& a : states) CHECK(a.values == std::vector<float>(size, 0.0f));
    }
  for (uint32_t step = 5; step < 25; ++step) {
    const std::vector<uint32_t> rows = rows_of(step);
    switched.train_step(x.data(), SampleTargets{nullptr, t.data()}, rows.data(), 12, kHyper, stats);
    built.train_step(x.data(), SampleTargets{nullptr, t.data()}, rows.data(), 12, kHyper, stats);
  }
  bool moved = false;
  for (size_t l : {0u, 2u}) {
    const std::vector<StoreRef> a = switched.layers()[l]->stores(), b = built.layers()[l]->stores();
    for (size_t s = 0; s < a.size(); ++s) {
      const StateArrays& sa = a[s].sparse ? a[s].sparse->states : a[s].dense->states;
      const StateArrays& sb = b[s].sparse ? b[s].sparse->states : b[s].dense->states;
      CHECK(sa[0].values == sb[0].values && sa[1].values == sb[1].values);
      if (a[s].sparse) CHECK(a[s].sparse->theta == b[s].sparse->theta && a[s].sparse->source == b[s].sparse->source);
      else CHECK(a[s].dense->value == b[s].dense->value);
      for (float m : sa[0].values) moved |= m != 0.0f;
    }
  }
  CHECK(moved);
  CHECK(switched.check().empty());
}

TEST(adam_declares_its_hyper_parameters_with_their_ranges) {
  const std::vector<HyperField> fields = hyper_fields(parse_rule(RuleSpec{"adam"}));
  std::vector<std::string> names;
  for (const HyperField& f : fields) names.push_back(f.name);
  CHECK(names == std::vector<std::string>({"lr", "beta1", "beta2", "epsilon", "alpha", "noiseStd"}));
  for (const HyperField& f : fields)
    if (std::string(f.name) == "beta1" || std::string(f.name) == "beta2") CHECK(f.min == 0 && f.max < 1 && float(f.max) < 1.0f);
    else if (std::string(f.name) == "epsilon") CHECK(f.min > 0);
}
