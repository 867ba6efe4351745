// Softmax cross-entropy on feature-major logits (logits[c * stride + b], samples b < batch).
#pragma once

#include <cstdint>

namespace deepr {

struct LossResult {
  double loss_sum = 0;   // sum over the batch of -log softmax(logits)[label]
  uint32_t correct = 0;  // samples whose largest logit (first on ties) is the label
};

// When `grad` is not null it receives dE/dlogits for E = the batch *mean* loss, as in the
// reference code (tf.reduce_mean): (softmax - onehot) / batch; the padding columns get zero.
LossResult softmax_cross_entropy(const float* logits, const int32_t* labels, uint32_t classes, uint32_t batch,
                                 uint32_t stride, float* grad);

}  // namespace deepr
