#include "relu.hpp"

namespace deepr {

void Relu::forward(const float* x, float* y, uint32_t stride) {
  for (size_t n = 0; n < size_t(size_) * stride; ++n) {
    const float v = x[n];
    y[n] = v < 0.0f ? 0.0f : v;  // NaN stays NaN
  }
}

void Relu::backward(const float*, const float* __restrict y, const float* __restrict dy, float* __restrict dx, uint32_t stride,
                    LayerGradients&) {
  if (!dx) return;
  // dy is read whatever the sign, so the loop is a select and vectorises.
  for (size_t n = 0; n < size_t(size_) * stride; ++n) {
    const float g = dy[n];
    dx[n] = y[n] > 0.0f ? g : 0.0f;
  }
}

}  // namespace deepr
