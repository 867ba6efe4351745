// The prior part of an update rule: what moves a sparse parameter besides its gradient, applied
// after the optimiser's step and outside its scaling, so momentum does not rescale the prior and
// the noise of the sampling process the paper analyses (Bellec et al. 2018, sec. 4). Dense
// parameters (biases) take the optimiser's step only.
#pragma once

#include <cstdint>

#include "step_hyper.hpp"

namespace deepr {

enum class PriorKind : uint32_t { kDeepR };

// DEEP R's l1 prior and Gaussian noise (Algorithm 1, line 3): theta += -eta * alpha + noise_std * nu,
// with nu normal k of the store's noise stream for slot k.
struct DeepRPrior {
  static constexpr PriorKind kKind = PriorKind::kDeepR;
  static constexpr const char* kName = "deep-r";
  static constexpr HyperField kHyper[] = {{"alpha", &StepHyper::alpha, 0, kFloatMax},
                                          {"noiseStd", &StepHyper::noise_std, 0, kFloatMax}};

  template <class V>
  __attribute__((always_inline)) static V apply(V t, V nu, const StepHyper& h) {
    return t - h.lr * h.alpha + h.noise_std * nu;
  }
};

}  // namespace deepr
