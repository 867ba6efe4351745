// The optimiser part of an update rule: how a parameter moves along its gradient. Each declares
// its name, its hyper-parameters and the state arrays it keeps per parameter; `step` works on one
// value (float) or on 16 lanes (Lanes) with the same operations in the same order, so every path
// and every CPU gives the same bits.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "simd.hpp"
#include "step_hyper.hpp"

namespace deepr {

enum class OptimiserKind : uint32_t { kSgd, kMomentum, kAdam };

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

// The largest float below 1: Adam's betas stay below 1, so its bias corrections are never 0.
inline constexpr double kBelowOne = 1.0 - 1.0 / 16777216.0;

// Adam (Kingma and Ba 2015, Algorithm 1): m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
// theta -= eta (m / c1) / (sqrt(v / c2) + epsilon), with the bias corrections c1 = 1 - b1^t,
// c2 = 1 - b2^t for the network's step count t (with_bias_corrections). One global count, as the
// authors' later code keeps Adam's moments dense and counts steps globally: a regrown connection
// starts with m = v = 0 but the step's corrections, so its first moves are as small as any late
// Adam step. epsilon is positive so that a parameter whose gradients were all zero stays put.
struct Adam {
  static constexpr OptimiserKind kKind = OptimiserKind::kAdam;
  static constexpr const char* kName = "adam";
  static constexpr HyperField kHyper[] = {{"lr", &StepHyper::lr, 0, kFloatMax},
                                          {"beta1", &StepHyper::beta1, 0, kBelowOne},
                                          {"beta2", &StepHyper::beta2, 0, kBelowOne},
                                          {"epsilon", &StepHyper::epsilon, 1e-30, kFloatMax}};
  static constexpr uint32_t kStates = 2;
  static std::vector<std::string> state_names() { return {"m", "v"}; }

  template <class V>
  __attribute__((always_inline)) static V step(V t, V g, V* state, const StepHyper& h) {
    state[0] = h.beta1 * state[0] + (1.0f - h.beta1) * g;
    state[1] = h.beta2 * state[1] + (1.0f - h.beta2) * (g * g);
    const V m_hat = state[0] / h.correction1, v_hat = state[1] / h.correction2;
    return t - h.lr * m_hat / (square_root(v_hat) + h.epsilon);
  }

 private:
  // Correctly rounded on every CPU and in every vector width, so both paths give the same bits.
  __attribute__((always_inline)) static float square_root(float x) { return std::sqrt(x); }
  __attribute__((always_inline)) static Lanes square_root(Lanes x) {
    for (uint32_t l = 0; l < kLanes; ++l) x[l] = std::sqrt(x[l]);
    return x;
  }
};

// The hyper-parameters of the step whose count is step + 1 (the network's step counter starts at
// 0): Adam's bias corrections filled in from its betas, in double, rounded once.
inline StepHyper with_bias_corrections(StepHyper h, uint64_t step) {
  const double t = double(step) + 1.0;
  h.correction1 = float(1.0 - std::pow(double(h.beta1), t));
  h.correction2 = float(1.0 - std::pow(double(h.beta2), t));
  return h;
}

}  // namespace deepr
