// A training rule in three independent parts: the optimiser (optimisers.hpp), the prior
// (priors.hpp) and the structure rule (structure_rule.hpp: deep_r_structure, fixed_structure,
// prune_structure, soft_deep_r_structure). RuleSpec names them as the binding
// passes them; Rule is the parsed form the core runs. The per-slot update is one fused loop
// templated over (optimiser, prior): with_update_rule is the one place that turns the runtime
// choice into those types.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "deep_r_structure.hpp"
#include "optimisers.hpp"
#include "priors.hpp"
#include "step_hyper.hpp"
#include "structure_rule.hpp"

namespace deepr {

struct RuleSpec {
  std::string optimiser = "sgd";        // "sgd" | "momentum" | "adam"
  std::string prior = "deep-r";         // "deep-r" | "none" | "l2" | "l1-shrink"
  std::string structure = "deep-r";     // "deep-r" | "fixed" | "prune" | "soft-deep-r"
  std::string budget = "layer";         // the structure's budget: "layer" | "global"
  std::string global_share = "budget";  // with a global budget: "budget" | "dormant"
  std::map<std::string, double> settings;  // the structure rule's numeric settings (prune's schedule, soft-DEEP R's beta), by name
};

enum class StructureKind : uint32_t { kDeepR, kFixed, kPrune, kSoftDeepR };

struct Rule {
  OptimiserKind optimiser = OptimiserKind::kSgd;
  PriorKind prior = PriorKind::kDeepR;
  StructureKind structure = StructureKind::kDeepR;
  bool global_budget = false;  // one budget, the sum of the stores' K, shared by all sparse stores
  GlobalShare share = GlobalShare::kByBudget;
  // Whether w = sign * theta is an ordinary signed weight (the baselines) rather than theta < 0
  // meaning dormant (DEEP R): declared by the structure rule, and the prior agrees.
  bool signed_theta = false;
  std::map<std::string, double> settings;  // exactly the structure's declared settings, in range
};

// Throws std::invalid_argument naming the part whose name the core does not know, a prior and a
// structure that disagree on what theta is, or a structure setting that is unknown, missing or
// out of range.
Rule parse_rule(const RuleSpec& spec);

// The structure rule the rule names, with its settings.
std::unique_ptr<StructureRule> make_structure(const Rule& rule);

// The step's hyper-parameters the rule's parts declare, optimiser first, each name once.
std::vector<HyperField> hyper_fields(const Rule& rule);

// The state arrays the rule's optimiser keeps per parameter, in its order.
std::vector<std::string> state_names(const Rule& rule);

// Calls f(Optimiser{}, Prior{}) with the prior the rule names.
template <class Optimiser, class F>
__attribute__((always_inline)) inline void with_prior(const Rule& rule, F&& f) {
  switch (rule.prior) {
    case PriorKind::kDeepR: return f(Optimiser{}, DeepRPrior{});
    case PriorKind::kNone: return f(Optimiser{}, NoPrior{});
    case PriorKind::kL2: return f(Optimiser{}, L2Prior{});
    case PriorKind::kL1Shrink: return f(Optimiser{}, L1ShrinkPrior{});
  }
}

// Calls f(Optimiser{}, Prior{}) with the types the rule names.
template <class F>
__attribute__((always_inline)) inline void with_update_rule(const Rule& rule, F&& f) {
  static_assert(Momentum::kStates <= kMaxStateArrays && Adam::kStates <= kMaxStateArrays,
                "a store view holds every state array of an optimiser");
  switch (rule.optimiser) {
    case OptimiserKind::kSgd: return with_prior<Sgd>(rule, f);
    case OptimiserKind::kMomentum: return with_prior<Momentum>(rule, f);
    case OptimiserKind::kAdam: return with_prior<Adam>(rule, f);
  }
}

}  // namespace deepr
