#include "sparse_rewire.hpp"

#include <algorithm>
#include <cstring>

#include "philox_distributions.hpp"

namespace deepr {

namespace {

// Moves slots [begin, end) to [to, to + end - begin) in every per-slot array; the ranges may overlap.
void move_slots(const SparseView& v, uint32_t* source, uint32_t begin, uint32_t end, uint32_t to) {
  const size_t n = end - begin;
  std::memmove(source + to, source + begin, n * sizeof(uint32_t));
  if (v.theta) std::memmove(v.theta + to, v.theta + begin, n * sizeof(float));
  for (uint32_t s = 0; s < v.states; ++s) std::memmove(v.state[s] + to, v.state[s] + begin, n * sizeof(float));
}

}  // namespace

uint32_t slot_for(const uint32_t* row_start, const uint32_t* source, uint32_t out, uint32_t in) {
  // lower_bound with a conditional move per level instead of a branch: which way the search goes
  // is unpredictable, and a misprediction costs more than the whole search of a short row.
  const uint32_t* base = source + row_start[out];
  uint32_t n = row_start[out + 1] - row_start[out];
  if (n == 0) return row_start[out];
  for (; n > 1; n -= n / 2) base = (base[n / 2] & kIndexMask) < in ? base + n / 2 : base;
  return uint32_t(base - source) + ((*base & kIndexMask) < in);
}

uint32_t rewire_slots(const SparseView& v, uint64_t seed, const uint32_t* dying, uint32_t dying_count,
                      const uint64_t* born, uint32_t born_count, RewireScratch& scratch) {
  const uint32_t old_size = v.slots;
  if (dying_count == 0 && born_count == 0) return old_size;
  uint32_t* row_start = const_cast<uint32_t*>(v.row_start);  // the buffers are the caller's, writable
  uint32_t* source = const_cast<uint32_t*>(v.source);
  const uint32_t n_in = v.n_in, n_out = v.n_out;
  std::vector<uint32_t>& insert_at = scratch.insert_at;
  std::vector<uint32_t>& born_rows = scratch.born_rows;
  // Where each new connection goes among the old slots (before old slot insert_at[n]).
  insert_at.resize(born_count);
  born_rows.resize(born_count);
  for (uint32_t n = 0; n < born_count; ++n) {
    const uint32_t out = uint32_t(born[n] / n_in), in = uint32_t(born[n] - uint64_t(out) * n_in);
    born_rows[n] = out + 1;  // the first row after it
    insert_at[n] = slot_for(row_start, source, out, in);
  }

  // Between two events (a removal, an insertion) the kept old slots form a run that moves by
  // (insertions - removals) before it. Runs that move down move at once, from the front; those
  // that move up wait and then move from the back; no slot is overwritten before it has moved,
  // and each moves once.
  scratch.runs.clear();
  uint32_t d = 0, n = 0;
  int64_t shift = 0;
  for (uint32_t k = 0; k < old_size;) {
    const uint32_t event = std::min(d < dying_count ? dying[d] : old_size, n < born_count ? insert_at[n] : old_size);
    if (event > k && shift < 0) move_slots(v, source, k, event, uint32_t(k + shift));
    if (event > k && shift > 0) scratch.runs.push_back({k, event, uint32_t(shift)});
    for (; n < born_count && insert_at[n] == event; ++n) {
      insert_at[n] = uint32_t(event + shift);  // from now on: the new connection's final slot
      ++shift;
    }
    k = event;
    if (d < dying_count && dying[d] == event) {
      ++d;
      --shift;
      ++k;
    }
  }
  for (; n < born_count; ++n) insert_at[n] = uint32_t(old_size + shift++);  // after the last old slot
  for (auto r = scratch.runs.rbegin(); r != scratch.runs.rend(); ++r) move_slots(v, source, r->begin, r->end, r->begin + r->up);
  for (uint32_t m = 0; m < born_count; ++m) {
    const uint32_t at = insert_at[m], in = uint32_t(born[m] - uint64_t(born_rows[m] - 1) * n_in);
    source[at] = in | (position_is_negative(seed, v.id, born[m]) ? kSignBit : 0u);
    if (v.theta) v.theta[at] = 0.0f;
    for (uint32_t s = 0; s < v.states; ++s) v.state[s][at] = 0.0f;
  }

  // Row offsets: + the new connections in the rows before, - the removed slots before the old
  // offset. Mark where each count steps (the row after a new connection's; the first row whose
  // old offset is past a removed slot), then add the running sum, without a branch per row.
  std::vector<uint32_t>& row_steps = scratch.row_steps;
  if (row_steps.size() < size_t(n_out) + 2) row_steps.resize(size_t(n_out) + 2);  // all zero between calls
  uint32_t first_row = n_out + 1, last_row = 0;
  const auto mark = [&](uint32_t row, uint32_t step) {
    row_steps[row] += step;
    first_row = std::min(first_row, row);
    last_row = std::max(last_row, row);
  };
  for (uint32_t m = 0; m < born_count; ++m) mark(born_rows[m], 1);
  for (uint32_t r = 0; r < dying_count; ++r) {
    // A binary search with a conditional move per level instead of a branch (they are
    // unpredictable, and there are log2(n_out) of them).
    const uint32_t slot = dying[r];
    const uint32_t* base = row_start;
    for (size_t n = size_t(n_out) + 1; n > 1; n -= n / 2) base = base[n / 2] <= slot ? base + n / 2 : base;
    mark(uint32_t(base - row_start) + (*base <= slot), uint32_t(-1));
  }
  uint32_t delta = 0;  // modulo 2^32: the offsets stay in range, the steps may be negative
  for (uint32_t out = first_row; out <= last_row; ++out) {
    delta += row_steps[out];
    row_steps[out] = 0;
    row_start[out] += delta;
  }
  for (uint32_t out = last_row + 1; out <= n_out && delta != 0; ++out) row_start[out] += delta;  // stores that grew or shrank
  return uint32_t(old_size - dying_count + born_count);
}

}  // namespace deepr
