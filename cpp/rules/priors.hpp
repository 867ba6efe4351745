// The prior part of an update rule: what moves a sparse parameter besides its gradient, applied
// after the optimiser's step and outside its scaling, so momentum does not rescale the prior and
// the noise of the sampling process the paper analyses (Bellec et al. 2018, sec. 4). Dense
// parameters (biases) take the optimiser's step only.
//
// Each prior declares what theta is: DEEP R's keeps theta >= 0 and reads theta < 0 as dormant
// (kSignedTheta false); the baselines' treat w = sign * theta as an ordinary signed weight that
// may cross zero (kSignedTheta true). The structure rule declares the same property, and
// parse_rule pairs only priors and structures that agree, so the per-slot loop takes it from the
// prior's type at compile time: no branch per slot.
#pragma once

#include <array>
#include <cstdint>

#include "step_hyper.hpp"

namespace deepr {

enum class PriorKind : uint32_t { kDeepR, kNone, kL2, kL1Shrink };

// DEEP R's l1 prior and Gaussian noise (Algorithm 1, line 3): theta += -eta * alpha + noise_std * nu,
// with nu normal k of the store's noise stream for slot k.
struct DeepRPrior {
  static constexpr PriorKind kKind = PriorKind::kDeepR;
  static constexpr const char* kName = "deep-r";
  static constexpr bool kSignedTheta = false;
  static constexpr HyperField kHyper[] = {{"alpha", &StepHyper::alpha, 0, kFloatMax},
                                          {"noiseStd", &StepHyper::noise_std, 0, kFloatMax}};

  template <class V>
  __attribute__((always_inline)) static V apply(V t, V nu, const StepHyper& h) {
    return t - h.lr * h.alpha + h.noise_std * nu;
  }
};

// No prior: the optimiser's step alone (dense training, fixed sparsity).
struct NoPrior {
  static constexpr PriorKind kKind = PriorKind::kNone;
  static constexpr const char* kName = "none";
  static constexpr bool kSignedTheta = true;
  static constexpr std::array<HyperField, 0> kHyper{};

  template <class V>
  __attribute__((always_inline)) static V apply(V t, V, const StepHyper&) {
    return t;
  }
};

// Weight decay, the l2 penalty (lambda / 2) w^2 that the pruning of Han et al. (2015) trains with:
// theta -= eta * lambda * theta, on the value after the optimiser's step (decoupled from momentum,
// as every prior here).
struct L2Prior {
  static constexpr PriorKind kKind = PriorKind::kL2;
  static constexpr const char* kName = "l2";
  static constexpr bool kSignedTheta = true;
  static constexpr HyperField kHyper[] = {{"weightDecay", &StepHyper::weight_decay, 0, kFloatMax}};

  template <class V>
  __attribute__((always_inline)) static V apply(V t, V, const StepHyper& h) {
    return t - (h.lr * h.weight_decay) * t;
  }
};

// l1-shrinkage, the proximal step of the penalty alpha |w|: theta = sign(theta) max(|theta| - eta
// alpha, 0). A weight it zeroes stays exactly 0 until its gradient outweighs alpha, so a final
// prune with quality 0 (prune_structure.hpp) removes exactly the zeroed weights.
struct L1ShrinkPrior {
  static constexpr PriorKind kKind = PriorKind::kL1Shrink;
  static constexpr const char* kName = "l1-shrink";
  static constexpr bool kSignedTheta = true;
  static constexpr HyperField kHyper[] = {{"alpha", &StepHyper::alpha, 0, kFloatMax}};

  template <class V>
  __attribute__((always_inline)) static V apply(V t, V, const StepHyper& h) {
    const V shrunk = (t < 0.0f ? -t : t) - h.lr * h.alpha;
    const V magnitude = shrunk < 0.0f ? 0.0f : shrunk;  // a NaN stays NaN
    return t < 0.0f ? -magnitude : magnitude;
  }
};

}  // namespace deepr
