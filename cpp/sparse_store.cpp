#include "sparse_store.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
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

uint32_t SparseStore::slot_for(uint32_t out, uint32_t in) const {
  // lower_bound with a conditional move per level instead of a branch: which way the search goes
  // is unpredictable, and a misprediction costs more than the whole search of a short row.
  const uint32_t* base = source.data() + row_start[out];
  uint32_t n = row_start[out + 1] - row_start[out];
  if (n == 0) return row_start[out];
  for (; n > 1; n -= n / 2) base = (base[n / 2] & kIndexMask) < in ? base + n / 2 : base;
  return uint32_t(base - source.data()) + ((*base & kIndexMask) < in);
}

bool SparseStore::contains(uint64_t position) const {
  const uint32_t out = uint32_t(position / n_in), in = uint32_t(position % n_in);
  const uint32_t k = slot_for(out, in);
  return k < row_start[out + 1] && (source[k] & kIndexMask) == in && theta[k] >= 0.0f;
}

void SparseStore::move_slots(uint32_t begin, uint32_t end, uint32_t to) {
  const size_t n = end - begin;
  std::memmove(source.data() + to, source.data() + begin, n * sizeof(uint32_t));
  std::memmove(theta.data() + to, theta.data() + begin, n * sizeof(float));
  for (StateArray& s : states) std::memmove(s.values.data() + to, s.values.data() + begin, n * sizeof(float));
}

void SparseStore::resize_slots(size_t size) {
  source.resize(size);
  theta.resize(size);
  for (StateArray& s : states) s.values.resize(size);
}

void SparseStore::rewire(const std::vector<uint32_t>& dying, const std::vector<uint64_t>& born) {
  if (dying.empty() && born.empty()) return;
  const uint32_t old_size = uint32_t(theta.size());
  const uint64_t new_size = uint64_t(old_size) - dying.size() + born.size();
  if (new_size > kMaxLayerSize) throw std::length_error("too many connections in one store");
  // Where each new connection goes among the old slots (before old slot insert_at_[n]).
  insert_at_.resize(born.size());
  born_rows_.resize(born.size());
  for (size_t n = 0; n < born.size(); ++n) {
    const uint32_t out = uint32_t(born[n] / n_in), in = uint32_t(born[n] - uint64_t(out) * n_in);
    born_rows_[n] = out + 1;  // the first row after it
    insert_at_[n] = slot_for(out, in);
  }

  // Between two events (a removal, an insertion) the kept old slots form a run that moves by
  // (insertions - removals) before it. Runs that move down move at once, from the front; those
  // that move up wait and then move from the back; no slot is overwritten before it has moved,
  // and each moves once.
  if (new_size > old_size) resize_slots(new_size);
  runs_.clear();
  size_t d = 0, n = 0;
  int64_t shift = 0;
  for (uint32_t k = 0; k < old_size;) {
    const uint32_t event = std::min(d < dying.size() ? dying[d] : old_size, n < born.size() ? insert_at_[n] : old_size);
    if (event > k && shift < 0) move_slots(k, event, uint32_t(k + shift));
    if (event > k && shift > 0) runs_.push_back({k, event, uint32_t(shift)});
    for (; n < born.size() && insert_at_[n] == event; ++n) {
      insert_at_[n] = uint32_t(event + shift);  // from now on: the new connection's final slot
      ++shift;
    }
    k = event;
    if (d < dying.size() && dying[d] == event) {
      ++d;
      --shift;
      ++k;
    }
  }
  for (; n < born.size(); ++n) insert_at_[n] = uint32_t(old_size + shift++);  // after the last old slot
  for (auto r = runs_.rbegin(); r != runs_.rend(); ++r) move_slots(r->begin, r->end, r->begin + r->up);
  for (size_t m = 0; m < born.size(); ++m) {
    const uint32_t at = insert_at_[m], in = uint32_t(born[m] - uint64_t(born_rows_[m] - 1) * n_in);
    source[at] = in | (position_is_negative(seed, id, born[m]) ? kSignBit : 0u);
    theta[at] = 0.0f;
    for (StateArray& s : states) s.values[at] = 0.0f;
  }
  resize_slots(new_size);

  // Row offsets: + the new connections in the rows before, - the removed slots before the old
  // offset. Mark where each count steps (the row after a new connection's; the first row whose
  // old offset is past a removed slot), then add the running sum, without a branch per row.
  row_steps_.resize(size_t(n_out) + 2);  // all zero between calls
  uint32_t first_row = n_out + 1, last_row = 0;
  const auto mark = [&](uint32_t row, uint32_t step) {
    row_steps_[row] += step;
    first_row = std::min(first_row, row);
    last_row = std::max(last_row, row);
  };
  for (size_t m = 0; m < born.size(); ++m) mark(born_rows_[m], 1);
  for (uint32_t slot : dying) {
    // A binary search with a conditional move per level instead of a branch (they are
    // unpredictable, and there are log2(n_out) of them).
    const uint32_t* base = row_start.data();
    for (size_t n = row_start.size(); n > 1; n -= n / 2) base = base[n / 2] <= slot ? base + n / 2 : base;
    mark(uint32_t(base - row_start.data()) + (*base <= slot), uint32_t(-1));
  }
  uint32_t delta = 0;  // modulo 2^32: the offsets stay in range, the steps may be negative
  for (uint32_t out = first_row; out <= last_row; ++out) {
    delta += row_steps_[out];
    row_steps_[out] = 0;
    row_start[out] += delta;
  }
  for (uint32_t out = last_row + 1; out <= n_out && delta != 0; ++out) row_start[out] += delta;  // stores that grew or shrank
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
