#include "training.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "random.hpp"

namespace deepr {

std::vector<uint32_t> epoch_order(uint64_t seed, uint64_t epoch, uint32_t count) {
  std::vector<uint32_t> order(count);
  for (uint32_t n = 0; n < count; ++n) order[n] = n;
  UniformIntegers uniform(RngStream{seed, epoch, 0, Purpose::kShuffle});
  for (uint32_t n = count; n > 1; --n) std::swap(order[n - 1], order[uniform.below(n)]);
  return order;
}

void train_batches(Network& net, const DataView& data, const std::vector<uint32_t>& order, uint32_t batch_size,
                   uint64_t first_batch, uint64_t batches, const StepHyper& hyper, bool check, ChunkStats& stats,
                   const BatchShard& shard) {
  if (batch_size == 0) throw std::invalid_argument("batch size must be at least 1");
  if (order.size() != data.count) throw std::invalid_argument("sample order does not match the data set");
  if (shard.ranks == 0 || shard.rank >= shard.ranks) throw std::invalid_argument("the shard's rank is not below its ranks");
  const uint64_t per_epoch = (uint64_t(data.count) + batch_size - 1) / batch_size;
  if (first_batch + batches > per_epoch) throw std::out_of_range("batch range goes past the end of the epoch");
  const uint64_t smallest = std::min<uint64_t>(batch_size, data.count - (per_epoch - 1) * batch_size);
  if (smallest < shard.ranks)
    throw std::invalid_argument("a batch of " + std::to_string(smallest) + " samples cannot be split over " +
                                std::to_string(shard.ranks) + " processes");
  stats.batch_loss.clear();
  stats.batch_correct.clear();
  stats.rewired.assign(net.sparse_stores().size(), 0);
  stats.regrowth_seconds = stats.noise_seconds = 0;
  StepStats step;
  for (uint64_t n = first_batch; n < first_batch + batches; ++n) {
    const uint64_t first = n * batch_size;
    const uint32_t size = uint32_t(std::min<uint64_t>(batch_size, data.count - first));
    const uint64_t begin = uint64_t(size) * shard.rank / shard.ranks, end = uint64_t(size) * (shard.rank + 1) / shard.ranks;
    net.train_step(data.inputs, SampleTargets{data.labels, data.values}, order.data() + first + begin, uint32_t(end - begin),
                   hyper, step);
    stats.batch_loss.push_back(float(step.loss.loss_sum / size));
    stats.batch_correct.push_back(step.loss.correct);
    for (size_t l = 0; l < step.rewired.size(); ++l) stats.rewired[l] += step.rewired[l];
    stats.regrowth_seconds += step.regrowth_seconds;
    stats.noise_seconds += step.noise_seconds;
    if (check) {
      const std::string problem = net.check();
      if (!problem.empty()) throw std::logic_error("invariant violated after step " + std::to_string(net.step()) + ": " + problem);
    }
  }
}

}  // namespace deepr
