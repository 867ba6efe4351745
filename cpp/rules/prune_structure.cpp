#include "prune_structure.hpp"

#include <cmath>

namespace deepr {

PruneStructure::PruneStructure(const std::map<std::string, double>& settings)
    : start_(uint64_t(settings.at("pruneStart"))),
      every_(uint64_t(settings.at("pruneEvery"))),
      times_(uint64_t(settings.at("pruneTimes"))),
      quality_(settings.at("quality")) {}

bool PruneStructure::prunes_at(uint64_t step) const {
  return step >= start_ && (step - start_) % every_ == 0 && (step - start_) / every_ < times_;
}

void PruneStructure::restructure(const std::vector<SparseStore*>& stores, const std::vector<std::vector<uint32_t>>&, uint64_t,
                                 uint64_t step, const StepHyper&, std::vector<uint64_t>& activated) {
  activated.assign(stores.size(), 0);
  if (!prunes_at(step)) return;
  for (SparseStore* store : stores) {
    small_weights(*store, quality_, removed_);
    store->rewire(removed_, {});
  }
}

void small_weights(const SparseStore& store, double quality, std::vector<uint32_t>& slots) {
  slots.clear();
  const size_t n = store.theta.size();
  if (n == 0) return;
  const auto weight = [&](size_t k) { return (store.source[k] & kSignBit) ? -double(store.theta[k]) : double(store.theta[k]); };
  double mean = 0;
  for (size_t k = 0; k < n; ++k) mean += weight(k);
  mean /= double(n);
  double variance = 0;
  for (size_t k = 0; k < n; ++k) variance += (weight(k) - mean) * (weight(k) - mean);
  const double threshold = quality * std::sqrt(variance / double(n));
  for (size_t k = 0; k < n; ++k)
    if (std::abs(double(store.theta[k])) <= threshold) slots.push_back(uint32_t(k));
}

}  // namespace deepr
