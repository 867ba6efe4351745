#include "soft_deep_r_structure.hpp"

#include <algorithm>

#include "random.hpp"

namespace deepr {

float SoftDeepRStructure::theta_min(const SparseStore& store) const {
  const double p0 = double(store.budget) / double(store.positions());
  return float(-(1.0 - p0) / (p0 * beta_));
}

void SoftDeepRStructure::mark_active(const SparseStore& store) {
  active_.assign(store.positions(), 0);
  for (uint32_t out = 0; out < store.n_out; ++out)
    for (uint32_t k = store.row_start[out]; k < store.row_start[out + 1]; ++k) active_[store.position_of(k, out)] = 1;
}

void SoftDeepRStructure::adopt(const std::vector<SparseStore*>& stores, uint64_t seed) {
  for (SparseStore* store : stores) {
    if (store->dormant_theta.size() == store->positions()) continue;  // kept across a change of optimiser
    const float floor = theta_min(*store);
    const RngStream stream{seed, 0, store->id, Purpose::kDormantInit};
    mark_active(*store);
    store->dormant_theta.assign(store->positions(), 0.0f);
    for (uint64_t p = 0; p < store->positions(); ++p)
      if (!active_[p]) {
        const uint32_t k = stream.block(uint32_t(p))[0] >> 8;
        store->dormant_theta[p] = float(0x1000000u - k) * 0x1p-24f * floor;
      }
  }
}

void SoftDeepRStructure::restructure(const std::vector<SparseStore*>& stores, const std::vector<std::vector<uint32_t>>& dormant,
                                     uint64_t seed, uint64_t step, const StepHyper& hyper, std::vector<uint64_t>& activated) {
  activated.assign(stores.size(), 0);
  for (size_t s = 0; s < stores.size(); ++s) {
    SparseStore& store = *stores[s];
    const uint64_t positions = store.positions();
    const float floor = theta_min(store);
    float* theta = store.dormant_theta.data();
    mark_active(store);
    if (hyper.noise_std > 0.0f) {
      noise_.resize(positions);
      fill_normals(RngStream{seed, step, store.id, Purpose::kDormantNoise}, 0, positions, noise_.data());
      for (uint64_t p = 0; p < positions; ++p)
        if (!active_[p]) theta[p] = std::max(theta[p] + hyper.noise_std * noise_[p], floor);
    }
    // The slots that went dormant in this step took this step's update already: only the clip.
    const std::vector<uint32_t>& dying = dormant[s];
    for (size_t d = 0, out = 0; d < dying.size(); ++d) {
      while (store.row_start[out + 1] <= dying[d]) ++out;
      theta[store.position_of(dying[d], uint32_t(out))] = std::max(store.theta[dying[d]], floor);
    }
    born_.clear();
    for (uint64_t p = 0; p < positions; ++p)
      if (!active_[p] && theta[p] >= 0.0f) born_.push_back(p);
    store.rewire(dying, born_);
    // rewire() activates at theta = 0; a soft-DEEP R connection continues from the theta it walked to.
    for (const uint64_t p : born_) {
      const uint32_t out = uint32_t(p / store.n_in), in = uint32_t(p % store.n_in);
      const auto first = store.source.begin() + store.row_start[out], last = store.source.begin() + store.row_start[out + 1];
      const auto slot = std::lower_bound(first, last, in, [](uint32_t source, uint32_t i) { return (source & kIndexMask) < i; });
      store.theta[size_t(slot - store.source.begin())] = theta[p];
      theta[p] = 0.0f;
    }
    activated[s] = born_.size();
  }
}

std::string SoftDeepRStructure::check(const std::vector<SparseStore*>& stores) const {
  std::vector<uint8_t> active;
  for (const SparseStore* store : stores) {
    const std::string where = "store " + std::to_string(store->id) + ": ";
    if (store->dormant_theta.size() != store->positions())
      return where + "soft-deep-r keeps one dormant theta per position, " + std::to_string(store->positions()) + ", it has " +
             std::to_string(store->dormant_theta.size());
    active.assign(store->positions(), 0);
    for (uint32_t out = 0; out < store->n_out; ++out)
      for (uint32_t k = store->row_start[out]; k < store->row_start[out + 1]; ++k) active[store->position_of(k, out)] = 1;
    const float floor = theta_min(*store);
    for (uint64_t p = 0; p < store->positions(); ++p) {
      const float t = store->dormant_theta[p];
      if (active[p] ? t != 0.0f : !(t < 0.0f && t >= floor))
        return where + "dormant theta " + std::to_string(t) + " at position " + std::to_string(p) +
               (active[p] ? " of an active connection (it should be 0)" : " outside [theta_min, 0) = [" + std::to_string(floor) + ", 0)");
    }
  }
  return "";
}

std::string SoftDeepRStructure::admits(const std::vector<SparseStore*>& stores) const {
  for (const SparseStore* store : stores)
    if (store->dormant_theta.size() == store->positions()) return check(stores);  // kept from a soft-DEEP R rule
  return "";
}

}  // namespace deepr
