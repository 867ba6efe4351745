#include "sparse_conv2d.hpp"

#include "conv_kernels.hpp"
#include "deep_r_init.hpp"

namespace deepr {

SparseConv2d::SparseConv2d(const ConvGeometry& geometry, uint64_t budget, bool bias, uint32_t weight_id, uint64_t seed)
    : Conv2dLayer(geometry, bias), weight_(geometry.kernel_entries(), geometry.out_channels, weight_id, seed, budget) {
  initialise_deep_r(weight_);
}

std::vector<StoreRef> SparseConv2d::stores() { return stores_with({"weight", &weight_, nullptr}); }

void SparseConv2d::forward(const float* x, float* y, uint32_t stride) {
  conv_forward(geometry_, weight_.view(), bias_view(), x, y, stride);
}

void SparseConv2d::backward(const float* x, const float*, const float* dy, float* dx, uint32_t stride,
                            LayerGradients& gradients) {
  conv_backward(geometry_, weight_.view(), x, dy, dx, stride, weight_gradients(gradients, weight_.active()));
  bias_backward(dy, stride, gradients);
}

}  // namespace deepr
