// soft-DEEP R (Bellec et al. 2018, sec. 2, Algorithm 2): no hard bound on the active connections.
// An active theta takes DEEP R's update (the optimiser's step, the l1 pull and the noise of the
// deep-r prior, in the fused per-slot loop); a dormant one keeps a random walk,
// theta += sqrt(2 eta T) nu, and every theta is clipped at theta_min < 0. A dormant connection whose
// theta reaches 0 becomes active with that theta, so the number active fluctuates around the
// connectivity the prior sets.
//
// It needs a theta for every potential connection: the store keeps its active slots as DEEP R's do,
// and this rule keeps the theta of every dormant position in the store's dense dormant_theta (one
// float per position). theta_min comes from the store's target connectivity p0 = K / positions (K
// the budget it was built with) as in the authors' soft-DEEP R script: under the prior alone the
// active mass is 1 / beta (the exponential prior on theta >= 0, beta = alpha / T) and the dormant mass
// |theta_min| (flat on [theta_min, 0)), so p0 active means theta_min = -(1 - p0) / (p0 beta).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "structure_rule.hpp"

namespace deepr {

class SoftDeepRStructure : public StructureRule {
 public:
  static constexpr const char* kName = "soft-deep-r";
  static constexpr bool kSignedTheta = false;  // theta < 0: dormant
  // beta = alpha / T, the rate of the prior's exponential on active theta: fixed for the run, as
  // the script computes theta_min once (with the noise std sqrt(2 eta T) of the step, T = std^2 / (2 eta)).
  static constexpr SettingField kSettings[] = {{"beta", 1e-30, kFloatMax, false}};

  // `settings` holds every name of kSettings, in range (parse_rule checked them).
  explicit SoftDeepRStructure(const std::map<std::string, double>& settings) : beta_(settings.at("beta")) {}

  // The floor of store's theta: -(1 - p0) / (p0 beta), p0 = K / positions, computed in float64.
  float theta_min(const SparseStore& store) const;

  // A store without its dormant theta (a new network, or one switched from another rule) gets it:
  // every dormant position uniform in [theta_min, 0): (2^24 - k) / 2^24 * theta_min, k the top 24
  // bits of word 0 of block `position` of stream (step 0, store, purpose 10). The active
  // connections keep theirs: the store starts at its target connectivity p0.
  void adopt(const std::vector<SparseStore*>& stores, uint64_t seed) override;

  // Per store: the positions dormant since before this step walk by noise_std * nu, nu normal
  // `position` of stream (step, store, purpose 9) (nothing drawn when noise_std is 0), and stop at
  // theta_min; the slots in `dormant` move into dormant_theta, clipped at theta_min; then every
  // dormant position whose theta is >= 0 becomes active with that theta (and optimiser state 0).
  void restructure(const std::vector<SparseStore*>& stores, const std::vector<std::vector<uint32_t>>& dormant, uint64_t seed,
                   uint64_t step, const StepHyper& hyper, std::vector<uint64_t>& activated) override;

  // Every store has one theta per position: 0 where active, in [theta_min, 0) where dormant; "" or what is wrong.
  std::string check(const std::vector<SparseStore*>& stores) const override;
  // Any active set: there is no bound, and adopt() draws the dormant theta the stores lack.
  std::string admits(const std::vector<SparseStore*>& stores) const override;

 private:
  // Marks the active positions of `store` (its slots, those that died in this step included) in active_.
  void mark_active(const SparseStore& store);

  double beta_;
  std::vector<uint8_t> active_;  // per position of one store
  std::vector<float> noise_;     // per position of one store: this step's nu
  std::vector<uint64_t> born_;   // the positions activated in one store
};

}  // namespace deepr
