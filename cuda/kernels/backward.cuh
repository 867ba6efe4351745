// The backward pass: relu_backward, sparse_backward (dE/dx and dE/dtheta per slot) and
// bias_backward. dE/dtheta and dE/db are sums over the samples made the CPU's way (16 lane
// accumulators over the batch, then the fixed tree of cpp/simd.hpp's sum_lanes), so they are its
// bits; dE/dx is summed with atomics, in an order that varies, so it matches within rounding.
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
// theta_gradient[k] = sign_k * sum. With dx (every layer but the first, zeroed before the launch)
// each lane also adds w dz[j][b] into dx[i][b]: rows sharing an input add in any order.
// The loop runs per warp (both halves the same number of times) so the shuffles see every lane.
__global__ void sparse_backward_kernel(deepr_sparse_view w, const float* x, const float* dz, float* dx, uint32_t stride,
                                       float* theta_gradient) {
  const uint32_t lane = threadIdx.x & 15, half = (threadIdx.x >> 4) & 1;
  const uint64_t warps = grid_stride() / 32;
  for (uint64_t pair = first_item() / 32; pair * 2 < w.slots; pair += warps) {
    const uint64_t k = pair * 2 + half;
    const bool real = k < w.slots;  // the second half of the last warp may have no slot
    const uint32_t s = real ? w.source[k] : 0;
    float g = 0.0f;
    if (real) {
      const uint32_t out = row_of_slot(w.row_start, w.n_out, uint32_t(k));
      const uint64_t in = uint64_t(s & kIndexMask) * stride;
      const float* dzj = dz + uint64_t(out) * stride;
      const float weight = signed_weight(s, w.theta[k]);
      for (uint32_t b = lane; b < stride; b += 16) {
        const float d = dzj[b];
        g = add(g, mul(d, x[in + b]));
        if (dx) atomicAdd(dx + in + b, mul(weight, d));
      }
    }
    g = half_warp_sum(g);
    if (real && lane == 0) theta_gradient[k] = signed_weight(s, g);  // dE/dtheta = sign * dE/dw
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
