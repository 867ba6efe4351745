#include "rewiring.hpp"

#include <algorithm>
#include <stdexcept>

#include "random.hpp"

namespace deepr {

void sample_dormant(const SparseLayer& layer, uint64_t dying, uint64_t count, const RngStream& stream,
                    std::vector<uint64_t>& picks) {
  picks.clear();
  if (count == 0) return;
  const uint64_t total = layer.positions(), active = layer.active() - dying, dormant = total - active;
  if (count > dormant) throw std::logic_error("more regrowth requested than dormant positions");
  UniformIntegers uniform(stream);

  if (active + count > total / 2) {
    // Dense enough that enumerating is O(K): partial Fisher-Yates over the dormant positions.
    std::vector<uint64_t> candidates;
    candidates.reserve(dormant);
    for (uint32_t out = 0; out < layer.n_out; ++out) {
      uint32_t k = layer.row_start[out];
      for (uint32_t in = 0; in < layer.n_in; ++in) {
        if (k < layer.row_start[out + 1] && (layer.source[k] & kIndexMask) == in && layer.theta[k++] >= 0.0f) continue;
        candidates.push_back(uint64_t(out) * layer.n_in + in);
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
      return layer.contains(p) || std::binary_search(picks.begin(), picks.begin() + kept, p);
    });
    picks.erase(end, picks.end());
    if (kept > 0) std::inplace_merge(picks.begin(), picks.begin() + kept, picks.end());
  }
}

std::vector<uint64_t> share_deficit(uint64_t deficit, const std::vector<SparseLayer>& layers, const std::vector<uint64_t>& dying,
                                    const std::vector<uint64_t>& budgets, GlobalShare share, const RngStream& stream) {
  const size_t n = layers.size();
  std::vector<uint64_t> counts(n, 0), room(n);
  for (size_t l = 0; l < n; ++l) room[l] = layers[l].positions() - (layers[l].active() - dying[l]);
  UniformIntegers uniform(stream);
  std::vector<uint64_t> weight(n);
  for (uint64_t d = 0; d < deficit; ++d) {
    uint64_t total = 0;
    for (size_t l = 0; l < n; ++l) {
      weight[l] = room[l] == 0 ? 0 : (share == GlobalShare::kByBudget ? budgets[l] : room[l]);
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

}  // namespace deepr
