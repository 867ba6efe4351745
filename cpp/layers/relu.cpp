#include "relu.hpp"

#include <cstring>

#include "simd.hpp"

namespace deepr {

namespace {

// The loops as dispatched clones (simd.hpp): one select per value, in the widest vectors the CPU has.
DEEPR_DISPATCH
void relu_values(const float* __restrict x, float* __restrict y, size_t count) {
  for (size_t n = 0; n < count; ++n) {
    const float v = x[n];
    y[n] = v < 0.0f ? 0.0f : v;  // NaN stays NaN
  }
}

DEEPR_DISPATCH
void relu_gradient(const float* __restrict y, float* __restrict dx, size_t count) {
  for (size_t n = 0; n < count; ++n) dx[n] = y[n] > 0.0f ? dx[n] : 0.0f;
}

}  // namespace

void Relu::forward(const float* x, float* y, uint32_t stride) { relu_values(x, y, size_t(size_) * stride); }

void relu_backward(const float* y, const float* dy, float* dx, size_t count) {
  if (dx != dy) std::memcpy(dx, dy, count * sizeof(float));
  relu_gradient(y, dx, count);
}

void Relu::backward(const float*, const float* y, const float* dy, float* dx, uint32_t stride, LayerGradients&) {
  // In place when a relu fused into the layer below shares its gradient buffer.
  if (dx) relu_backward(y, dy, dx, size_t(size_) * stride);
}

}  // namespace deepr
