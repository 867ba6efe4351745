#include "loss.hpp"

#include <cmath>

namespace deepr {

LossResult softmax_cross_entropy(const float* logits, const int32_t* labels, uint32_t classes, uint32_t batch,
                                 float* grad) {
  LossResult result;
  for (uint32_t b = 0; b < batch; ++b) {
    uint32_t best = 0;
    for (uint32_t c = 1; c < classes; ++c)
      if (logits[c * batch + b] > logits[best * batch + b]) best = c;
    const float top = logits[best * batch + b];
    double sum = 0;
    for (uint32_t c = 0; c < classes; ++c) sum += std::exp(double(logits[c * batch + b] - top));
    const uint32_t label = uint32_t(labels[b]);
    result.loss_sum += std::log(sum) - double(logits[label * batch + b] - top);
    result.correct += best == label;
    if (grad)
      for (uint32_t c = 0; c < classes; ++c) {
        const double p = std::exp(double(logits[c * batch + b] - top)) / sum;
        grad[c * batch + b] = float((p - (c == label ? 1.0 : 0.0)) / batch);
      }
  }
  return result;
}

}  // namespace deepr
