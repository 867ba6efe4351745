#include "loss.hpp"

#include <algorithm>
#include <cmath>

namespace deepr {

LossResult softmax_cross_entropy(const float* logits, const int32_t* labels, uint32_t classes, uint32_t batch,
                                 uint32_t stride, float* grad) {
  LossResult result;
  if (grad)
    for (uint32_t c = 0; c < classes; ++c) std::fill(grad + size_t(c) * stride + batch, grad + size_t(c + 1) * stride, 0.0f);
  for (uint32_t b = 0; b < batch; ++b) {
    uint32_t best = 0;
    for (uint32_t c = 1; c < classes; ++c)
      if (logits[c * stride + b] > logits[best * stride + b]) best = c;
    const float top = logits[best * stride + b];
    double sum = 0;
    for (uint32_t c = 0; c < classes; ++c) sum += std::exp(double(logits[c * stride + b] - top));
    const uint32_t label = uint32_t(labels[b]);
    result.loss_sum += std::log(sum) - double(logits[label * stride + b] - top);
    result.correct += best == label;
    if (grad)
      for (uint32_t c = 0; c < classes; ++c) {
        const double p = std::exp(double(logits[c * stride + b] - top)) / sum;
        grad[c * stride + b] = float((p - (c == label ? 1.0 : 0.0)) / batch);
      }
  }
  return result;
}

}  // namespace deepr
