#include "sparse_linear.hpp"

#include "deep_r_init.hpp"

namespace deepr {

SparseLinear::SparseLinear(uint32_t inputs, uint32_t outputs, uint64_t budget, bool bias, uint32_t weight_id,
                           uint64_t seed)
    : weight_(inputs, outputs, weight_id, seed, budget) {
  if (bias) bias_.emplace(outputs);
  initialise_deep_r(weight_);
}

std::vector<StoreRef> SparseLinear::stores() {
  std::vector<StoreRef> refs{{"weight", &weight_, nullptr}};
  if (bias_) refs.push_back({"bias", nullptr, &*bias_});
  return refs;
}

void SparseLinear::forward_relu(const float* x, float* y, uint32_t stride, bool relu) {
  sparse_forward(weight_.view(), bias_view(), x, y, stride, relu);
}

void SparseLinear::backward(const float* x, const float*, const float* dy, float* dx, uint32_t stride,
                            LayerGradients& gradients) {
  gradients.stores.resize(bias_ ? 2 : 1);
  gradients.stores[0].resize(weight_.active());
  sparse_backward(weight_.view(), x, dy, dx, stride, gradients.stores[0].data());
  if (!bias_) return;
  gradients.stores[1].resize(outputs());
  bias_backward(dy, outputs(), stride, gradients.stores[1].data());
}

UpdateResult SparseLinear::backward_update(const float* x, const float* dy, float* dx, uint32_t stride,
                                           const SlotUpdate& update, std::vector<uint32_t>& went_dormant) {
  return sparse_backward_update(weight_.view(), bias_view(), x, dy, dx, stride, update, went_dormant);
}

}  // namespace deepr
