// A device update's hyper-parameters (deepr_update, device_abi.h) are the core's StepHyper fields of
// the same names: kUpdateFields pairs them, and both directions of the conversion copy exactly
// those, the trainer's update for a device (device_update) and the CPU device's step for the core
// (step_hyper). A field that the update gains is added to the table once.
#pragma once

#include <cstdint>

#include "device_abi.h"
#include "rules/step_hyper.hpp"

namespace deepr {

struct UpdateField {
  float deepr_update::*update;
  float StepHyper::*hyper;
};

inline constexpr UpdateField kUpdateFields[] = {
    {&deepr_update::lr, &StepHyper::lr},
    {&deepr_update::alpha, &StepHyper::alpha},
    {&deepr_update::noise_std, &StepHyper::noise_std},
    {&deepr_update::momentum, &StepHyper::momentum},
    {&deepr_update::weight_decay, &StepHyper::weight_decay},
    {&deepr_update::beta1, &StepHyper::beta1},
    {&deepr_update::beta2, &StepHyper::beta2},
    {&deepr_update::epsilon, &StepHyper::epsilon},
    {&deepr_update::correction1, &StepHyper::correction1},
    {&deepr_update::correction2, &StepHyper::correction2},
};

// The update of store `store` in step `step`: the rule's optimiser and prior (DEEPR_OPTIMISER_*,
// DEEPR_PRIOR_*), the run's seed, and h's hyper-parameters with the step's bias corrections as h
// holds them.
inline deepr_update device_update(uint32_t optimiser, uint32_t prior, const StepHyper& h, uint64_t seed, uint64_t step,
                                  uint32_t store) {
  deepr_update u{};
  u.optimiser = optimiser;
  u.prior = prior;
  u.seed = seed;
  u.step = step;
  u.store = store;
  for (const UpdateField& f : kUpdateFields) u.*f.update = h.*f.hyper;
  return u;
}

// The step's hyper-parameters as the core's per-slot update reads them: every field of the update,
// the bias corrections as the host computed them; clip_norm, which no update reads, keeps its
// default (off).
inline StepHyper step_hyper(const deepr_update& u) {
  StepHyper h;
  for (const UpdateField& f : kUpdateFields) h.*f.hyper = u.*f.update;
  return h;
}

}  // namespace deepr
