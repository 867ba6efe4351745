// max_pool2d: the maximum of each kernel_height x kernel_width window of every channel (windows
// `stride` apart, no padding; the geometry of conv_geometry.hpp with out_channels = in_channels),
// no parameters.
#pragma once

#include <cstdint>

#include "conv_geometry.hpp"
#include "layer.hpp"

namespace deepr {

class MaxPool2d final : public Layer {
 public:
  explicit MaxPool2d(const ConvGeometry& geometry) : geometry_(geometry) {}

  const char* kind() const override { return "max_pool2d"; }
  uint32_t inputs() const override { return uint32_t(geometry_.inputs()); }
  uint32_t outputs() const override { return uint32_t(geometry_.outputs()); }

  // A NaN in a window makes its maximum NaN, so a diverged network is still detected.
  void forward(const float* x, float* y, uint32_t stride) override;
  // dy goes to the first input of the window (in row, then column order) that equals the maximum;
  // overlapping windows add up.
  void backward(const float* x, const float* y, const float* dy, float* dx, uint32_t stride,
                LayerGradients& gradients) override;

  const ConvGeometry& geometry() const { return geometry_; }

 private:
  ConvGeometry geometry_;
};

}  // namespace deepr
