// dense_linear: y = x W + b with W a dense store ("weight", row-major [inputs][outputs]: value
// i * outputs + j joins input i to output j) and an optional dense bias store ("bias"). Every
// parameter is kept, so it is the layer for dense baselines and readouts; the rule's optimiser
// updates both stores, the prior (DEEP R's, which acts on sparse theta) neither.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "layer.hpp"

namespace deepr {

class DenseLinear final : public Layer {
 public:
  // W = N(0, 1) / sqrt(inputs): value n is normal n of the stream (seed, step 0, weight_id,
  // Purpose::kDenseInit), weight_id the store's id among the network's dense weight stores; biases 0.
  DenseLinear(uint32_t inputs, uint32_t outputs, bool bias, uint32_t weight_id, uint64_t seed);

  const char* kind() const override { return "dense_linear"; }
  uint32_t inputs() const override { return inputs_; }
  uint32_t outputs() const override { return outputs_; }
  std::vector<StoreRef> stores() override;

  void forward(const float* x, float* y, uint32_t stride) override;
  void backward(const float* x, const float* y, const float* dy, float* dx, uint32_t stride,
                LayerGradients& gradients) override;

  DenseStore& weight() { return weight_; }
  const DenseStore& weight() const { return weight_; }
  DenseStore* bias() { return bias_ ? &*bias_ : nullptr; }
  const DenseStore* bias() const { return bias_ ? &*bias_ : nullptr; }

 private:
  uint32_t inputs_, outputs_;
  DenseStore weight_;
  std::optional<DenseStore> bias_;
};

}  // namespace deepr
