#include "sparse_rewire.hpp"

#include <algorithm>
#include <cstring>

#include "random.hpp"
#include "simd.hpp"

namespace deepr {

namespace {

typedef uint32_t Words __attribute__((vector_size(kLanes * sizeof(uint32_t))));
typedef uint32_t Words8 __attribute__((vector_size(8 * sizeof(uint32_t))));
typedef uint32_t Words4 __attribute__((vector_size(4 * sizeof(uint32_t))));

template <class V>
__attribute__((always_inline)) inline V load(const uint32_t* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class V>
__attribute__((always_inline)) inline void store(uint32_t* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

// Copies values [from, from + n) of one array to [to, to + n), ranges that may overlap, for
// 16 <= n <= 64 or, with V narrower than 16 lanes, w <= n < 2w: pieces of V at both ends (and
// for 32 <= n, the next ones in), all read before any is written.
template <class V, uint32_t kPieces>
__attribute__((always_inline)) inline void move_pieces(uint32_t* a, uint32_t from, uint32_t to, uint32_t n) {
  constexpr uint32_t w = sizeof(V) / sizeof(uint32_t);
  V piece[2 * kPieces];
  for (uint32_t i = 0; i < kPieces; ++i) {
    piece[i] = load<V>(a + from + i * w);
    piece[kPieces + i] = load<V>(a + from + n - (i + 1) * w);
  }
  for (uint32_t i = 0; i < kPieces; ++i) {
    store(a + to + i * w, piece[i]);
    store(a + to + n - (i + 1) * w, piece[kPieces + i]);
  }
}

// The slots [from, from + n) of every per-slot array to [to, to + n), in place: a rewiring moves a
// few dozen short runs, where a call to memmove per run and array costs more than the copy. Runs
// of up to 64 slots move as a few overlapping vectors, all read first, with one branch on the
// size; longer ones in one loop over the vectors that moves every array: down (to < from) from
// the front, up from the back, so no vector is overwritten before it is read, and the one at the
// other end, which may overlap its neighbour, read first.
template <bool kDown>
__attribute__((always_inline)) inline void move_run(uint32_t* const* arrays, uint32_t count, uint32_t from, uint32_t to,
                                                    uint32_t n) {
  if (n > 4 * kLanes) {
    Words end[2 + DEEPR_MAX_STATE_ARRAYS];
    if (kDown) {
      for (uint32_t a = 0; a < count; ++a) end[a] = load<Words>(arrays[a] + from + n - kLanes);
      for (uint32_t i = 0; i + kLanes < n; i += kLanes)
        for (uint32_t a = 0; a < count; ++a) store(arrays[a] + to + i, load<Words>(arrays[a] + from + i));
      for (uint32_t a = 0; a < count; ++a) store(arrays[a] + to + n - kLanes, end[a]);
    } else {
      for (uint32_t a = 0; a < count; ++a) end[a] = load<Words>(arrays[a] + from);
      for (uint32_t i = n; i > kLanes; i -= kLanes)
        for (uint32_t a = 0; a < count; ++a) store(arrays[a] + to + i - kLanes, load<Words>(arrays[a] + from + i - kLanes));
      for (uint32_t a = 0; a < count; ++a) store(arrays[a] + to, end[a]);
    }
  } else if (n >= 2 * kLanes) {
    for (uint32_t a = 0; a < count; ++a) move_pieces<Words, 2>(arrays[a], from, to, n);
  } else if (n >= kLanes) {
    for (uint32_t a = 0; a < count; ++a) move_pieces<Words, 1>(arrays[a], from, to, n);
  } else if (n >= 8) {
    for (uint32_t a = 0; a < count; ++a) move_pieces<Words8, 1>(arrays[a], from, to, n);
  } else if (n >= 4) {
    for (uint32_t a = 0; a < count; ++a) move_pieces<Words4, 1>(arrays[a], from, to, n);
  } else if (n >= 2) {
    for (uint32_t a = 0; a < count; ++a) move_pieces<uint64_t, 1>(arrays[a], from, to, n);
  } else {
    for (uint32_t a = 0; a < count; ++a) arrays[a][to] = arrays[a][from];
  }
}

// Lane l of the result: the sum of lanes 0 .. l of v, in log2(16) shifted adds.
__attribute__((always_inline)) inline Words running_sums(Words v) {
  const Words z = {};
  v += __builtin_shufflevector(v, z, 16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
  v += __builtin_shufflevector(v, z, 16, 16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
  v += __builtin_shufflevector(v, z, 16, 16, 16, 16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
  v += __builtin_shufflevector(v, z, 16, 16, 16, 16, 16, 16, 16, 16, 0, 1, 2, 3, 4, 5, 6, 7);
  return v;
}

// The number of true lanes of a comparison's mask (a true lane is -1).
__attribute__((always_inline)) inline uint32_t count_true(Ints mask) {
  mask += __builtin_shufflevector(mask, mask, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
  mask += __builtin_shufflevector(mask, mask, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7);
  mask += __builtin_shufflevector(mask, mask, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
  mask += __builtin_shufflevector(mask, mask, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
  return uint32_t(-mask[0]);
}

}  // namespace

DEEPR_DISPATCH
uint32_t slot_for(const uint32_t* row_start, const uint32_t* source, uint32_t slots, uint32_t out, uint32_t in) {
  const uint32_t begin = row_start[out], n = row_start[out + 1] - begin;
  if (n <= kLanes && begin + kLanes <= slots) {
    // A short row, as most rows of a sparse layer are: its slots below `in` counted at once, from
    // one vector of the row (and of the slots after it, masked off). a < b is the sign of a - b
    // (no overflow below 2^31), as GCC compares vectors wider than a register lane by lane.
    constexpr Ints kLaneIndex = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    Ints row;
    std::memcpy(&row, source + begin, sizeof row);
    const Ints below = ((row & int32_t(kIndexMask)) - int32_t(in)) >> 31;
    return begin + count_true(below & ((kLaneIndex - int32_t(n)) >> 31));
  }
  // lower_bound with a conditional move per level instead of a branch: which way the search goes
  // is unpredictable, and a misprediction costs more than the whole search of a short row.
  if (n == 0) return begin;
  const uint32_t* base = source + begin;
  for (uint32_t m = n; m > 1; m -= m / 2) base = (base[m / 2] & kIndexMask) < in ? base + m / 2 : base;
  return uint32_t(base - source) + ((*base & kIndexMask) < in);
}

DEEPR_DISPATCH
uint32_t rewire_slots(const SparseView& v, uint64_t seed, const uint32_t* dying, uint32_t dying_count,
                      const uint64_t* born, uint32_t born_count, RewireScratch& scratch, const uint64_t* born_places) {
  const uint32_t old_size = v.slots;
  if (dying_count == 0 && born_count == 0) return old_size;
  uint32_t* row_start = const_cast<uint32_t*>(v.row_start);  // the buffers are the caller's, writable
  uint32_t* source = const_cast<uint32_t*>(v.source);
  const uint32_t n_in = v.n_in, n_out = v.n_out;
  // Where each new connection goes among the old slots: before old slot insert_at[n]
  // (insert_at[born_count] = old_size ends the list).
  std::vector<uint32_t>& insert_at = scratch.insert_at;
  std::vector<uint32_t>& born_rows = scratch.born_rows;
  insert_at.resize(size_t(born_count) + 1);
  born_rows.resize(born_count);
  for (uint32_t n = 0; n < born_count; ++n) {
    const uint64_t place = born_places ? born_places[n] : place_of(row_start, source, old_size, n_in, born[n]);
    born_rows[n] = uint32_t(place >> 32) + 1;  // the first row after it
    insert_at[n] = uint32_t(place);
  }
  insert_at[born_count] = old_size;

  // Between two events (a removal, an insertion) the kept old slots form a run that moves by
  // (insertions - removals) before it. One pass over the events in slot order, merged without a
  // branch on which list comes next (that is random), sorts the runs that move into those that
  // move down and those that move up, and finds each new connection's final slot. At equal slots
  // the insertion goes first: it takes the place of the removed slot.
  std::vector<RewireScratch::Run>& down = scratch.down;
  std::vector<RewireScratch::Run>& up = scratch.up;
  std::vector<uint32_t>& born_at = scratch.born_at;
  down.resize(size_t(dying_count) + born_count + 1);
  up.resize(size_t(dying_count) + born_count + 1);
  born_at.resize(size_t(born_count) + 1);
  // The dying slots with old_size after the last, as insert_at has: the next event is then the
  // smaller of the two heads, an insertion when it is insert_at's, with no test for either end.
  std::vector<uint32_t>& dying_ended = scratch.dying_ended;
  dying_ended.assign(dying, dying + dying_count);
  dying_ended.push_back(old_size);
  uint32_t d = 0, n = 0, k = 0, shift = 0, downs = 0, ups = 0;  // shift modulo 2^32
  const auto add_run = [&](uint32_t end) {
    const RewireScratch::Run run{k, end, k + shift};
    down[downs] = run;
    up[ups] = run;
    downs += end > k && int32_t(shift) < 0;
    ups += end > k && int32_t(shift) > 0;
  };
  for (uint32_t e = 0; e < dying_count + born_count; ++e) {
    const uint32_t next_insert = insert_at[n], next_dying = dying_ended[d];
    const uint32_t insertion = next_insert <= next_dying, event = std::min(next_insert, next_dying);
    add_run(event);
    born_at[n] = event + shift;  // kept only for an insertion: the next one overwrites it otherwise
    shift += 2 * insertion - 1;
    n += insertion;
    d += 1 - insertion;
    k = event + 1 - insertion;
  }
  add_run(old_size);
  // Runs that move down move first, from the front; those that move up then move from the back:
  // no slot is overwritten before it has moved, and each moves once.
  static_assert(sizeof(float) == sizeof(uint32_t), "theta and the states move as 32-bit words");
  uint32_t* arrays[2 + DEEPR_MAX_STATE_ARRAYS] = {source};
  uint32_t count = 1;
  if (v.theta) arrays[count++] = reinterpret_cast<uint32_t*>(v.theta);
  for (uint32_t s = 0; s < v.states; ++s) arrays[count++] = reinterpret_cast<uint32_t*>(v.state[s]);
  for (uint32_t r = 0; r < downs; ++r) move_run<true>(arrays, count, down[r].begin, down[r].to, down[r].end - down[r].begin);
  for (uint32_t r = ups; r-- > 0;) move_run<false>(arrays, count, up[r].begin, up[r].to, up[r].end - up[r].begin);
  // The new connections: their input, fixed sign, theta = 0 and state 0.
  scratch.sign_bits.resize(born_count);
  position_sign_bits(seed, v.id, born, born_count, scratch.sign_bits.data());
  for (uint32_t m = 0; m < born_count; ++m) {
    const uint32_t at = born_at[m], in = uint32_t(born[m] - uint64_t(born_rows[m] - 1) * n_in);
    source[at] = in | scratch.sign_bits[m];
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
  uint32_t out = first_row;
  for (; out + kLanes <= last_row + 1; out += kLanes) {  // 16 rows at a time: their steps' running sums
    Words sums = load<Words>(row_steps.data() + out);
    store(row_steps.data() + out, Words{});
    sums = running_sums(sums) + delta;
    store(row_start + out, load<Words>(row_start + out) + sums);
    delta = sums[kLanes - 1];
  }
  for (; out <= last_row; ++out) {
    delta += row_steps[out];
    row_steps[out] = 0;
    row_start[out] += delta;
  }
  for (uint32_t out = last_row + 1; out <= n_out && delta != 0; ++out) row_start[out] += delta;  // stores that grew or shrank
  return uint32_t(old_size - dying_count + born_count);
}

}  // namespace deepr
