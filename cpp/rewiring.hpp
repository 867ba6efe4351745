// Regrowth: choosing which dormant connections become active again.
#pragma once

#include <cstdint>
#include <vector>

#include "philox.hpp"
#include "sparse_layer.hpp"

namespace deepr {

// `count` distinct positions drawn uniformly at random among the dormant positions of `layer`,
// sorted, into `picks` (refilled, reusing its memory). The layer's `dying` slots (theta < 0: they
// went dormant in this step and rewire() has not dropped them yet) count as dormant. Sparse
// layers use rejection (draw any position, redraw if active): expected fewer than two draws per
// pick while at most half the positions are taken, and no dense structure. When the layer is more
// than half full, the dormant positions are enumerated instead, which then costs O(positions) = O(K).
void sample_dormant(const SparseLayer& layer, uint64_t dying, uint64_t count, const RngStream& stream,
                    std::vector<uint64_t>& picks);

// How a network-wide budget shares its deficit between layers.
enum class GlobalShare : uint32_t {
  // Each new connection picks a layer with probability proportional to the layer's initial budget
  // K_l: the reference code's global-constraint script (script_mnist_deep_rewiring_with_global_constraint.py).
  kByBudget = 0,
  // Proportional to the layer's dormant positions, i.e. uniform over all dormant connections of
  // the network: Algorithm 1 read literally with one budget.
  kByDormant = 1,
};

// Splits `deficit` new connections between layers. A layer never receives more than it has
// dormant positions (its `dying` slots included). Returns one count per layer.
std::vector<uint64_t> share_deficit(uint64_t deficit, const std::vector<SparseLayer>& layers, const std::vector<uint64_t>& dying,
                                    const std::vector<uint64_t>& budgets, GlobalShare share, const RngStream& stream);

}  // namespace deepr
