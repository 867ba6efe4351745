// Launch shapes and the small device helpers every kernel of the CUDA device shares.
#pragma once

#include <cstdint>

#include "device/device_abi.h"
#include "philox_distributions.hpp"

namespace deepr_cuda {

using deepr::ieee::add;
using deepr::ieee::mul;
using deepr::ieee::sub;

constexpr uint32_t kThreads = 256;            // threads per block of every kernel
constexpr uint32_t kMaxBlocks = 1u << 20;     // a grid-stride loop covers the rest
constexpr uint32_t kIndexMask = ~DEEPR_SIGN_BIT;

// Blocks for `count` work items of `per_item` threads each (at least one block).
inline uint32_t blocks_for(uint64_t count, uint32_t per_item = 1) {
  const uint64_t blocks = (count * per_item + kThreads - 1) / kThreads;
  return uint32_t(blocks == 0 ? 1 : blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

// This thread's first item and the grid's stride, for loops over 64-bit counts.
__device__ inline uint64_t first_item() { return uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ inline uint64_t grid_stride() { return uint64_t(gridDim.x) * blockDim.x; }

// w = -theta when the slot's sign bit is set, else theta (an exact sign flip).
__device__ inline float signed_weight(uint32_t source, float theta) { return (source & DEEPR_SIGN_BIT) ? -theta : theta; }

// The output row of slot k: the j with row_start[j] <= k < row_start[j + 1] (k < row_start[n_out]).
__device__ inline uint32_t row_of_slot(const uint32_t* row_start, uint32_t n_out, uint32_t k) {
  uint32_t lo = 0, hi = n_out;  // row_start[lo] <= k < row_start[hi]
  while (hi - lo > 1) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (row_start[mid] <= k) lo = mid;
    else hi = mid;
  }
  return lo;
}

// How many entries of the ascending list[0 .. count) are below v (std::lower_bound's index).
template <class T>
__device__ inline uint32_t count_below(const T* list, uint32_t count, T v) {
  uint32_t lo = 0, hi = count;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (list[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

}  // namespace deepr_cuda
