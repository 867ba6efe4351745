#include "rule.hpp"

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <utility>

namespace deepr {

namespace {

template <class T>
T named(const std::string& part, const std::string& name, std::initializer_list<std::pair<const char*, T>> known) {
  std::string names;
  for (const auto& k : known) {
    if (name == k.first) return k.second;
    names += std::string(names.empty() ? "" : ", ") + k.first;
  }
  throw std::invalid_argument("rule." + part + " is \"" + name + "\"; the core knows " + names);
}

template <class Part>
void add_fields(std::vector<HyperField>& fields) {
  for (const HyperField& f : Part::kHyper) {
    const auto same = [&](const HyperField& g) { return std::string(g.name) == f.name; };
    if (std::none_of(fields.begin(), fields.end(), same)) fields.push_back(f);
  }
}

}  // namespace

Rule parse_rule(const RuleSpec& spec) {
  Rule rule;
  rule.optimiser = named<OptimiserKind>("optimiser", spec.optimiser, {{Sgd::kName, Sgd::kKind}, {Momentum::kName, Momentum::kKind}, {Adam::kName, Adam::kKind}});
  rule.prior = named<PriorKind>("prior", spec.prior, {{DeepRPrior::kName, DeepRPrior::kKind}});
  rule.structure = named<StructureKind>("structure", spec.structure, {{"deep-r", StructureKind::kDeepR}});
  rule.global_budget = named<bool>("budget", spec.budget, {{"layer", false}, {"global", true}});
  rule.share = named<GlobalShare>("globalShare", spec.global_share,
                                  {{"budget", GlobalShare::kByBudget}, {"dormant", GlobalShare::kByDormant}});
  return rule;
}

std::vector<HyperField> hyper_fields(const Rule& rule) {
  std::vector<HyperField> fields;
  with_update_rule(rule, [&](auto optimiser, auto prior) {
    add_fields<decltype(optimiser)>(fields);
    add_fields<decltype(prior)>(fields);
  });
  return fields;  // the DEEP R structure rule has no hyper-parameter of its own
}

std::vector<std::string> state_names(const Rule& rule) {
  std::vector<std::string> names;
  with_update_rule(rule, [&](auto optimiser, auto) { names = decltype(optimiser)::state_names(); });
  return names;
}

}  // namespace deepr
