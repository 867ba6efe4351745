// max_pool2d's passes on the GPU, as the CPU computes them (cpp/layers/max_pool2d.cpp): the
// maximum of each window, a NaN in it winning; dE/dx of an input is the sum, over the windows
// that hold it in output order, of dy of each window whose first input equal to its maximum it is.
#pragma once

#include "conv.cuh"
#include "grid.cuh"

namespace deepr_cuda {

// Window (c, oy, ox)'s entry (ky, kx): input feature (c * height + oy stride + ky) * width + ox stride + kx.
__device__ inline uint64_t window_input(const deepr_conv_geometry& g, uint32_t c, uint32_t oy, uint32_t ox, uint32_t ky,
                                        uint32_t kx) {
  return (uint64_t(c) * g.height + uint64_t(oy) * g.stride + ky) * g.width + uint64_t(ox) * g.stride + kx;
}

// One thread per (output feature, sample).
__global__ void pool_forward_kernel(deepr_conv_geometry g, const float* x, float* y, uint32_t stride) {
  const uint32_t oh = conv_out_height(g), ow = conv_out_width(g);
  const uint64_t count = uint64_t(g.in_channels) * oh * ow * stride;
  for (uint64_t n = first_item(); n < count; n += grid_stride()) {
    const uint64_t feature = n / stride;
    const uint32_t b = uint32_t(n % stride), ox = uint32_t(feature % ow), oy = uint32_t(feature / ow % oh),
                   c = uint32_t(feature / (uint64_t(ow) * oh));
    float m = x[window_input(g, c, oy, ox, 0, 0) * stride + b];
    for (uint32_t ky = 0; ky < g.kernel_height; ++ky)
      for (uint32_t kx = 0; kx < g.kernel_width; ++kx) {
        const float v = x[window_input(g, c, oy, ox, ky, kx) * stride + b];
        m = v > m || v != v ? v : m;
      }
    y[n] = m;
  }
}

// One thread per (input feature, sample): 0 + dy of every window (in output order) whose first
// input equal to its maximum, in row then column order, is this one.
__global__ void pool_backward_kernel(deepr_conv_geometry g, const float* x, const float* y, const float* dy, float* dx,
                                     uint32_t stride) {
  const uint32_t oh = conv_out_height(g), ow = conv_out_width(g);
  const uint64_t count = uint64_t(g.in_channels) * g.height * g.width * stride;
  for (uint64_t n = first_item(); n < count; n += grid_stride()) {
    const uint64_t feature = n / stride;
    const uint32_t b = uint32_t(n % stride), ix = uint32_t(feature % g.width), iy = uint32_t(feature / g.width % g.height),
                   c = uint32_t(feature / (uint64_t(g.width) * g.height));
    // The windows holding (iy, ix): oy stride <= iy < oy stride + kernel_height, and likewise ox.
    const uint32_t oy_first = iy + 1 > g.kernel_height ? (iy + 1 - g.kernel_height + g.stride - 1) / g.stride : 0;
    const uint32_t ox_first = ix + 1 > g.kernel_width ? (ix + 1 - g.kernel_width + g.stride - 1) / g.stride : 0;
    float acc = 0.0f;
    for (uint32_t oy = oy_first; oy <= iy / g.stride && oy < oh; ++oy)
      for (uint32_t ox = ox_first; ox <= ix / g.stride && ox < ow; ++ox) {
        const uint64_t out = ((uint64_t(c) * oh + oy) * ow + ox) * stride + b;
        const float m = y[out];
        const uint32_t ky_here = iy - oy * g.stride, kx_here = ix - ox * g.stride;
        bool first = x[n] == m;
        for (uint32_t ky = 0; first && ky <= ky_here; ++ky)
          for (uint32_t kx = 0; kx < g.kernel_width && (ky < ky_here || kx < kx_here); ++kx)
            if (x[window_input(g, c, oy, ox, ky, kx) * stride + b] == m) {
              first = false;
              break;
            }
        if (first) acc = add(acc, dy[out]);
      }
    dx[n] = acc;
  }
}

}  // namespace deepr_cuda
