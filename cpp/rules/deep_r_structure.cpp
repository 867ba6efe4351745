#include "deep_r_structure.hpp"

#include <algorithm>
#include <stdexcept>

#include "random.hpp"

namespace deepr {

void sample_dormant(const SparseStore& store, uint64_t dying, uint64_t count, const RngStream& stream,
                    std::vector<uint64_t>& picks) {
  picks.clear();
  if (count == 0) return;
  const uint64_t total = store.positions(), active = store.active() - dying, dormant = total - active;
  if (count > dormant) throw std::logic_error("more regrowth requested than dormant positions");
  UniformIntegers uniform(stream);

  if (active + count > total / 2) {
    // Dense enough that enumerating is O(K): partial Fisher-Yates over the dormant positions.
    std::vector<uint64_t> candidates;
    candidates.reserve(dormant);
    for (uint32_t out = 0; out < store.n_out; ++out) {
      uint32_t k = store.row_start[out];
      for (uint32_t in = 0; in < store.n_in; ++in) {
        if (k < store.row_start[out + 1] && (store.source[k] & kIndexMask) == in && store.theta[k++] >= 0.0f) continue;
        candidates.push_back(uint64_t(out) * store.n_in + in);
      }
    }
    for (uint64_t n = 0; n < count; ++n) std::swap(candidates[n], candidates[n + uniform.below(dormant - n)]);
    picks.assign(candidates.begin(), candidates.begin() + count);
    std::sort(picks.begin(), picks.end());
    return;
  }
  // Rounds of i.i.d. uniform draws, as many as still missing, appended to the picks; keep the
  // distinct dormant ones. The result is the first `count` distinct dormant positions of an
  // i.i.d. uniform sequence, which is a uniform random subset. Memory is 8 bytes per pick.
  while (picks.size() < count) {
    const auto kept = std::ptrdiff_t(picks.size());
    picks.resize(count);
    uniform.below(total, count - kept, picks.data() + kept);
    std::sort(picks.begin() + kept, picks.end());
    auto end = std::unique(picks.begin() + kept, picks.end());
    end = std::remove_if(picks.begin() + kept, end, [&](uint64_t p) {
      return store.contains(p) || std::binary_search(picks.begin(), picks.begin() + kept, p);
    });
    picks.erase(end, picks.end());
    if (kept > 0) std::inplace_merge(picks.begin(), picks.begin() + kept, picks.end());
  }
}

std::vector<uint64_t> share_deficit(uint64_t deficit, const std::vector<SparseStore*>& stores, const std::vector<uint64_t>& dying,
                                    GlobalShare share, const RngStream& stream) {
  const size_t n = stores.size();
  std::vector<uint64_t> counts(n, 0), room(n);
  for (size_t l = 0; l < n; ++l) room[l] = stores[l]->positions() - (stores[l]->active() - dying[l]);
  UniformIntegers uniform(stream);
  std::vector<uint64_t> weight(n);
  for (uint64_t d = 0; d < deficit; ++d) {
    uint64_t total = 0;
    for (size_t l = 0; l < n; ++l) {
      weight[l] = room[l] == 0 ? 0 : (share == GlobalShare::kByBudget ? stores[l]->budget : room[l]);
      total += weight[l];
    }
    if (total == 0) throw std::logic_error("no dormant position left for the global budget");
    uint64_t u = uniform.below(total);
    size_t l = 0;
    while (u >= weight[l]) u -= weight[l++];
    ++counts[l];
    --room[l];
  }
  return counts;
}

void DeepRStructure::restructure(const std::vector<SparseStore*>& stores, const std::vector<std::vector<uint32_t>>& dormant,
                                 uint64_t seed, uint64_t step, std::vector<uint64_t>& rewired) {
  // The slots that went dormant in this step are still in place (theta < 0) until rewire() drops
  // them, and count as dormant positions already: regrowth may pick them again.
  const size_t n = stores.size();
  std::vector<uint64_t>& dying = dying_counts_;
  dying.resize(n);
  uint64_t deficit = 0;
  for (size_t s = 0; s < n; ++s) deficit += dying[s] = dormant[s].size();
  rewired = dying;
  if (global_budget_ && deficit > 0) rewired = share_deficit(deficit, stores, dying, share_, RngStream{seed, step, 0, Purpose::kRewireShare});
  for (size_t s = 0; s < n; ++s) {
    SparseStore& store = *stores[s];
    sample_dormant(store, dying[s], rewired[s], RngStream{seed, step, store.id, Purpose::kRewire}, picks_);
    store.rewire(dormant[s], picks_);
  }
}

std::string DeepRStructure::check(const std::vector<SparseStore*>& stores) const {
  uint64_t active = 0, budget = 0;
  for (const SparseStore* store : stores) {
    if (!global_budget_ && store->active() != store->budget)
      return "store " + std::to_string(store->id) + ": " + std::to_string(store->active()) + " active connections, budget " +
             std::to_string(store->budget);
    active += store->active();
    budget += store->budget;
  }
  if (active != budget)
    return std::to_string(active) + " active connections in the network, global budget " + std::to_string(budget);
  return "";
}

}  // namespace deepr
