// A training rule in three independent parts: the optimiser (optimisers.hpp), the prior
// (priors.hpp) and the structure rule (deep_r_structure.hpp). RuleSpec names them as the binding
// passes them; Rule is the parsed form the core runs. The per-slot update is one fused loop
// templated over (optimiser, prior): with_update_rule is the one place that turns the runtime
// choice into those types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "deep_r_structure.hpp"
#include "optimisers.hpp"
#include "priors.hpp"
#include "step_hyper.hpp"

namespace deepr {

struct RuleSpec {
  std::string optimiser = "sgd";        // "sgd" | "momentum" | "adam"
  std::string prior = "deep-r";         // "deep-r"
  std::string structure = "deep-r";     // "deep-r"
  std::string budget = "layer";         // the structure's budget: "layer" | "global"
  std::string global_share = "budget";  // with a global budget: "budget" | "dormant"
};

enum class StructureKind : uint32_t { kDeepR };

struct Rule {
  OptimiserKind optimiser = OptimiserKind::kSgd;
  PriorKind prior = PriorKind::kDeepR;
  StructureKind structure = StructureKind::kDeepR;
  bool global_budget = false;  // one budget, the sum of the stores' K, shared by all sparse stores
  GlobalShare share = GlobalShare::kByBudget;
};

// Throws std::invalid_argument naming the part whose name the core does not know.
Rule parse_rule(const RuleSpec& spec);

// The step's hyper-parameters the rule's parts declare, optimiser first, each name once.
std::vector<HyperField> hyper_fields(const Rule& rule);

// The state arrays the rule's optimiser keeps per parameter, in its order.
std::vector<std::string> state_names(const Rule& rule);

// Calls f(Optimiser{}, Prior{}) with the types the rule names.
template <class F>
__attribute__((always_inline)) inline void with_update_rule(const Rule& rule, F&& f) {
  static_assert(Momentum::kStates <= kMaxStateArrays && Adam::kStates <= kMaxStateArrays,
                "a store view holds every state array of an optimiser");
  switch (rule.optimiser) {
    case OptimiserKind::kSgd: return f(Sgd{}, DeepRPrior{});
    case OptimiserKind::kMomentum: return f(Momentum{}, DeepRPrior{});
    case OptimiserKind::kAdam: return f(Adam{}, DeepRPrior{});
  }
}

}  // namespace deepr
