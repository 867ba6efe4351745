// The gradient exchange of data-parallel training: every process trains its own rows of the same
// global batch, and one all-reduce of a single buffer makes every process hold the gradients of
// the whole batch. The structure never crosses the network: every random number is a function of
// (seed, store, step, purpose), so every process draws the same noise and the same regrowth and
// its network stays identical to the others'.
#pragma once

#include <vector>

#include "distributed/collective.hpp"
#include "gradients.hpp"
#include "network.hpp"

namespace deepr {

// The buffer, in float: every store's gradients times the process's rows (layers in order, the
// stores of a layer in order; K values for a sparse store), then the loss sum, the correct count,
// the rows and 1 when this process's loss is not finite (the collective decision to stop or skip).
// Summed over processes it holds the global batch's gradient sums, loss and counts.
void pack_gradients(const std::vector<LayerGradients>& layers, const BatchLoss& loss, std::vector<float>& buffer);

// The inverse of pack_gradients on a summed buffer: gradients divided by the summed rows (the mean
// over the global batch, whatever share of rows each process had), the summed loss (NaN when any
// process's was not finite) and rows. Throws std::logic_error when the buffer does not fit.
void unpack_gradients(const std::vector<float>& buffer, std::vector<LayerGradients>& layers, BatchLoss& loss);

// What an exchange has all-reduced so far, for the benchmarks' split of a step into compute and
// communication: the all-reduces, the bytes this process contributed to them, and their seconds
// (which include waiting for the slowest process to arrive).
struct ExchangeMeter {
  uint64_t all_reduces = 0;
  uint64_t bytes = 0;
  double seconds = 0;
};

// The exchange of `net` that packs, sums over `collective` and unpacks. Every `agree_every` steps
// (0: never) the same all-reduce also gathers every process's state_hash (state_agreement.hpp)
// and, when they differ, the step throws std::runtime_error on every process before updating
// anything. Each all-reduce is added to `meter` when given. The collective, the network and the
// meter must outlive it.
GradientExchange data_parallel_exchange(Collective& collective, const Network& net, uint64_t agree_every,
                                        ExchangeMeter* meter = nullptr);

}  // namespace deepr
