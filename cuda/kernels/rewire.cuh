// rewire without a re-sort. A slot's position out * n_in + in is its CSR order, and the born
// positions are sorted, so the new slot array is the merge of the surviving slots and the born:
//   surviving slot k goes to  k - (#dying slots < k) + (#born positions < position(k))
//   born position p (row out) goes to  b + (#surviving slots with position < p)
//                                    = b + s - (#dying slots < s), s = the slot p would take
//   row_start[j] becomes  row_start[j] + (#born in rows < j) - (#dying slots < row_start[j])
// Each is a binary search in the short sorted lists or in one row, so the work is O(slots) in a
// few launches. The slots are scattered into scratch buffers (the kernels read the old structure
// while they write) and copied back by the host after row_start is rewritten. A born position
// that equals a dying slot's position (re-born at once) takes the place the dying slot leaves.
#pragma once

#include "grid.cuh"
#include "update.cuh"

namespace deepr_cuda {

// Where the rewired slots are written: scratch arrays of the new slot count.
struct SlotArrays {
  uint32_t* source;
  float* theta;
  float* state[DEEPR_MAX_STATE_ARRAYS];
};

// The slot of input `in` in row `out` if it has one, else the slot before which it would go
// (slot_for of cpp/sparse_rewire.cpp).
__device__ inline uint32_t slot_for(const uint32_t* row_start, const uint32_t* source, uint32_t out, uint32_t in) {
  uint32_t lo = row_start[out], hi = row_start[out + 1];
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if ((source[mid] & kIndexMask) < in) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// The structure checks that need the device's row_start: it must run from 0 to slots.
__global__ void check_row_start_kernel(deepr_sparse_view w, DeviceFlags* flags) {
  if (w.row_start[0] != 0 || w.row_start[w.n_out] != w.slots) flags->bad_row_start = 1;
}

// One thread per old slot: a surviving slot moves, with theta and its state, to its merged place.
__global__ void rewire_survivors_kernel(deepr_sparse_view w, const uint32_t* dying, uint32_t dying_count,
                                        const uint64_t* born, uint32_t born_count, SlotArrays to) {
  for (uint64_t n = first_item(); n < w.slots; n += grid_stride()) {
    const uint32_t k = uint32_t(n);
    const uint32_t dying_before = count_below(dying, dying_count, k);
    if (dying_before < dying_count && dying[dying_before] == k) continue;  // k is dying
    const uint32_t s = w.source[k];
    const uint64_t position = uint64_t(row_of_slot(w.row_start, w.n_out, k)) * w.n_in + (s & kIndexMask);
    const uint32_t at = k - dying_before + count_below(born, born_count, position);
    to.source[at] = s;
    to.theta[at] = w.theta[k];
#pragma unroll
    for (uint32_t a = 0; a < DEEPR_MAX_STATE_ARRAYS; ++a)  // unrolled: the arrays stay in registers
      if (a < w.states) to.state[a][at] = w.state[a][k];
  }
}

// One thread per born position: a new slot at theta 0, zero state and the position's fixed sign.
// Flags a position that is an active slot not dying (the host's plan is wrong).
__global__ void rewire_born_kernel(deepr_sparse_view w, uint64_t seed, const uint32_t* dying, uint32_t dying_count,
                                   const uint64_t* born, uint32_t born_count, SlotArrays to, DeviceFlags* flags) {
  for (uint64_t n = first_item(); n < born_count; n += grid_stride()) {
    const uint64_t position = born[n];
    const uint32_t out = uint32_t(position / w.n_in), in = uint32_t(position - uint64_t(out) * w.n_in);
    const uint32_t s = slot_for(w.row_start, w.source, out, in);
    const uint32_t dying_before = count_below(dying, dying_count, s);
    const bool occupied = s < w.row_start[out + 1] && (w.source[s] & kIndexMask) == in;
    if (occupied && !(dying_before < dying_count && dying[dying_before] == s)) flags->born_active = 1;
    const uint32_t at = uint32_t(n) + s - dying_before;
    to.source[at] = in | (deepr::position_is_negative(seed, w.id, position) ? DEEPR_SIGN_BIT : 0u);
    to.theta[at] = 0.0f;
#pragma unroll
    for (uint32_t a = 0; a < DEEPR_MAX_STATE_ARRAYS; ++a)
      if (a < w.states) to.state[a][at] = 0.0f;
  }
}

// One thread per row offset j <= n_out, in place: each reads only its own old offset.
__global__ void rewire_row_start_kernel(uint32_t* row_start, uint32_t n_in, uint32_t n_out, const uint32_t* dying,
                                        uint32_t dying_count, const uint64_t* born, uint32_t born_count) {
  for (uint64_t j = first_item(); j <= n_out; j += grid_stride()) {
    const uint32_t old = row_start[j];
    row_start[j] = old + count_below(born, born_count, j * n_in) - count_below(dying, dying_count, old);
  }
}

}  // namespace deepr_cuda
