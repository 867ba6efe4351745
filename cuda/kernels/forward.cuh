// sparse_forward: y[j] = bias[j] + sum over the active connections (i -> j) of w x[i], with the
// ReLU fused. The same float operations in the same order as the CPU (cpp/sparse_kernels.cpp,
// forward_chunks): per sample, acc = acc + w x over the row's slots in order, then acc + bias,
// each rounded on its own, so the outputs are the CPU's bits.
#pragma once

#include "grid.cuh"

namespace deepr_cuda {

// One thread per (output, sample): the threads of a row read its slots together (one broadcast
// load per slot) and consecutive samples of x, which are contiguous.
__global__ void sparse_forward_kernel(deepr_sparse_view w, const float* bias, const float* x, float* y, uint32_t stride,
                                      uint32_t relu) {
  const uint64_t count = uint64_t(w.n_out) * stride;
  for (uint64_t n = first_item(); n < count; n += grid_stride()) {
    const uint32_t out = uint32_t(n / stride), b = uint32_t(n % stride);
    float acc = 0.0f;
    for (uint32_t k = w.row_start[out]; k < w.row_start[out + 1]; ++k) {
      const uint32_t s = w.source[k];
      acc = add(acc, mul(signed_weight(s, w.theta[k]), x[uint64_t(s & kIndexMask) * stride + b]));
    }
    const float z = add(acc, bias ? bias[out] : 0.0f);  // the CPU adds 0 when there is no bias: -0 becomes +0
    y[n] = relu && z < 0.0f ? 0.0f : z;                 // NaN stays NaN
  }
}

}  // namespace deepr_cuda
