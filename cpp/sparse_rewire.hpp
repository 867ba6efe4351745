// Rewiring a sparse store's slots in place, on a view of its buffers: the one implementation that
// SparseStore, the CPU device and a host copy of a device store's structure all run.
#pragma once

#include <cstdint>
#include <vector>

#include "store_views.hpp"

namespace deepr {

// The slot of input `in` in row `out` if it has one, else the slot before which it would go.
// `slots`: how many slots `source` holds, so that a short row can be read as one 16-slot vector.
uint32_t slot_for(const uint32_t* row_start, const uint32_t* source, uint32_t slots, uint32_t out, uint32_t in);

// rewire_slots' working memory, kept by its caller so that a step does not allocate.
struct RewireScratch {
  struct Run {
    uint32_t begin, end;  // old slots [begin, end)
    uint32_t to;          // their new first slot
  };
  std::vector<uint32_t> insert_at, dying_ended, born_rows, born_at, row_steps, sign_bits;
  std::vector<Run> down, up;  // the runs that move down, and those that move up
};

// Where a new connection goes among a store's old slots, as sample_dormant finds it: its row
// (output) in the high 32 bits, in the low ones slot_for(row, its input), the old slot it goes
// before. Passed to rewire_slots, it spares a second search of each row.
inline uint64_t born_place(uint32_t row, uint32_t slot) { return uint64_t(row) << 32 | slot; }

// The born_place of `position` (row * n_in + input) among the slots of a store with n_in inputs.
inline uint64_t place_of(const uint32_t* row_start, const uint32_t* source, uint32_t slots, uint32_t n_in,
                         uint64_t position) {
  const uint32_t out = uint32_t(position / n_in), in = uint32_t(position - uint64_t(out) * n_in);
  return born_place(out, slot_for(row_start, source, slots, out, in));
}

// One regrowth step: drops the slots `dying` (ascending) and activates the positions `born`
// (sorted, distinct, dormant; a dying position may be among them) at theta = 0 and state 0, with
// the fixed sign of (seed, store id, position). `born_places`: each one's born_place in the
// store, or null to find them here. The buffers must hold
// max(slots, slots - dying + born) slots: the caller grows them first. Every kept slot moves at
// most once, with its state, in runs between the events, and the order stays sorted:
// O(moved slots + n_out), no re-sort. `store.theta` may be null: then only the structure (row_start, source) changes, as
// in a host copy of a store whose values live on a device. Writes row_start and source, which the
// view shows the kernels as read-only. Returns the new number of slots.
uint32_t rewire_slots(const SparseView& store, uint64_t seed, const uint32_t* dying, uint32_t dying_count,
                      const uint64_t* born, uint32_t born_count, RewireScratch& scratch,
                      const uint64_t* born_places = nullptr);

}  // namespace deepr
