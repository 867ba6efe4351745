// sparse_linear: y = x W + b with W a sparse store ("weight") of K active connections and an
// optional dense bias store ("bias").
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "layer.hpp"
#include "sparse_kernels.hpp"

namespace deepr {

class SparseLinear final : public Layer {
 public:
  // The weight initialised by initialise_deep_r (deep_r_init.hpp): K distinct positions, theta =
  // |N(0, 1)| / sqrt(inputs), fixed random signs; biases 0. The weight store's id keys its random
  // streams.
  SparseLinear(uint32_t inputs, uint32_t outputs, uint64_t budget, bool bias, uint32_t weight_id, uint64_t seed);

  const char* kind() const override { return "sparse_linear"; }
  uint32_t inputs() const override { return weight_.n_in; }
  uint32_t outputs() const override { return weight_.n_out; }
  std::vector<StoreRef> stores() override;

  void forward(const float* x, float* y, uint32_t stride) override { forward_relu(x, y, stride, false); }
  void backward(const float* x, const float* y, const float* dy, float* dx, uint32_t stride,
                LayerGradients& gradients) override;

  // The forward pass with a ReLU that follows this layer applied in the same sweep.
  void forward_relu(const float* x, float* y, uint32_t stride, bool relu);
  // Backward and the update of both stores in one sweep (sparse_backward_update): the same bits as
  // backward() followed by the update of each store. The weight's dying slots go into went_dormant.
  UpdateResult backward_update(const float* x, const float* dy, float* dx, uint32_t stride, const SlotUpdate& update,
                               std::vector<uint32_t>& went_dormant);

  SparseStore& weight() { return weight_; }
  const SparseStore& weight() const { return weight_; }
  DenseStore* bias() { return bias_ ? &*bias_ : nullptr; }
  const DenseStore* bias() const { return bias_ ? &*bias_ : nullptr; }

 private:
  DenseView bias_view() { return bias_ ? bias_->view() : DenseView{}; }

  SparseStore weight_;
  std::optional<DenseStore> bias_;
};

}  // namespace deepr
