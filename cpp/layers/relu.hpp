// relu: y = max(x, 0) elementwise, no parameters. After a sparse_linear layer the network applies
// it inside that layer's forward sweep instead (Network::forward).
#pragma once

#include <cstddef>
#include <cstdint>

#include "layer.hpp"

namespace deepr {

// dx[n] = dy[n] where y[n] > 0, else 0, for n < count; dx may be dy (in place).
void relu_backward(const float* y, const float* dy, float* dx, size_t count);

class Relu final : public Layer {
 public:
  explicit Relu(uint32_t size) : size_(size) {}

  const char* kind() const override { return "relu"; }
  uint32_t inputs() const override { return size_; }
  uint32_t outputs() const override { return size_; }

  void forward(const float* x, float* y, uint32_t stride) override;
  // dx = dy where the output is positive, else 0 (the derivative at 0 is taken as 0); dx may be dy.
  void backward(const float* x, const float* y, const float* dy, float* dx, uint32_t stride,
                LayerGradients& gradients) override;

 private:
  uint32_t size_;
};

}  // namespace deepr
