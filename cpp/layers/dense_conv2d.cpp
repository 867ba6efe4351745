#include "dense_conv2d.hpp"

#include <cmath>

#include "conv_kernels.hpp"
#include "random.hpp"

namespace deepr {

DenseConv2d::DenseConv2d(const ConvGeometry& geometry, bool bias, uint32_t weight_id, uint64_t seed)
    : Conv2dLayer(geometry, bias), weight_(geometry.out_channels * geometry.kernel_entries()) {
  fill_normals(RngStream{seed, 0, weight_id, Purpose::kDenseInit}, 0, weight_.value.size(), weight_.value.data());
  const float scale = 1.0f / std::sqrt(float(geometry.kernel_entries()));
  for (float& w : weight_.value) w *= scale;
}

std::vector<StoreRef> DenseConv2d::stores() { return stores_with({"weight", nullptr, &weight_}); }

void DenseConv2d::forward(const float* x, float* y, uint32_t stride) {
  conv_forward(geometry_, weight_.view(), bias_view(), x, y, stride);
}

void DenseConv2d::backward(const float* x, const float*, const float* dy, float* dx, uint32_t stride,
                           LayerGradients& gradients) {
  conv_backward(geometry_, weight_.view(), x, dy, dx, stride, weight_gradients(gradients, weight_.value.size()));
  bias_backward(dy, stride, gradients);
}

}  // namespace deepr
