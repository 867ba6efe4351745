// What sparse_conv2d and dense_conv2d share: a convolution's geometry (conv_geometry.hpp), the
// layer shape it gives, and the optional per-channel dense bias store ("bias", out_channels) with
// its part of forward and backward. The kernel's store, sparse or dense, is each kind's own.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "conv_geometry.hpp"
#include "conv_kernels.hpp"
#include "layer.hpp"

namespace deepr {

class Conv2dLayer : public Layer {
 public:
  uint32_t inputs() const override { return uint32_t(geometry_.inputs()); }
  uint32_t outputs() const override { return uint32_t(geometry_.outputs()); }

  const ConvGeometry& geometry() const { return geometry_; }
  DenseStore* bias() { return bias_ ? &*bias_ : nullptr; }

 protected:
  Conv2dLayer(const ConvGeometry& geometry, bool bias) : geometry_(geometry) {
    if (bias) bias_.emplace(geometry.out_channels);
  }

  // The layer's stores in LayerGradients order: the kernel's, then the bias if there is one.
  std::vector<StoreRef> stores_with(const StoreRef& weight) {
    std::vector<StoreRef> refs{weight};
    if (bias_) refs.push_back({"bias", nullptr, &*bias_});
    return refs;
  }

  // The bias as conv_forward adds it: an empty view without one.
  DenseView bias_view() { return bias_ ? bias_->view() : DenseView{}; }

  // Sizes `gradients` for the kernel's `weight_values` parameters and the bias; the kernel's part to fill.
  float* weight_gradients(LayerGradients& gradients, size_t weight_values) const {
    gradients.stores.resize(bias_ ? 2 : 1);
    gradients.stores[0].resize(weight_values);
    return gradients.stores[0].data();
  }

  // The bias's gradient, the sum of dy over every position of its channel, after weight_gradients.
  void bias_backward(const float* dy, uint32_t stride, LayerGradients& gradients) const {
    if (!bias_) return;
    gradients.stores[1].resize(geometry_.out_channels);
    conv_bias_backward(geometry_, dy, stride, gradients.stores[1].data());
  }

  ConvGeometry geometry_;
  std::optional<DenseStore> bias_;
};

}  // namespace deepr
