#include "rule.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "fixed_structure.hpp"
#include "prune_structure.hpp"
#include "soft_deep_r_structure.hpp"

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

// What a structure rule declares: its kind, what theta is, its settings.
struct StructureDeclaration {
  const char* name;
  StructureKind kind;
  bool signed_theta;
  std::vector<SettingField> settings;
};

template <class Structure>
StructureDeclaration declaration(StructureKind kind) {
  return {Structure::kName, kind, Structure::kSignedTheta, {std::begin(Structure::kSettings), std::end(Structure::kSettings)}};
}

const std::vector<StructureDeclaration>& structures() {
  static const std::vector<StructureDeclaration> all{declaration<DeepRStructure>(StructureKind::kDeepR),
                                                     declaration<FixedStructure>(StructureKind::kFixed),
                                                     declaration<PruneStructure>(StructureKind::kPrune),
                                                     declaration<SoftDeepRStructure>(StructureKind::kSoftDeepR)};
  return all;
}

// The settings of `spec` against the structure's declared ones: each declared name once, in range.
std::map<std::string, double> checked_settings(const StructureDeclaration& structure, const std::map<std::string, double>& given) {
  std::string names;
  for (const SettingField& f : structure.settings) names += std::string(names.empty() ? "" : ", ") + f.name;
  for (const auto& [name, value] : given) {
    const auto declared = [&](const SettingField& f) { return name == f.name; };
    if (std::none_of(structure.settings.begin(), structure.settings.end(), declared))
      throw std::invalid_argument("rule." + name + " is not a setting of rule.structure \"" + structure.name + "\"; it takes " +
                                  (names.empty() ? std::string("none") : names));
  }
  for (const SettingField& f : structure.settings) {
    const auto it = given.find(f.name);
    if (it == given.end())
      throw std::invalid_argument("rule.structure \"" + std::string(structure.name) + "\" needs rule." + f.name + " (it takes " +
                                  names + ")");
    const double v = it->second;
    if (!(v >= f.min && v <= f.max) || (f.integer && v != std::floor(v))) {
      std::ostringstream message;
      message << "rule." << f.name << " must be " << (f.integer ? "an integer " : "") << "in [" << f.min << ", " << f.max
              << "], got " << v;
      throw std::invalid_argument(message.str());
    }
  }
  return given;
}

}  // namespace

Rule parse_rule(const RuleSpec& spec) {
  Rule rule;
  rule.optimiser = named<OptimiserKind>("optimiser", spec.optimiser, {{Sgd::kName, Sgd::kKind}, {Momentum::kName, Momentum::kKind}, {Adam::kName, Adam::kKind}});
  rule.prior = named<PriorKind>("prior", spec.prior,
                                {{DeepRPrior::kName, DeepRPrior::kKind}, {NoPrior::kName, NoPrior::kKind},
                                 {L2Prior::kName, L2Prior::kKind}, {L1ShrinkPrior::kName, L1ShrinkPrior::kKind}});
  const StructureDeclaration* structure = nullptr;
  for (const StructureDeclaration& d : structures())
    if (spec.structure == d.name) structure = &d;
  if (!structure) {
    std::string names;
    for (const StructureDeclaration& d : structures()) names += std::string(names.empty() ? "" : ", ") + d.name;
    throw std::invalid_argument("rule.structure is \"" + spec.structure + "\"; the core knows " + names);
  }
  rule.structure = structure->kind;
  rule.signed_theta = structure->signed_theta;
  with_update_rule(rule, [&](auto, auto prior) {
    if (decltype(prior)::kSignedTheta != structure->signed_theta)
      throw std::invalid_argument("rule.prior \"" + spec.prior + "\" does not go with rule.structure \"" + spec.structure +
                                  "\": " +
                                  (structure->signed_theta ? "the structure trains signed weights, the prior reads theta below 0 as dormant; "
                                                             "use the prior none, l2 or l1-shrink"
                                                           : "the structure reads theta below 0 as dormant, the prior a signed weight; "
                                                             "use the prior deep-r"));
  });
  rule.settings = checked_settings(*structure, spec.settings);
  rule.global_budget = named<bool>("budget", spec.budget, {{"layer", false}, {"global", true}});
  if (rule.global_budget && rule.structure != StructureKind::kDeepR)
    throw std::invalid_argument("rule.budget \"global\" shares DEEP R's regrowth between stores; rule.structure \"" +
                                spec.structure + "\" regrows nothing: use rule.budget \"layer\"");
  rule.share = named<GlobalShare>("globalShare", spec.global_share,
                                  {{"budget", GlobalShare::kByBudget}, {"dormant", GlobalShare::kByDormant}});
  return rule;
}

std::unique_ptr<StructureRule> make_structure(const Rule& rule) {
  switch (rule.structure) {
    case StructureKind::kDeepR: return std::make_unique<DeepRStructure>(rule.global_budget, rule.share);
    case StructureKind::kFixed: return std::make_unique<FixedStructure>();
    case StructureKind::kPrune: return std::make_unique<PruneStructure>(rule.settings);
    case StructureKind::kSoftDeepR: return std::make_unique<SoftDeepRStructure>(rule.settings);
  }
  throw std::logic_error("unknown structure rule");
}

std::vector<HyperField> hyper_fields(const Rule& rule) {
  std::vector<HyperField> fields;
  with_update_rule(rule, [&](auto optimiser, auto prior) {
    add_fields<decltype(optimiser)>(fields);
    add_fields<decltype(prior)>(fields);
  });
  return fields;  // structure rules have settings, fixed for the run, not step hyper-parameters
}

std::vector<std::string> state_names(const Rule& rule) {
  std::vector<std::string> names;
  with_update_rule(rule, [&](auto optimiser, auto) { names = decltype(optimiser)::state_names(); });
  return names;
}

}  // namespace deepr
