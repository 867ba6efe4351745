// sparse_conv2d's passes on the GPU, in the CPU's float order (cpp/conv_kernels.cpp), so its bits:
// an output starts at its bias and adds w x over its channel's slots in order; dE/dtheta of a slot
// is 16 lane sums over its output positions (row, column, then samples b = lane, lane + 16, ...)
// added in sum_lanes' tree; dE/dx of an input adds w dy over the slots that read it, in slot
// order (each slot reads an input from at most one output position), from the slots of its
// channel, sorted by the merge passes of columns.cuh.
#pragma once

#include "backward.cuh"
#include "columns.cuh"
#include "grid.cuh"

namespace deepr_cuda {

__device__ inline uint32_t conv_out_height(const deepr_conv_geometry& g) {
  return uint32_t((uint64_t(g.height) + 2 * g.padding - g.kernel_height) / g.stride + 1);
}
__device__ inline uint32_t conv_out_width(const deepr_conv_geometry& g) {
  return uint32_t((uint64_t(g.width) + 2 * g.padding - g.kernel_width) / g.stride + 1);
}

// A kernel entry (ic * kernel_height + ky) * kernel_width + kx as its three coordinates.
struct KernelEntry {
  uint32_t channel, ky, kx;
};
__device__ inline KernelEntry kernel_entry(const deepr_conv_geometry& g, uint32_t entry) {
  const uint32_t area = g.kernel_height * g.kernel_width;
  return {entry / area, entry % area / g.kernel_width, entry % g.kernel_width};
}

// The input coordinate that output coordinate o reads through kernel offset k, or -1 in the padding.
__device__ inline int64_t conv_input(uint32_t o, uint32_t k, uint32_t stride, uint32_t padding, uint32_t size) {
  const int64_t i = int64_t(o) * stride + k - padding;
  return i < 0 || i >= int64_t(size) ? -1 : i;
}

// The output coordinate that reads input coordinate i through kernel offset k, or -1 when none does.
__device__ inline int64_t conv_output(uint32_t i, uint32_t k, uint32_t stride, uint32_t padding, uint32_t outputs) {
  const int64_t t = int64_t(i) + padding - k;
  if (t < 0 || t % stride != 0 || t / stride >= int64_t(outputs)) return -1;
  return t / stride;
}

// One thread per (output feature, sample): y = bias + w x over the channel's slots, then the relu.
__global__ void conv_forward_kernel(deepr_conv_geometry g, deepr_sparse_view w, const float* bias, const float* x,
                                    float* y, uint32_t stride, uint32_t relu) {
  const uint32_t oh = conv_out_height(g), ow = conv_out_width(g);
  const uint64_t count = uint64_t(g.out_channels) * oh * ow * stride;
  for (uint64_t n = first_item(); n < count; n += grid_stride()) {
    const uint64_t feature = n / stride;
    const uint32_t b = uint32_t(n % stride), ox = uint32_t(feature % ow), oy = uint32_t(feature / ow % oh),
                   oc = uint32_t(feature / (uint64_t(ow) * oh));
    float acc = bias ? add(0.0f, bias[oc]) : 0.0f;  // the CPU's rows start at 0 + bias: -0 becomes +0
    for (uint32_t k = w.row_start[oc]; k < w.row_start[oc + 1]; ++k) {
      const uint32_t s = w.source[k];
      const KernelEntry e = kernel_entry(g, s & kIndexMask);
      const int64_t iy = conv_input(oy, e.ky, g.stride, g.padding, g.height);
      const int64_t ix = conv_input(ox, e.kx, g.stride, g.padding, g.width);
      if (iy < 0 || ix < 0) continue;
      const uint64_t in = (uint64_t(e.channel) * g.height + uint64_t(iy)) * g.width + uint64_t(ix);
      acc = add(acc, mul(signed_weight(s, w.theta[k]), x[in * stride + b]));
    }
    y[n] = relu && acc < 0.0f ? 0.0f : acc;  // NaN stays NaN
  }
}

// A half-warp per slot k: lane l sums dy x over the slot's output positions in row, then column
// order and its samples b = l, l + 16, ...; half_warp_sum adds the lanes in the CPU's tree.
__global__ void conv_theta_gradient_kernel(deepr_conv_geometry g, deepr_sparse_view w, const float* x, const float* dy,
                                           uint32_t stride, float* theta_gradient) {
  const uint32_t lane = threadIdx.x & 15, half = (threadIdx.x >> 4) & 1;
  const uint32_t oh = conv_out_height(g), ow = conv_out_width(g);
  const uint64_t warps = grid_stride() / 32;
  for (uint64_t pair = first_item() / 32; pair * 2 < w.slots; pair += warps) {
    const uint64_t k = pair * 2 + half;
    const bool real = k < w.slots;  // the second half of the last warp may have no slot
    const uint32_t s = real ? w.source[k] : 0;
    float sum = 0.0f;
    if (real) {
      const uint32_t oc = row_of_slot(w.row_start, w.n_out, uint32_t(k));
      const KernelEntry e = kernel_entry(g, s & kIndexMask);
      for (uint32_t oy = 0; oy < oh; ++oy) {
        const int64_t iy = conv_input(oy, e.ky, g.stride, g.padding, g.height);
        if (iy < 0) continue;
        for (uint32_t ox = 0; ox < ow; ++ox) {
          const int64_t ix = conv_input(ox, e.kx, g.stride, g.padding, g.width);
          if (ix < 0) continue;
          const float* xi = x + ((uint64_t(e.channel) * g.height + uint64_t(iy)) * g.width + uint64_t(ix)) * stride;
          const float* dyo = dy + ((uint64_t(oc) * oh + oy) * ow + ox) * stride;
          for (uint32_t b = lane; b < stride; b += 16) sum = add(sum, mul(dyo[b], xi[b]));
        }
      }
    }
    sum = half_warp_sum(sum);
    if (real && lane == 0) theta_gradient[k] = signed_weight(s, sum);  // dE/dtheta = sign * dE/dw
  }
}

// key[k] = input channel of slot k's kernel entry << 32 | k: what the merge passes of
// columns.cuh sort into channel order, so that an input visits only its own channel's slots.
__global__ void conv_channel_keys_kernel(deepr_conv_geometry g, deepr_sparse_view w, uint64_t* keys) {
  for (uint64_t k = first_item(); k < w.slots; k += grid_stride())
    keys[k] = uint64_t(kernel_entry(g, w.source[k] & kIndexMask).channel) << 32 | k;
}

// One thread per (input feature, sample): dx = 0 + w dy over the slots of its channel (keys,
// channel_start and slot_row from the channel order above), ascending, as the CPU adds them,
// each where its kernel entry reads this input from some output position.
__global__ void conv_input_gradient_kernel(deepr_conv_geometry g, deepr_sparse_view w, const uint64_t* keys,
                                           const uint32_t* channel_start, const uint32_t* slot_row, const float* dy,
                                           float* dx, uint32_t stride) {
  const uint32_t oh = conv_out_height(g), ow = conv_out_width(g);
  const uint64_t count = uint64_t(g.in_channels) * g.height * g.width * stride;
  for (uint64_t n = first_item(); n < count; n += grid_stride()) {
    const uint64_t feature = n / stride;
    const uint32_t b = uint32_t(n % stride), ix = uint32_t(feature % g.width), iy = uint32_t(feature / g.width % g.height),
                   ic = uint32_t(feature / (uint64_t(g.width) * g.height));
    float acc = 0.0f;
    for (uint32_t p = channel_start[ic]; p < channel_start[ic + 1]; ++p) {
      const uint32_t k = uint32_t(keys[p]), s = w.source[k];
      const KernelEntry e = kernel_entry(g, s & kIndexMask);
      const int64_t oy = conv_output(iy, e.ky, g.stride, g.padding, oh);
      const int64_t ox = conv_output(ix, e.kx, g.stride, g.padding, ow);
      if (oy < 0 || ox < 0) continue;
      const uint64_t out = (uint64_t(slot_row[p]) * oh + uint64_t(oy)) * ow + uint64_t(ox);
      acc = add(acc, mul(signed_weight(s, w.theta[k]), dy[out * stride + b]));
    }
    dx[n] = acc;
  }
}

}  // namespace deepr_cuda
