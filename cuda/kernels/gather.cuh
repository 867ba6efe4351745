// gather_feature_major: a batch of samples of a row-major data set, transposed into the
// feature-major layout the other kernels read (x[i * stride + b]), zero in the padding samples.
#pragma once

#include "grid.cuh"

namespace deepr_cuda {

// One thread per (feature, sample): consecutive threads take consecutive samples of one feature,
// so the writes are coalesced; the reads stride by `features` (the data set is row-major).
__global__ void gather_feature_major_kernel(const float* inputs, uint32_t features, const uint32_t* rows,
                                            uint64_t first, uint32_t batch, uint32_t stride, float* x) {
  const uint64_t count = uint64_t(features) * stride;
  for (uint64_t n = first_item(); n < count; n += grid_stride()) {
    const uint32_t i = uint32_t(n / stride), b = uint32_t(n % stride);
    if (b >= batch) {
      x[n] = 0.0f;
      continue;
    }
    const uint64_t row = rows ? rows[b] : first + b;
    x[n] = inputs[row * features + i];
  }
}

}  // namespace deepr_cuda
