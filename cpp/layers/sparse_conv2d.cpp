#include "sparse_conv2d.hpp"

#include "conv_kernels.hpp"
#include "deep_r_init.hpp"

namespace deepr {

SparseConv2d::SparseConv2d(const ConvGeometry& geometry, uint64_t budget, bool bias, uint32_t weight_id, uint64_t seed)
    : geometry_(geometry), weight_(geometry.kernel_entries(), geometry.out_channels, weight_id, seed, budget) {
  if (bias) bias_.emplace(geometry.out_channels);
  initialise_deep_r(weight_);
}

std::vector<StoreRef> SparseConv2d::stores() {
  std::vector<StoreRef> refs{{"weight", &weight_, nullptr}};
  if (bias_) refs.push_back({"bias", nullptr, &*bias_});
  return refs;
}

void SparseConv2d::forward(const float* x, float* y, uint32_t stride) {
  conv_forward(geometry_, weight_.view(), bias_ ? bias_->view() : DenseView{}, x, y, stride);
}

void SparseConv2d::backward(const float* x, const float*, const float* dy, float* dx, uint32_t stride,
                            LayerGradients& gradients) {
  gradients.stores.resize(bias_ ? 2 : 1);
  gradients.stores[0].resize(weight_.active());
  conv_backward(geometry_, weight_.view(), x, dy, dx, stride, gradients.stores[0].data());
  if (!bias_) return;
  gradients.stores[1].resize(geometry_.out_channels);
  conv_bias_backward(geometry_, dy, stride, gradients.stores[1].data());
}

}  // namespace deepr
