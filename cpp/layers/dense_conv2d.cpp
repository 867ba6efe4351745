#include "dense_conv2d.hpp"

#include <cmath>

#include "conv_kernels.hpp"
#include "random.hpp"

namespace deepr {

DenseConv2d::DenseConv2d(const ConvGeometry& geometry, bool bias, uint32_t weight_id, uint64_t seed)
    : geometry_(geometry), weight_(geometry.out_channels * geometry.kernel_entries()) {
  if (bias) bias_.emplace(geometry.out_channels);
  fill_normals(RngStream{seed, 0, weight_id, Purpose::kDenseInit}, 0, weight_.value.size(), weight_.value.data());
  const float scale = 1.0f / std::sqrt(float(geometry.kernel_entries()));
  for (float& w : weight_.value) w *= scale;
}

std::vector<StoreRef> DenseConv2d::stores() {
  std::vector<StoreRef> refs{{"weight", nullptr, &weight_}};
  if (bias_) refs.push_back({"bias", nullptr, &*bias_});
  return refs;
}

void DenseConv2d::forward(const float* x, float* y, uint32_t stride) {
  conv_forward(geometry_, weight_.view(), bias_ ? bias_->view() : DenseView{}, x, y, stride);
}

void DenseConv2d::backward(const float* x, const float*, const float* dy, float* dx, uint32_t stride,
                           LayerGradients& gradients) {
  gradients.stores.resize(bias_ ? 2 : 1);
  gradients.stores[0].resize(weight_.value.size());
  conv_backward(geometry_, weight_.view(), x, dy, dx, stride, gradients.stores[0].data());
  if (!bias_) return;
  gradients.stores[1].resize(geometry_.out_channels);
  conv_bias_backward(geometry_, dy, stride, gradients.stores[1].data());
}

}  // namespace deepr
