// The structure part of an update rule, behind one interface: what happens to the connections of
// every sparse store after the update of a step (DEEP R regrows as many as went dormant, fixed
// sparsity does nothing, pruning removes the small ones on a schedule), and the invariant it keeps.
// A new structure rule is one class derived from StructureRule and its entry in rule.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sparse_store.hpp"
#include "step_hyper.hpp"

namespace deepr {

// A numeric setting of a structure rule, fixed for the run (a schedule, a threshold factor): its
// name in the rule record and the range the rule needs; `integer` for counts of steps.
struct SettingField {
  const char* name;
  double min, max;
  bool integer;
};
inline constexpr double kMaxStep = 9007199254740991.0;  // 2^53 - 1: any step a JavaScript number holds exactly

class StructureRule {
 public:
  virtual ~StructureRule() = default;

  // When the rule becomes the network's (built, or switched to by set_rule): sets up what the rule
  // keeps in the stores. By default a rule keeps nothing besides the active slots, so the dormant
  // theta of a previous soft-DEEP R rule is dropped.
  virtual void adopt(const std::vector<SparseStore*>& stores, uint64_t seed);

  // After the update of every store in step `step`, with that step's hyper-parameters. `dormant[s]`
  // lists the slots of stores[s] whose theta went below zero in this step (ascending, still in
  // place); it is empty for a rule with signed theta, where theta < 0 is an ordinary negative
  // weight. `activated[s]`: the connections this call made active in store s.
  virtual void restructure(const std::vector<SparseStore*>& stores, const std::vector<std::vector<uint32_t>>& dormant,
                           uint64_t seed, uint64_t step, const StepHyper& hyper, std::vector<uint64_t>& activated) = 0;

  // The rule's bound on the active connections: "" or what is wrong.
  virtual std::string check(const std::vector<SparseStore*>& stores) const = 0;

  // Whether the rule can take over stores trained by another rule (set_rule), before adopt():
  // "" or what is wrong. By default what the rule keeps must hold already: its check().
  virtual std::string admits(const std::vector<SparseStore*>& stores) const { return check(stores); }
};

// The strict bound of a rule that never activates a connection: at most K (the budget the store
// was built with) active connections in every store; "" or what is wrong.
std::string check_at_most_budget(const std::vector<SparseStore*>& stores);

}  // namespace deepr
