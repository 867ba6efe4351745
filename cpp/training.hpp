// Epochs of minibatch training over an in-memory data set.
#pragma once

#include <cstdint>
#include <vector>

#include "network.hpp"

namespace deepr {

// The order in which epoch `epoch` visits `count` samples: a Fisher-Yates shuffle drawn from the
// seed, so a resumed run sees exactly the batches it would have seen.
std::vector<uint32_t> epoch_order(uint64_t seed, uint64_t epoch, uint32_t count);

struct DataView {
  const float* inputs;    // count x features, row-major
  const int32_t* labels;  // count; null when the loss head takes values
  uint32_t count;
  const float* values = nullptr;  // count x the head's outputs, row-major, when the loss head takes values
};

struct ChunkStats {
  std::vector<float> batch_loss;        // mean loss of each batch
  std::vector<uint32_t> batch_correct;  // correctly classified samples of each batch
  std::vector<uint64_t> rewired;        // connections activated per sparse store over the chunk
  double regrowth_seconds = 0;          // time spent on regrowth over the chunk
  double noise_seconds = 0;             // time spent drawing noise over the chunk
};

// Which rows of every batch this process trains when several processes share the batches (data
// parallelism): of a batch of n rows, process `rank` of `ranks` takes the contiguous rows
// [n rank / ranks, n (rank + 1) / ranks). With more than one process the network's gradient
// exchange must combine them (data_parallel_exchange.hpp): the loss it reports is then the batch's.
struct BatchShard {
  uint32_t rank = 0;
  uint32_t ranks = 1;
};

// Batches [first_batch, first_batch + batches) of the epoch whose sample order is `order`; the last
// batch of an epoch may be smaller. With `check` the strict-bound invariant is verified after
// every step and a violation throws std::logic_error. A batch with fewer rows than `shard.ranks`
// throws std::invalid_argument before the chunk starts.
void train_batches(Network& net, const DataView& data, const std::vector<uint32_t>& order, uint32_t batch_size,
                   uint64_t first_batch, uint64_t batches, const StepHyper& hyper, bool check, ChunkStats& stats,
                   const BatchShard& shard = {});

}  // namespace deepr
