#include "max_pool2d.hpp"

#include <algorithm>

#include "simd.hpp"

namespace deepr {

namespace {

// Lanes of a where the mask is set, else of b: bitwise, which vectorises (a vector ?: would not).
__attribute__((always_inline)) inline Lanes select(Ints mask, Lanes a, Lanes b) {
  return (Lanes)(((Ints)a & mask) | ((Ints)b & ~mask));
}

// Window (c, oy, ox) starts at input feature (c * height + oy * stride) * width + ox * stride; its
// entry (ky, kx) is ky * width + kx features further.
inline size_t window_start(const ConvGeometry& g, uint32_t c, uint32_t oy, uint32_t ox) {
  return (size_t(c) * g.height + size_t(oy) * g.stride) * g.width + size_t(ox) * g.stride;
}

DEEPR_DISPATCH
void pool_forward(const ConvGeometry& g, const float* __restrict x, float* __restrict y, uint32_t stride) {
  size_t out = 0;
  for (uint32_t c = 0; c < g.in_channels; ++c)
    for (uint32_t oy = 0; oy < g.out_height(); ++oy)
      for (uint32_t ox = 0; ox < g.out_width(); ++ox, ++out) {
        const float* window = x + window_start(g, c, oy, ox) * stride;
        float* yo = y + out * stride;
        std::copy(window, window + stride, yo);
        for (uint32_t ky = 0; ky < g.kernel_height; ++ky)
          for (uint32_t kx = 0; kx < g.kernel_width; ++kx) {
            const float* v = window + (size_t(ky) * g.width + kx) * stride;
            for (uint32_t n = 0; n < stride; ++n) yo[n] = v[n] > yo[n] || v[n] != v[n] ? v[n] : yo[n];
          }
      }
}

DEEPR_DISPATCH
void pool_backward(const ConvGeometry& g, const float* __restrict x, const float* __restrict y,
                   const float* __restrict dy, float* __restrict dx, uint32_t stride) {
  size_t out = 0;
  for (uint32_t c = 0; c < g.in_channels; ++c)
    for (uint32_t oy = 0; oy < g.out_height(); ++oy)
      for (uint32_t ox = 0; ox < g.out_width(); ++ox, ++out) {
        const size_t start = window_start(g, c, oy, ox) * stride;
        for (uint32_t n = 0; n < stride; n += kLanes) {
          const Lanes m = load_lanes(y + out * stride + n), d = load_lanes(dy + out * stride + n);
          Ints taken = {};  // per lane: the maximum's input has had the gradient
          for (uint32_t ky = 0; ky < g.kernel_height; ++ky)
            for (uint32_t kx = 0; kx < g.kernel_width; ++kx) {
              const size_t at = start + (size_t(ky) * g.width + kx) * stride + n;
              const Ints here = (load_lanes(x + at) == m) & ~taken;
              store_lanes(dx + at, load_lanes(dx + at) + select(here, d, Lanes{}));
              taken |= here;
            }
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
