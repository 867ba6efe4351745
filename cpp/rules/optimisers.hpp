// The optimiser part of an update rule: how a parameter moves along its gradient. Each declares
// its name, its hyper-parameters and the state arrays it keeps per parameter; `step` works on one
// value (float) or on 16 lanes (Lanes) with the same operations in the same order, so every path
// and every CPU gives the same bits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "step_hyper.hpp"

namespace deepr {

enum class OptimiserKind : uint32_t { kSgd, kMomentum };

// Plain gradient descent, as the reference code: theta -= eta * g.
struct Sgd {
  static constexpr OptimiserKind kKind = OptimiserKind::kSgd;
  static constexpr const char* kName = "sgd";
  static constexpr HyperField kHyper[] = {{"lr", &StepHyper::lr, 0, kFloatMax}};
  static constexpr uint32_t kStates = 0;
  static std::vector<std::string> state_names() { return {}; }

  template <class V>
  __attribute__((always_inline)) static V step(V t, V g, V*, const StepHyper& h) {
    return t - h.lr * g;
  }
};

// Heavy-ball momentum: v = mu * v + g, theta -= eta * v.
struct Momentum {
  static constexpr OptimiserKind kKind = OptimiserKind::kMomentum;
  static constexpr const char* kName = "momentum";
  static constexpr HyperField kHyper[] = {{"lr", &StepHyper::lr, 0, kFloatMax}, {"momentum", &StepHyper::momentum, 0, 1}};
  static constexpr uint32_t kStates = 1;
  static std::vector<std::string> state_names() { return {"velocity"}; }

  template <class V>
  __attribute__((always_inline)) static V step(V t, V g, V* state, const StepHyper& h) {
    state[0] = h.momentum * state[0] + g;
    return t - h.lr * state[0];
  }
};

}  // namespace deepr
