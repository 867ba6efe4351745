#include "relu.hpp"

namespace deepr {

void Relu::forward(const float* x, float* y, uint32_t stride) {
  for (size_t n = 0; n < size_t(size_) * stride; ++n) y[n] = x[n] < 0.0f ? 0.0f : x[n];  // NaN stays NaN
}

void Relu::backward(const float*, const float* y, const float* dy, float* dx, uint32_t stride, LayerGradients&) {
  if (!dx) return;
  for (size_t n = 0; n < size_t(size_) * stride; ++n) dx[n] = y[n] > 0.0f ? dy[n] : 0.0f;
}

}  // namespace deepr
