#include "deep_r_structure.hpp"

#include <algorithm>
#include <stdexcept>

#include "random.hpp"
#include "simd.hpp"

namespace deepr {

StoreStructure structure_of(const SparseStore& store) {
  return {store.n_in, store.n_out, store.id, store.budget, uint32_t(store.active()), store.row_start.data(), store.source.data()};
}

namespace {

// Where `position` goes among the store's slots: its born_place (sparse_rewire.hpp).
uint64_t place_of(const StoreStructure& store, uint64_t position) {
  return deepr::place_of(store.row_start, store.source, store.slots, store.n_in, position);
}

// Whether `position` is a connection that survives the step: it has a slot, not among `dying`.
// `place`: its place_of, where it would go if it were new.
bool survives(const StoreStructure& store, const std::vector<uint32_t>& dying, uint64_t position, uint64_t& place) {
  place = place_of(store, position);
  const uint32_t out = uint32_t(place >> 32), k = uint32_t(place), in = uint32_t(position - uint64_t(out) * store.n_in);
  return k < store.row_start[out + 1] && (store.source[k] & kIndexMask) == in &&
         !std::binary_search(dying.begin(), dying.end(), k);
}

// Merges the sorted picks [0, kept) and [kept, end) in place, and each one's place along with it
// when there are places: the later ones are copied after the end, then both merge from the back,
// so the room needed is that of the later round (a network's first structure draws all K at once).
void merge_rounds(std::vector<uint64_t>& picks, std::vector<uint64_t>* places, size_t kept) {
  const size_t end = picks.size();
  picks.resize(2 * end - kept);
  std::copy(picks.begin() + kept, picks.begin() + end, picks.begin() + end);
  if (places) {
    places->resize(2 * end - kept);
    std::copy(places->begin() + kept, places->begin() + end, places->begin() + end);
  }
  // i earlier and j later picks are left to place, the largest first; when the later ones are all
  // placed, the earlier ones left are already where they belong.
  for (size_t i = kept, j = end - kept, out = end; j > 0;) {
    const bool from_later = i == 0 || picks[end + j - 1] > picks[i - 1];
    const size_t from = from_later ? end + --j : --i;
    picks[--out] = picks[from];
    if (places) (*places)[out] = (*places)[from];
  }
  picks.resize(end);
  if (places) places->resize(end);
}

// Sorts up to 64 positions by rank: each one's place is the number of those before it, counted
// with no branch, which a vector unit does many at a time. A regrowth step sorts a few dozen
// random positions, where std::sort's branches mispredict about every other comparison. Every
// position is compared with all of them, padded to a multiple of 8 with a value above any
// position: the same loop for each, with no bound that changes from one to the next.
constexpr size_t kMostByRank = 64;

DEEPR_DISPATCH
void sort_by_rank(uint64_t* positions, size_t count) {
  int64_t p[kMostByRank];  // positions are below 2^62: signed compares vectorise on more targets
  const size_t padded = (count + 7) / 8 * 8;
  std::copy(positions, positions + count, p);
  std::fill(p + count, p + padded, INT64_MAX);
  for (size_t i = 0; i < count; ++i) {
    const int64_t at = p[i];
    int64_t rank = 0;  // those below, and the equal ones before: equal positions keep their order
    for (size_t j = 0; j < padded; ++j) rank += (p[j] < at) | ((p[j] == at) & (j < i));
    positions[rank] = uint64_t(at);
  }
}

// Merges the sorted runs a[0 .. na) and b[0 .. nb) into out, taking each next value with a
// conditional move rather than a branch on which run it comes from.
void merge_runs(const uint64_t* a, size_t na, const uint64_t* b, size_t nb, uint64_t* out) {
  size_t i = 0, j = 0;
  while (i < na && j < nb) {
    const bool from_b = b[j] < a[i];
    *out++ = from_b ? b[j] : a[i];
    j += from_b;
    i += !from_b;
  }
  out = std::copy(a + i, a + na, out);
  std::copy(b + j, b + nb, out);
}

// Up to this many positions sort by merging, beyond with std::sort, in place: a network's first
// structure draws all of its K positions at once, where a copy to merge into would add 8 bytes
// per connection to the peak memory.
constexpr size_t kMostMerged = 1 << 16;

// Sorts `count` positions: up to kMostMerged, blocks of 64 by rank, then merged pairwise into
// `scratch` (room for `count`) and back; regrowth in the first epochs of a run draws a hundred or
// more at once.
void sort_positions(uint64_t* positions, size_t count, uint64_t* scratch) {
  if (count > kMostMerged) return std::sort(positions, positions + count);
  for (size_t b = 0; b < count; b += kMostByRank) sort_by_rank(positions + b, std::min(kMostByRank, count - b));
  uint64_t *from = positions, *to = scratch;
  for (size_t width = kMostByRank; width < count; width *= 2) {
    for (size_t b = 0; b < count; b += 2 * width) {
      const size_t mid = std::min(b + width, count), end = std::min(b + 2 * width, count);
      merge_runs(from + b, mid - b, from + mid, end - mid, to + b);
    }
    std::swap(from, to);
  }
  if (from != positions) std::copy(from, from + count, positions);
}

}  // namespace

void sample_dormant(const StoreStructure& store, const std::vector<uint32_t>& dying, uint64_t count,
                    const RngStream& stream, std::vector<uint64_t>& picks, std::vector<uint64_t>* places) {
  picks.clear();
  if (places) places->clear();
  if (count == 0) return;
  const uint64_t total = store.positions(), active = store.slots - dying.size(), dormant = total - active;
  if (count > dormant) throw std::logic_error("more regrowth requested than dormant positions");
  UniformIntegers uniform(stream);

  if (active + count > total / 2) {
    // Dense enough that enumerating is O(K): partial Fisher-Yates over the dormant positions.
    std::vector<uint64_t> candidates;
    candidates.reserve(dormant);
    size_t d = 0;  // the next dying slot: slots are visited in ascending order
    for (uint32_t out = 0; out < store.n_out; ++out) {
      uint32_t k = store.row_start[out];
      for (uint32_t in = 0; in < store.n_in; ++in) {
        if (k < store.row_start[out + 1] && (store.source[k] & kIndexMask) == in) {
          const bool died = d < dying.size() && dying[d] == k;
          ++k;
          d += died;
          if (!died) continue;
        }
        candidates.push_back(uint64_t(out) * store.n_in + in);
      }
    }
    for (uint64_t n = 0; n < count; ++n) std::swap(candidates[n], candidates[n + uniform.below(dormant - n)]);
    picks.assign(candidates.begin(), candidates.begin() + count);
    std::sort(picks.begin(), picks.end());
    if (places)
      for (uint64_t p : picks) places->push_back(place_of(store, p));
    return;
  }
  // Rounds of i.i.d. uniform draws, as many as still missing, appended to the picks; keep the
  // distinct dormant ones. The result is the first `count` distinct dormant positions of an
  // i.i.d. uniform sequence, which is a uniform random subset. Memory is 8 bytes per pick.
  while (picks.size() < count) {
    const auto kept = std::ptrdiff_t(picks.size());
    const uint64_t drawn = count - kept;
    picks.resize(count + (drawn > kMostMerged ? 0 : drawn));  // the draws, then room to sort them
    uniform.below(total, drawn, picks.data() + kept);
    sort_positions(picks.data() + kept, drawn, picks.data() + count);
    // Each distinct draw that is dormant and not an earlier round's pick, in order, with its place.
    if (places) places->resize(count);
    size_t end = size_t(kept);
    for (size_t r = size_t(kept); r < count; ++r) {
      const uint64_t p = picks[r];  // picks[r - 1] still holds draw r - 1: no write so far went past it
      uint64_t place;
      if ((r > size_t(kept) && p == picks[r - 1]) || survives(store, dying, p, place) ||
          std::binary_search(picks.begin(), picks.begin() + kept, p))
        continue;
      if (places) (*places)[end] = place;
      picks[end++] = p;
    }
    picks.resize(end);
    if (places) places->resize(end);
    if (kept > 0) merge_rounds(picks, places, size_t(kept));
  }
}

std::vector<uint64_t> share_deficit(uint64_t deficit, const std::vector<StoreStructure>& stores,
                                    const std::vector<uint64_t>& dying, GlobalShare share, const RngStream& stream) {
  const size_t n = stores.size();
  std::vector<uint64_t> counts(n, 0), room(n);
  for (size_t l = 0; l < n; ++l) room[l] = stores[l].positions() - (stores[l].slots - dying[l]);
  UniformIntegers uniform(stream);
  std::vector<uint64_t> weight(n);
  for (uint64_t d = 0; d < deficit; ++d) {
    uint64_t total = 0;
    for (size_t l = 0; l < n; ++l) {
      weight[l] = room[l] == 0 ? 0 : (share == GlobalShare::kByBudget ? stores[l].budget : room[l]);
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
                                 uint64_t seed, uint64_t step, const StepHyper&, std::vector<uint64_t>& rewired) {
  structures_.clear();
  for (const SparseStore* store : stores) structures_.push_back(structure_of(*store));
  plan(structures_, dormant, seed, step, born_, &born_places_);
  rewired.resize(stores.size());
  for (size_t s = 0; s < stores.size(); ++s) {
    stores[s]->rewire(dormant[s], born_[s], born_places_[s].data());
    rewired[s] = born_[s].size();
  }
}

void DeepRStructure::plan(const std::vector<StoreStructure>& stores, const std::vector<std::vector<uint32_t>>& dormant,
                          uint64_t seed, uint64_t step, std::vector<std::vector<uint64_t>>& born,
                          std::vector<std::vector<uint64_t>>* places) {
  // The slots that went dormant in this step are still in place until rewire() drops them, and
  // count as dormant positions already: regrowth may pick them again.
  const size_t n = stores.size();
  std::vector<uint64_t>& dying = dying_counts_;
  dying.resize(n);
  uint64_t deficit = 0;
  for (size_t s = 0; s < n; ++s) deficit += dying[s] = dormant[s].size();
  std::vector<uint64_t>& counts = regrow_counts_;
  counts = dying;
  if (global_budget_ && deficit > 0) counts = share_deficit(deficit, stores, dying, share_, RngStream{seed, step, 0, Purpose::kRewireShare});
  born.resize(n);
  if (places) places->resize(n);
  for (size_t s = 0; s < n; ++s)
    sample_dormant(stores[s], dormant[s], counts[s], RngStream{seed, step, stores[s].id, Purpose::kRewire}, born[s],
                   places ? &(*places)[s] : nullptr);
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
