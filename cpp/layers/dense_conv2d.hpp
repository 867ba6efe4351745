// dense_conv2d: the same convolution as sparse_conv2d with every kernel entry kept, in a dense
// store ("weight": out_channels x in_channels x kernel_height x kernel_width, the layout of
// conv_kernels.hpp), and an optional per-channel bias ("bias"): the dense baseline. Its stores take
// the optimiser's step only (the DEEP R prior acts on sparse stores).
#pragma once

#include <cstdint>
#include <vector>

#include "conv2d_layer.hpp"

namespace deepr {

class DenseConv2d final : public Conv2dLayer {
 public:
  // Weights N(0, 1) / sqrt(fan-in): normal n of the stream (seed, step 0, dense store `weight_id`,
  // purpose dense init) for weight n; biases 0.
  DenseConv2d(const ConvGeometry& geometry, bool bias, uint32_t weight_id, uint64_t seed);

  const char* kind() const override { return "dense_conv2d"; }
  std::vector<StoreRef> stores() override;

  void forward(const float* x, float* y, uint32_t stride) override;
  void backward(const float* x, const float* y, const float* dy, float* dx, uint32_t stride,
                LayerGradients& gradients) override;

  DenseStore& weight() { return weight_; }

 private:
  DenseStore weight_;
};

}  // namespace deepr
