// softmax_cross_entropy: the loss head over `classes` logits (loss.hpp), no parameters.
#pragma once

#include <cstdint>
#include <cstring>

#include "layer.hpp"

namespace deepr {

class SoftmaxCrossEntropy final : public LossLayer {
 public:
  explicit SoftmaxCrossEntropy(uint32_t classes) : classes_(classes) {}

  const char* kind() const override { return "softmax_cross_entropy"; }
  uint32_t inputs() const override { return classes_; }
  uint32_t outputs() const override { return classes_; }

  void forward(const float* x, float* y, uint32_t stride) override {
    std::memcpy(y, x, size_t(classes_) * stride * sizeof(float));
  }
  void backward(const float*, const float*, const float* dy, float* dx, uint32_t stride, LayerGradients&) override {
    if (dx) std::memcpy(dx, dy, size_t(classes_) * stride * sizeof(float));
  }
  TargetKind targets() const override { return TargetKind::kLabels; }
  LossResult loss(const float* logits, const BatchTargets& targets, uint32_t batch, uint32_t stride,
                  float* grad) const override {
    return softmax_cross_entropy(logits, targets.labels, classes_, batch, stride, grad);
  }

 private:
  uint32_t classes_;
};

}  // namespace deepr
