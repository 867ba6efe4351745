// Fixed sparsity, the baseline DEEP R is compared with (Bellec et al. 2018, sec. 3): the
// connections drawn at initialisation are trained and never rewired. Theta is signed: a weight
// w = sign * theta that crosses zero stays active with the opposite sign, so the store never
// changes and the strict bound holds trivially. With every position in the budget this is dense
// training.
#pragma once

#include <array>

#include "structure_rule.hpp"

namespace deepr {

class FixedStructure : public StructureRule {
 public:
  static constexpr const char* kName = "fixed";
  static constexpr bool kSignedTheta = true;
  static constexpr std::array<SettingField, 0> kSettings{};

  void restructure(const std::vector<SparseStore*>& stores, const std::vector<std::vector<uint32_t>>& dormant, uint64_t seed,
                   uint64_t step, const StepHyper& hyper, std::vector<uint64_t>& activated) override;
  std::string check(const std::vector<SparseStore*>& stores) const override { return check_at_most_budget(stores); }
};

}  // namespace deepr
