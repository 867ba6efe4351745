#include "max_pool2d.hpp"

#include <algorithm>

#include "simd.hpp"

namespace deepr {

namespace {

// The input feature of window (c, oy, ox) at (ky, kx).
inline size_t window_input(const ConvGeometry& g, uint32_t c, uint32_t oy, uint32_t ox, uint32_t ky, uint32_t kx) {
  return (size_t(c) * g.height + size_t(oy) * g.stride + ky) * g.width + size_t(ox) * g.stride + kx;
}

DEEPR_DISPATCH
void pool_forward(const ConvGeometry& g, const float* __restrict x, float* __restrict y, uint32_t stride) {
  size_t out = 0;
  for (uint32_t c = 0; c < g.in_channels; ++c)
    for (uint32_t oy = 0; oy < g.out_height(); ++oy)
      for (uint32_t ox = 0; ox < g.out_width(); ++ox, ++out)
        for (uint32_t n = 0; n < stride; n += kLanes) {
          Lanes m = load_lanes(x + window_input(g, c, oy, ox, 0, 0) * stride + n);
          for (uint32_t ky = 0; ky < g.kernel_height; ++ky)
            for (uint32_t kx = 0; kx < g.kernel_width; ++kx) {
              const Lanes v = load_lanes(x + window_input(g, c, oy, ox, ky, kx) * stride + n);
              m = (v > m) | (v != v) ? v : m;
            }
          store_lanes(y + out * stride + n, m);
        }
}

DEEPR_DISPATCH
void pool_backward(const ConvGeometry& g, const float* __restrict x, const float* __restrict y,
                   const float* __restrict dy, float* __restrict dx, uint32_t stride) {
  size_t out = 0;
  for (uint32_t c = 0; c < g.in_channels; ++c)
    for (uint32_t oy = 0; oy < g.out_height(); ++oy)
      for (uint32_t ox = 0; ox < g.out_width(); ++ox, ++out)
        for (uint32_t n = 0; n < stride; n += kLanes) {
          const Lanes m = load_lanes(y + out * stride + n), d = load_lanes(dy + out * stride + n);
          Ints taken = {};  // per lane: the maximum's input has had the gradient
          for (uint32_t ky = 0; ky < g.kernel_height; ++ky)
            for (uint32_t kx = 0; kx < g.kernel_width; ++kx) {
              float* dxi = dx + window_input(g, c, oy, ox, ky, kx) * stride + n;
              const Ints here = (load_lanes(x + window_input(g, c, oy, ox, ky, kx) * stride + n) == m) & ~taken;
              store_lanes(dxi, load_lanes(dxi) + (here ? d : Lanes{}));
              taken |= here;
            }
        }
}

}  // namespace

void MaxPool2d::forward(const float* x, float* y, uint32_t stride) { pool_forward(geometry_, x, y, stride); }

void MaxPool2d::backward(const float* x, const float* y, const float* dy, float* dx, uint32_t stride, LayerGradients&) {
  if (!dx) return;
  std::fill(dx, dx + geometry_.inputs() * stride, 0.0f);
  pool_backward(geometry_, x, y, dy, dx, stride);
}

}  // namespace deepr
