// A store's slots in column order: sorted by input, and within an input by row (the transposed,
// CSC, order), which sparse_backward needs to sum each input's dE/dx over its connections in the
// order the CPU does (row by row). Each slot k becomes the key input << 32 | k; keys are distinct,
// so a merge sort by ranks needs no stability: each pass merges pairs of sorted runs of `width`
// keys, every key moving straight to its own index in the merged run plus the number of keys below
// it in the partner run (a binary search). log2(slots) passes of O(slots log slots) work; then
// each column's start and each sorted slot's row.
#pragma once

#include "grid.cuh"

namespace deepr_cuda {

// key[k] = input of slot k << 32 | k: runs of one key, each sorted.
__global__ void column_keys_kernel(deepr_sparse_view w, uint64_t* keys) {
  for (uint64_t k = first_item(); k < w.slots; k += grid_stride()) keys[k] = uint64_t(w.source[k] & kIndexMask) << 32 | k;
}

// One merge pass: runs [r width, (r + 1) width) of `from` are sorted; run pairs (2m, 2m + 1) are
// merged into `to`. A run without a partner (the last, odd one) stays where it is.
__global__ void merge_pass_kernel(const uint64_t* from, uint64_t* to, uint32_t count, uint64_t width) {
  for (uint64_t n = first_item(); n < count; n += grid_stride()) {
    const uint64_t key = from[n];
    const uint64_t run = n / width, pair_start = (run & ~uint64_t(1)) * width, partner = (run ^ 1) * width;
    uint32_t rank = 0;  // keys of the partner run below this one
    if (partner < count) {
      const uint64_t partner_count = uint64_t(count) - partner;
      rank = count_below(from + partner, uint32_t(partner_count < width ? partner_count : width), key);
    }
    to[pair_start + (n - run * width) + rank] = key;
  }
}

// column_start[i] = the first sorted key of input i (i <= n_in: the last is `slots`), and
// column_row[p] = the row of the slot of sorted key p.
__global__ void column_start_kernel(const uint64_t* keys, uint32_t slots, uint32_t n_in, uint32_t* column_start) {
  for (uint64_t i = first_item(); i <= n_in; i += grid_stride()) column_start[i] = count_below(keys, slots, i << 32);
}

__global__ void column_row_kernel(deepr_sparse_view w, const uint64_t* keys, uint32_t* column_row) {
  for (uint64_t p = first_item(); p < w.slots; p += grid_stride())
    column_row[p] = row_of_slot(w.row_start, w.n_out, uint32_t(keys[p]));
}

}  // namespace deepr_cuda
