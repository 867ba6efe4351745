#include "sparse_store.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "random.hpp"

namespace deepr {

SparseStore::SparseStore(uint32_t n_in_, uint32_t n_out_, uint32_t id_, uint64_t seed_, uint64_t budget_)
    : n_in(n_in_), n_out(n_out_), id(id_), seed(seed_), budget(budget_), row_start(size_t(n_out_) + 1, 0) {
  if (n_in == 0 || n_out == 0 || n_in > kMaxLayerSize || n_out > kMaxLayerSize)
    throw std::invalid_argument("store sizes must be in [1, 2^31 - 1]");
  if (budget == 0 || budget > positions() || budget > kMaxLayerSize)
    throw std::invalid_argument("the budget of sparse store " + std::to_string(id) + " must be in [1, min(" +
                                std::to_string(n_in) + " x " + std::to_string(n_out) + ", 2^31 - 1)], got " +
                                std::to_string(budget));
}

bool SparseStore::contains(uint64_t position) const {
  const uint32_t out = uint32_t(position / n_in), in = uint32_t(position % n_in);
  const uint32_t k = slot_for(row_start.data(), source.data(), uint32_t(theta.size()), out, in);
  return k < row_start[out + 1] && (source[k] & kIndexMask) == in && theta[k] >= 0.0f;
}

void SparseStore::resize_slots(size_t size) {
  source.resize(size);
  theta.resize(size);
  for (StateArray& s : states) s.values.resize(size);
}

void SparseStore::rewire(const std::vector<uint32_t>& dying, const std::vector<uint64_t>& born, const uint64_t* born_places) {
  if (dying.empty() && born.empty()) return;
  const uint64_t old_size = theta.size(), new_size = old_size - dying.size() + born.size();
  if (new_size > kMaxLayerSize) throw std::length_error("too many connections in one store");
  if (new_size > old_size) resize_slots(new_size);
  SparseView buffers = view();
  buffers.slots = uint32_t(old_size);
  rewire_slots(buffers, seed, dying.data(), uint32_t(dying.size()), born.data(), uint32_t(born.size()), rewire_scratch_,
               born_places);
  resize_slots(new_size);
}

SparseView SparseStore::view() {
  SparseView v{n_in, n_out, id, uint32_t(theta.size()), row_start.data(), source.data(), theta.data(), uint32_t(states.size()), {}};
  for (size_t s = 0; s < states.size(); ++s) v.state[s] = states[s].values.data();
  return v;
}

void SparseStore::assign(const std::vector<uint64_t>& sorted_positions, const std::vector<float>& thetas) {
  if (sorted_positions.size() != thetas.size()) throw std::invalid_argument("positions and theta differ in length");
  if (sorted_positions.size() > kMaxLayerSize) throw std::length_error("too many connections in one store");
  source.resize(sorted_positions.size());
  theta = thetas;
  for (StateArray& s : states) s.values.assign(theta.size(), 0.0f);
  std::fill(row_start.begin(), row_start.end(), 0u);
  for (size_t k = 0; k < sorted_positions.size(); ++k) {
    const uint64_t p = sorted_positions[k];
    if (p >= positions()) throw std::out_of_range("position out of range");
    source[k] = uint32_t(p % n_in) | (position_is_negative(seed, id, p) ? kSignBit : 0u);
    ++row_start[p / n_in + 1];
  }
  for (uint32_t out = 0; out < n_out; ++out) row_start[out + 1] += row_start[out];
}

std::string SparseStore::check(bool signed_theta) const {
  const std::string where = "store " + std::to_string(id) + ": ";
  if (row_start.size() != size_t(n_out) + 1 || row_start[0] != 0 || row_start[n_out] != theta.size() ||
      source.size() != theta.size())
    return where + "slot arrays are inconsistent";
  for (const StateArray& s : states)
    if (s.values.size() != theta.size()) return where + "state array " + s.name + " has the wrong length";
  for (uint32_t out = 0; out < n_out; ++out) {
    if (row_start[out] > row_start[out + 1]) return where + "row offsets decrease at output " + std::to_string(out);
    for (uint32_t k = row_start[out]; k < row_start[out + 1]; ++k) {
      const uint32_t in = source[k] & kIndexMask;
      if (in >= n_in) return where + "input index out of range at slot " + std::to_string(k);
      if (k > row_start[out] && in <= (source[k - 1] & kIndexMask))
        return where + "duplicate or unsorted connection at output " + std::to_string(out) + ", input " + std::to_string(in);
      if (!(theta[k] >= 0.0f || signed_theta) || !std::isfinite(theta[k]))
        return where + "slot " + std::to_string(k) + " is not active (theta " + std::to_string(theta[k]) + ")";
      if (((source[k] & kSignBit) != 0) != position_is_negative(seed, id, position_of(k, out)))
        return where + "sign of slot " + std::to_string(k) + " differs from its position's fixed sign";
    }
  }
  return "";
}

}  // namespace deepr
