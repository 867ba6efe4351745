#include "dense_linear.hpp"

#include <cmath>

#include "dense_kernels.hpp"
#include "random.hpp"
#include "sparse_kernels.hpp"

namespace deepr {

DenseLinear::DenseLinear(uint32_t inputs, uint32_t outputs, bool bias, uint32_t weight_id, uint64_t seed)
    : inputs_(inputs), outputs_(outputs), weight_(inputs * outputs) {
  if (bias) bias_.emplace(outputs);
  fill_normals(RngStream{seed, 0, weight_id, Purpose::kDenseInit}, 0, weight_.value.size(), weight_.value.data());
  const float scale = 1.0f / std::sqrt(float(inputs));
  for (float& w : weight_.value) w *= scale;
}

std::vector<StoreRef> DenseLinear::stores() {
  std::vector<StoreRef> refs{{"weight", nullptr, &weight_}};
  if (bias_) refs.push_back({"bias", nullptr, &*bias_});
  return refs;
}

void DenseLinear::forward(const float* x, float* y, uint32_t stride) {
  dense_forward(weight_.value.data(), bias_ ? bias_->value.data() : nullptr, inputs_, outputs_, x, y, stride);
}

void DenseLinear::backward(const float* x, const float*, const float* dy, float* dx, uint32_t stride,
                           LayerGradients& gradients) {
  gradients.stores.resize(bias_ ? 2 : 1);
  gradients.stores[0].resize(weight_.value.size());
  dense_backward(weight_.value.data(), inputs_, outputs_, x, dy, dx, stride, gradients.stores[0].data());
  if (!bias_) return;
  gradients.stores[1].resize(outputs_);
  bias_backward(dy, outputs_, stride, gradients.stores[1].data());
}

}  // namespace deepr
