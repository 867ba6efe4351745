// Magnitude pruning, the baseline of Han et al. (2015, "Learning both weights and connections for
// efficient neural networks"): train (dense: every position in the budget) with weight decay, then
// remove the connections whose |w| is at most quality x the standard deviation of that store's
// weights, keep training the rest, and repeat. Removed connections never come back, so a store's K
// only decreases. Theta is signed, as in fixed sparsity.
//
// The schedule: the first prune after the update of step `pruneStart`, then one every `pruneEvery`
// steps (the retraining in between), `pruneTimes` prunes in all. Each prune measures the standard
// deviation of the weights that survived the previous ones, which have the larger magnitudes, so
// the same quality factor removes a growing share and the iterations reach low connectivity, as
// the paper's iterative pruning does. quality = 0 removes exactly the weights that are 0: the
// final threshold step after l1-shrinkage (priors.hpp).
#pragma once

#include <map>
#include <string>

#include "step_hyper.hpp"
#include "structure_rule.hpp"

namespace deepr {

class PruneStructure : public StructureRule {
 public:
  static constexpr const char* kName = "prune";
  static constexpr bool kSignedTheta = true;
  static constexpr SettingField kSettings[] = {{"pruneStart", 0, kMaxStep, true},
                                               {"pruneEvery", 1, kMaxStep, true},
                                               {"pruneTimes", 0, kMaxStep, true},
                                               {"quality", 0, kFloatMax, false}};

  // `settings` holds every name of kSettings, in range (parse_rule checked them).
  explicit PruneStructure(const std::map<std::string, double>& settings);

  // Whether the step `step` ends with a prune.
  bool prunes_at(uint64_t step) const;

  void restructure(const std::vector<SparseStore*>& stores, const std::vector<std::vector<uint32_t>>& dormant, uint64_t seed,
                   uint64_t step, const StepHyper& hyper, std::vector<uint64_t>& activated) override;
  std::string check(const std::vector<SparseStore*>& stores) const override { return check_at_most_budget(stores); }

 private:
  uint64_t start_, every_, times_;
  double quality_;
  std::vector<uint32_t> removed_;  // the slots being removed from one store
};

// The slots of `store` whose weight magnitude is at most quality x the (population) standard
// deviation of its weights w = sign * theta, ascending, into `slots` (refilled). Computed in
// float64, one slot after the other: the same on any thread count.
void small_weights(const SparseStore& store, double quality, std::vector<uint32_t>& slots);

}  // namespace deepr
