// The structure part of an update rule, DEEP R's: after the update, as many dormant connections
// become active again as died, within a budget per sparse store or one global budget.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "philox.hpp"
#include "sparse_store.hpp"
#include "structure_rule.hpp"

namespace deepr {

// `count` distinct positions drawn uniformly at random among the dormant positions of `store`,
// sorted, into `picks` (refilled, reusing its memory). The store's `dying` slots (theta < 0: they
// went dormant in this step and rewire() has not dropped them yet) count as dormant. Sparse
// stores use rejection (draw any position, redraw if active): expected fewer than two draws per
// pick while at most half the positions are taken, and no dense structure. When the store is more
// than half full, the dormant positions are enumerated instead, which then costs O(positions) = O(K).
void sample_dormant(const SparseStore& store, uint64_t dying, uint64_t count, const RngStream& stream,
                    std::vector<uint64_t>& picks);

// How a network-wide budget shares its deficit between sparse stores.
enum class GlobalShare : uint32_t {
  // Each new connection picks a store with probability proportional to the store's initial budget
  // K_l: the reference code's global-constraint script (script_mnist_deep_rewiring_with_global_constraint.py).
  kByBudget = 0,
  // Proportional to the store's dormant positions, i.e. uniform over all dormant connections of
  // the network: Algorithm 1 read literally with one budget.
  kByDormant = 1,
};

// Splits `deficit` new connections between stores. A store never receives more than it has
// dormant positions (its `dying` slots included). Returns one count per store.
std::vector<uint64_t> share_deficit(uint64_t deficit, const std::vector<SparseStore*>& stores, const std::vector<uint64_t>& dying,
                                    GlobalShare share, const RngStream& stream);

class DeepRStructure : public StructureRule {
 public:
  static constexpr const char* kName = "deep-r";
  static constexpr bool kSignedTheta = false;  // theta < 0: dormant
  static constexpr std::array<SettingField, 0> kSettings{};

  DeepRStructure(bool global_budget, GlobalShare share) : global_budget_(global_budget), share_(share) {}

  // Regrowth after the update of every store: `dormant[s]` lists the slots of stores[s] that went
  // dormant in step `step` (ascending; still in place with theta < 0). As many dormant positions as
  // died are drawn uniformly (per store, or shared by the global budget) and replace them.
  // `rewired[s]`: the connections activated in store s.
  void restructure(const std::vector<SparseStore*>& stores, const std::vector<std::vector<uint32_t>>& dormant, uint64_t seed,
                   uint64_t step, std::vector<uint64_t>& rewired) override;

  // The budget: K active connections in every store, or their sum in all; "" or what is wrong.
  std::string check(const std::vector<SparseStore*>& stores) const override;

 private:
  bool global_budget_;
  GlobalShare share_;
  std::vector<uint64_t> dying_counts_;  // per store: how many died in this step
  std::vector<uint64_t> picks_;         // positions being regrown in one store
};

}  // namespace deepr
