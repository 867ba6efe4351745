// dense_conv2d: the same convolution as sparse_conv2d with every kernel entry kept, in a dense
// store ("weight": out_channels x in_channels x kernel_height x kernel_width, the layout of
// conv_kernels.hpp), and an optional per-channel bias ("bias"): the dense baseline. Its stores take
// the optimiser's step only (the DEEP R prior acts on sparse stores).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "conv_geometry.hpp"
#include "layer.hpp"

namespace deepr {

class DenseConv2d final : public Layer {
 public:
  // Weights N(0, 1) / sqrt(fan-in): normal n of the stream (seed, step 0, dense store `weight_id`,
  // purpose dense init) for weight n; biases 0.
  DenseConv2d(const ConvGeometry& geometry, bool bias, uint32_t weight_id, uint64_t seed);

  const char* kind() const override { return "dense_conv2d"; }
  uint32_t inputs() const override { return uint32_t(geometry_.inputs()); }
  uint32_t outputs() const override { return uint32_t(geometry_.outputs()); }
  std::vector<StoreRef> stores() override;

  void forward(const float* x, float* y, uint32_t stride) override;
  void backward(const float* x, const float* y, const float* dy, float* dx, uint32_t stride,
                LayerGradients& gradients) override;

  const ConvGeometry& geometry() const { return geometry_; }
  DenseStore& weight() { return weight_; }
  DenseStore* bias() { return bias_ ? &*bias_ : nullptr; }

 private:
  ConvGeometry geometry_;
  DenseStore weight_;
  std::optional<DenseStore> bias_;
};

}  // namespace deepr
