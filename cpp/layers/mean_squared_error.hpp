// mean_squared_error: the loss head for regression, no parameters. Per sample the half squared
// error summed over the outputs, sum_j (y_j - t_j)^2 / 2; E is its mean over the batch, so
// dE/dy_j = (y_j - t_j) / batch. The targets are values, one per output and sample.
#pragma once

#include <cstdint>
#include <cstring>

#include "layer.hpp"

namespace deepr {

class MeanSquaredError final : public LossLayer {
 public:
  explicit MeanSquaredError(uint32_t outputs) : outputs_(outputs) {}

  const char* kind() const override { return "mean_squared_error"; }
  uint32_t inputs() const override { return outputs_; }
  uint32_t outputs() const override { return outputs_; }

  void forward(const float* x, float* y, uint32_t stride) override {
    std::memcpy(y, x, size_t(outputs_) * stride * sizeof(float));
  }
  void backward(const float*, const float*, const float* dy, float* dx, uint32_t stride, LayerGradients&) override {
    if (dx) std::memcpy(dx, dy, size_t(outputs_) * stride * sizeof(float));
  }
  TargetKind targets() const override { return TargetKind::kValues; }
  // loss_sum: the sum over the batch of each sample's sum_j (y_j - t_j)^2 / 2, in float64; correct
  // is 0 (no class to be right about).
  LossResult loss(const float* outputs, const BatchTargets& targets, uint32_t batch, uint32_t stride,
                  float* grad) const override;

 private:
  uint32_t outputs_;
};

}  // namespace deepr
