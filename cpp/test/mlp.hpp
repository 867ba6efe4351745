// Today's MLP as a network spec (sparse_linear layers with relu between them and a
// softmax_cross_entropy head), and each sparse_linear layer's stores as the tests read them.
#pragma once

#include <cstdint>
#include <vector>

#include "network.hpp"

namespace deepr_test {

// An MLP by its widths (input first) and per-layer budgets.
struct MlpConfig {
  std::vector<uint32_t> sizes;
  std::vector<uint64_t> budgets;
  bool bias = false;
  bool momentum = false;  // the momentum optimiser (a velocity per parameter) instead of SGD
  bool global_budget = false;
  deepr::GlobalShare share = deepr::GlobalShare::kByBudget;
  uint64_t seed = 0;
};

inline deepr::NetworkSpec mlp_spec(const MlpConfig& c) {
  deepr::NetworkSpec spec;
  spec.seed = c.seed;
  for (size_t l = 0; l + 1 < c.sizes.size(); ++l) {
    if (l > 0) spec.layers.push_back({"relu", {}, {}});
    spec.layers.push_back({"sparse_linear",
                           {{"inputs", c.sizes[l]}, {"outputs", c.sizes[l + 1]}, {"budget", double(c.budgets.at(l))}},
                           {{"bias", c.bias}}});
  }
  spec.layers.push_back({"softmax_cross_entropy", {}, {}});
  spec.rule.optimiser = c.momentum ? "momentum" : "sgd";
  spec.rule.budget = c.global_budget ? "global" : "layer";
  spec.rule.global_share = c.share == deepr::GlobalShare::kByDormant ? "dormant" : "budget";
  return spec;
}

inline deepr::NetworkSpec mlp_spec(const std::vector<uint32_t>& sizes, const std::vector<uint64_t>& budgets, bool bias,
                                   bool momentum, bool global_budget, deepr::GlobalShare share, uint64_t seed) {
  return mlp_spec(MlpConfig{sizes, budgets, bias, momentum, global_budget, share, seed});
}

// One sparse_linear layer: its weight store, and its bias and velocities (empty when it has none).
struct MlpLayer {
  deepr::SparseStore& weight;
  std::vector<float>& theta;
  const std::vector<uint32_t>& row_start;
  const std::vector<uint32_t>& source;
  std::vector<float>& velocity;
  std::vector<float>& bias;
  std::vector<float>& bias_velocity;
  uint32_t n_in, n_out, index;
  uint64_t seed;

  uint64_t active() const { return weight.active(); }
  uint64_t positions() const { return weight.positions(); }
  uint64_t position_of(uint64_t slot, uint32_t out) const { return weight.position_of(slot, out); }
  bool has_momentum() const { return deepr::find_state(weight.states, "velocity") != nullptr; }
};

inline std::vector<float>& state_or_none(deepr::StateArrays* states, const char* name) {
  static std::vector<float> none;
  std::vector<float>* found = states ? deepr::find_state(*states, name) : nullptr;
  return found ? *found : none;
}

inline std::vector<MlpLayer> mlp_layers(const deepr::Network& net) {
  static std::vector<float> no_bias;
  std::vector<MlpLayer> layers;
  for (const std::unique_ptr<deepr::Layer>& layer : net.layers()) {
    auto* linear = dynamic_cast<deepr::SparseLinear*>(layer.get());
    if (!linear) continue;
    deepr::SparseStore& w = linear->weight();
    deepr::DenseStore* b = linear->bias();
    layers.push_back({w, w.theta, w.row_start, w.source, state_or_none(&w.states, "velocity"), b ? b->value : no_bias,
                      state_or_none(b ? &b->states : nullptr, "velocity"), w.n_in, w.n_out, w.id, w.seed});
  }
  return layers;
}

}  // namespace deepr_test
