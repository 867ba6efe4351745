// The geometry of a 2-D convolution or pooling window over images stored feature-major: feature
// (c * height + y) * width + x of a sample is channel c, row y, column x (activations hold a run
// of samples per feature, sparse_kernels.hpp). Shared by sparse_conv2d, dense_conv2d and
// max_pool2d, so the output shape and the window bounds are computed in one place.
#pragma once

#include <cstdint>

namespace deepr {

struct ConvGeometry {
  uint32_t in_channels, height, width;
  uint32_t out_channels;
  uint32_t kernel_height, kernel_width;
  uint32_t stride;   // the same along both axes
  uint32_t padding;  // zeros on every side

  // (in 64 bits: height + 2 padding may pass 2^32 for a spec being checked; the result is below it)
  uint32_t out_height() const { return uint32_t((uint64_t(height) + 2 * padding - kernel_height) / stride + 1); }
  uint32_t out_width() const { return uint32_t((uint64_t(width) + 2 * padding - kernel_width) / stride + 1); }
  // Entries of one output channel's kernel, (in channel, ky, kx) as (ic * kernel_height + ky) *
  // kernel_width + kx: the fan-in of an output.
  uint32_t kernel_entries() const { return in_channels * kernel_height * kernel_width; }
  uint64_t inputs() const { return uint64_t(in_channels) * height * width; }
  uint64_t outputs() const { return uint64_t(out_channels) * out_height() * out_width(); }

  // The input row seen by output row oy through kernel row ky, or -1 when it lies in the padding.
  int64_t input_row(uint32_t oy, uint32_t ky) const {
    const int64_t iy = int64_t(oy) * stride + ky - padding;
    return iy < 0 || iy >= int64_t(height) ? -1 : iy;
  }
  // The output columns [first, end) whose input column ox * stride + kx - padding lies inside the
  // image (empty when first >= end).
  void columns(uint32_t kx, uint32_t& first, uint32_t& end) const {
    first = kx >= padding ? 0 : (padding - kx + stride - 1) / stride;
    const int64_t last_input = int64_t(width) - 1 + padding - kx;  // ox * stride may reach this
    end = last_input < 0 ? 0 : uint32_t(last_input / stride) + 1;
    if (end > out_width()) end = out_width();
  }
};

}  // namespace deepr
