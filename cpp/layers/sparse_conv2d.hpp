// sparse_conv2d: a 2-D convolution (conv_geometry.hpp) whose kernel entries (out channel, in
// channel, ky, kx) are the potential connections of a sparse store ("weight": n_in = in_channels x
// kernel_height x kernel_width kernel entries, n_out = out_channels; layout in conv_kernels.hpp),
// rewired by DEEP R like a sparse_linear layer's, with an optional per-channel dense bias store
// ("bias", out_channels). No dense kernel is ever formed: O(K) parameter state.
#pragma once

#include <cstdint>
#include <vector>

#include "conv2d_layer.hpp"

namespace deepr {

class SparseConv2d final : public Conv2dLayer {
 public:
  // The weight initialised by initialise_deep_r (K distinct kernel entries, theta = |N(0, 1)| /
  // sqrt(fan-in), fixed signs); biases 0. The weight store's id keys its random streams.
  SparseConv2d(const ConvGeometry& geometry, uint64_t budget, bool bias, uint32_t weight_id, uint64_t seed);

  const char* kind() const override { return "sparse_conv2d"; }
  std::vector<StoreRef> stores() override;

  void forward(const float* x, float* y, uint32_t stride) override;
  void backward(const float* x, const float* y, const float* dy, float* dx, uint32_t stride,
                LayerGradients& gradients) override;

  SparseStore& weight() { return weight_; }

 private:
  SparseStore weight_;
};

}  // namespace deepr
