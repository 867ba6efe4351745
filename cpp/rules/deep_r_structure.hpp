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

// What regrowth reads of a sparse store: its shape, budget and structure, never theta. A store
// whose values live on a device is rewired by the host from a copy of its row_start and source
// and the short list of its dying slots, with the same code as a store in memory.
struct StoreStructure {
  uint32_t n_in, n_out;
  uint32_t id;
  uint64_t budget;  // K: the active connections the store starts with
  uint32_t slots;   // row_start[n_out], its dying slots included
  const uint32_t* row_start;
  const uint32_t* source;

  uint64_t positions() const { return uint64_t(n_in) * n_out; }
};

StoreStructure structure_of(const SparseStore& store);

// `count` distinct positions drawn uniformly at random among the dormant positions of `store`,
// sorted, into `picks` (refilled, reusing its memory). The store's `dying` slots (ascending: they
// went dormant in this step and rewire() has not dropped them yet) count as dormant. Sparse
// stores use rejection (draw any position, redraw if active): expected fewer than two draws per
// pick while at most half the positions are taken, and no dense structure. When the store is more
// than half full, the dormant positions are enumerated instead, which then costs O(positions) = O(K).
// `places`, when given, receives each pick's born_place in the store (sparse_rewire.hpp).
void sample_dormant(const StoreStructure& store, const std::vector<uint32_t>& dying, uint64_t count,
                    const RngStream& stream, std::vector<uint64_t>& picks, std::vector<uint64_t>* places = nullptr);

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
std::vector<uint64_t> share_deficit(uint64_t deficit, const std::vector<StoreStructure>& stores,
                                    const std::vector<uint64_t>& dying, GlobalShare share, const RngStream& stream);

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
                   uint64_t step, const StepHyper& hyper, std::vector<uint64_t>& rewired) override;

  // restructure()'s decision alone, for stores held by a device: the positions that become active in
  // each store, `born[s]` (sorted), from each store's structure and dying slots. The caller then
  // rewires store s with (dormant[s], born[s]); `places`, when given, gets their born_places.
  void plan(const std::vector<StoreStructure>& stores, const std::vector<std::vector<uint32_t>>& dormant, uint64_t seed,
            uint64_t step, std::vector<std::vector<uint64_t>>& born, std::vector<std::vector<uint64_t>>* places = nullptr);

  // The budget: K active connections in every store, or their sum in all; "" or what is wrong.
  std::string check(const std::vector<SparseStore*>& stores) const override;

 private:
  bool global_budget_;
  GlobalShare share_;
  std::vector<uint64_t> dying_counts_;       // per store: how many died in this step
  std::vector<uint64_t> regrow_counts_;      // per store: how many regrow in this step
  std::vector<StoreStructure> structures_;  // restructure()'s stores as plan() reads them
  std::vector<std::vector<uint64_t>> born_;  // per store: the positions regrown in this step
  std::vector<std::vector<uint64_t>> born_places_;  // and where they go among its slots
};

}  // namespace deepr
