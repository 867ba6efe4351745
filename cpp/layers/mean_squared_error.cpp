#include "mean_squared_error.hpp"

namespace deepr {

LossResult MeanSquaredError::loss(const float* y, const BatchTargets& targets, uint32_t batch, uint32_t stride,
                                  float* grad) const {
  LossResult result;
  const float scale = 1.0f / float(batch);
  for (uint32_t j = 0; j < outputs_; ++j) {
    const float* yj = y + size_t(j) * stride;
    const float* tj = targets.values + size_t(j) * stride;
    for (uint32_t b = 0; b < batch; ++b) {
      const double e = double(yj[b]) - double(tj[b]);
      result.loss_sum += e * e * 0.5;
    }
    if (!grad) continue;
    float* gj = grad + size_t(j) * stride;
    for (uint32_t b = 0; b < batch; ++b) gj[b] = (yj[b] - tj[b]) * scale;
    for (uint32_t b = batch; b < stride; ++b) gj[b] = 0.0f;
  }
  return result;
}

}  // namespace deepr
