// The backward pass: relu_backward, sparse_backward (dE/dtheta per slot, and dE/dx) and
// bias_backward, each the CPU's sums in the CPU's order, so its bits: dE/dtheta and dE/db as 16
// lane accumulators over the batch and then the fixed tree of cpp/simd.hpp's sum_lanes, dE/dx per
// input over its connections row by row (in the column order of columns.cuh).
#pragma once

#include "grid.cuh"

namespace deepr_cuda {

// Sum of v over the 16 lanes of a half-warp, in the CPU's fixed tree (sum_lanes in cpp/simd.hpp:
// lane l + lane l + 8, then + 4, + 2, + 1), so the same bits; the result is in lane 0 of the
// half. Every thread of the warp must call it.
__device__ inline float half_warp_sum(float v) {
  for (int offset = 8; offset > 0; offset /= 2) v = add(v, __shfl_down_sync(0xFFFFFFFFu, v, offset, 16));
  return v;
}

// dx[n] = y[n] > 0 ? dy[n] : 0 (the derivative at 0 taken as 0; a NaN y passes nothing).
__global__ void relu_backward_kernel(const float* y, const float* dy, float* dx, uint64_t count) {
  for (uint64_t n = first_item(); n < count; n += grid_stride()) dx[n] = y[n] > 0.0f ? dy[n] : 0.0f;
}

// A half-warp per slot k (two per warp): lane l sums dz[j][b] x[i][b] over b = l, l + 16, ... in
// order, as the CPU's lane l does, then half_warp_sum adds the lanes in the CPU's tree and
// theta_gradient[k] = sign_k * sum. The loop runs per warp (both halves the same number of times)
// so the shuffles see every lane.
__global__ void theta_gradient_kernel(deepr_sparse_view w, const float* x, const float* dz, uint32_t stride,
                                      float* theta_gradient) {
  const uint32_t lane = threadIdx.x & 15, half = (threadIdx.x >> 4) & 1;
  const uint64_t warps = grid_stride() / 32;
  for (uint64_t pair = first_item() / 32; pair * 2 < w.slots; pair += warps) {
    const uint64_t k = pair * 2 + half;
    const bool real = k < w.slots;  // the second half of the last warp may have no slot
    const uint32_t s = real ? w.source[k] : 0;
    float g = 0.0f;
    if (real) {
      const float* xi = x + uint64_t(s & kIndexMask) * stride;
      const float* dzj = dz + uint64_t(row_of_slot(w.row_start, w.n_out, uint32_t(k))) * stride;
      for (uint32_t b = lane; b < stride; b += 16) g = add(g, mul(dzj[b], xi[b]));
    }
    g = half_warp_sum(g);
    if (real && lane == 0) theta_gradient[k] = signed_weight(s, g);  // dE/dtheta = sign * dE/dw
  }
}

// One thread per (input i, sample b): dx[i][b] = 0 + w dz[j][b] + ... over the slots of input i
// in row order (keys, column_start and column_row from columns.cuh), as the CPU adds them.
__global__ void input_gradient_kernel(deepr_sparse_view w, const uint64_t* keys, const uint32_t* column_start,
                                      const uint32_t* column_row, const float* dz, float* dx, uint32_t stride) {
  const uint64_t count = uint64_t(w.n_in) * stride;
  for (uint64_t n = first_item(); n < count; n += grid_stride()) {
    const uint32_t in = uint32_t(n / stride), b = uint32_t(n % stride);
    float acc = 0.0f;
    for (uint32_t p = column_start[in]; p < column_start[in + 1]; ++p) {
      const uint32_t k = uint32_t(keys[p]);
      acc = add(acc, mul(signed_weight(w.source[k], w.theta[k]), dz[uint64_t(column_row[p]) * stride + b]));
    }
    dx[n] = acc;
  }
}

// A half-warp per output j: bias_gradient[j] = sum_b dz[j][b], in the same lanes and tree.
__global__ void bias_backward_kernel(const float* dz, uint32_t outputs, uint32_t stride, float* bias_gradient) {
  const uint32_t lane = threadIdx.x & 15, half = (threadIdx.x >> 4) & 1;
  const uint64_t warps = grid_stride() / 32;
  for (uint64_t pair = first_item() / 32; pair * 2 < outputs; pair += warps) {
    const uint64_t out = pair * 2 + half;
    float sum = 0.0f;
    if (out < outputs)
      for (uint32_t b = lane; b < stride; b += 16) sum = add(sum, dz[out * stride + b]);
    sum = half_warp_sum(sum);
    if (out < outputs && lane == 0) bias_gradient[out] = sum;
  }
}

}  // namespace deepr_cuda
