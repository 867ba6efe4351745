// The hyper-parameters of one training step, and how a rule part declares the ones it reads.
#pragma once

namespace deepr {

// Tests brace-initialise the first four fields (lr, alpha, noise_std, momentum); set the others by
// name, as fields are added after those four.
struct StepHyper {
  float lr = 0.5f;
  float alpha = 1e-5f;
  float noise_std = 0.0f;  // sqrt(2 eta T)
  float momentum = 0.0f;
  float clip_norm = 0.0f;  // the step's own setting (kStepFields): 0 = no gradient clipping
  float weight_decay = 0.0f;  // the l2 prior's coefficient
  float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;  // Adam's
  // Adam's bias corrections 1 - beta1^t and 1 - beta2^t of this step, derived from the step count
  // by the network (with_bias_corrections in optimisers.hpp), not passed in.
  float correction1 = 1.0f, correction2 = 1.0f;
};

// A hyper-parameter by the name the binding receives it under, with the range the update needs
// (finite float32 values; momentum at most 1). Values outside it break an invariant of the update:
// lib/ validates the user's options long before they get here.
struct HyperField {
  const char* name;
  float StepHyper::*field;
  double min, max;
};
inline constexpr double kFloatMax = 3.4e38;

// The step's own settings, independent of the rule: a step may leave them out (they stay off).
// clipNorm: every gradient of the step scaled by clipNorm / ||g|| when the global norm ||g|| over all
// stores exceeds it (gradient_clipping.hpp).
inline constexpr HyperField kStepFields[] = {{"clipNorm", &StepHyper::clip_norm, 0, kFloatMax}};

}  // namespace deepr
