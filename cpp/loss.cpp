#include "loss.hpp"

#include <cmath>
#include <cstring>

#include "simd.hpp"

namespace deepr {

namespace {

// e^x for x <= 0 (or NaN), 16 lanes at once, within about 2 ulp: x = n ln2 + r with |r| <= ln2/2
// (ln2 in two parts so r is exact), e^r by its Taylor series to r^7, 2^n written into the
// exponent. Below -87, where e^x is under 2^-125, the result is 0. Plain arithmetic only, so
// every CPU gets the same bits (libm's exp may differ between its FMA and non-FMA variants).
__attribute__((always_inline)) inline Lanes exp_nonpositive(Lanes x) {
  const Ints tiny = x < -87.0f;
  x = tiny ? -87.0f : x;
  const Ints n = __builtin_convertvector(x * 1.44269504f - 0.5f, Ints);  // round(x / ln2): x <= 0, truncation
  const Lanes nf = __builtin_convertvector(n, Lanes);
  const Lanes r = x - nf * 0.693145752f - nf * 1.42860677e-6f;
  const Lanes p =
      1.0f + r * (1.0f + r * (0.5f + r * (1.66666667e-1f + r * (4.16666667e-2f + r * (8.33333333e-3f +
                                                                                     r * (1.38888889e-3f + r * 1.98412698e-4f))))));
  const Lanes scale = (Lanes)((n + 127) << 23);
  return tiny ? 0.0f : p * scale;
}

}  // namespace

DEEPR_DISPATCH
LossResult softmax_cross_entropy(const float* logits, const int32_t* labels, uint32_t classes, uint32_t batch,
                                 uint32_t stride, float* grad) {
  LossResult result;
  // 16 samples at a time, one class per vector (logits are feature-major).
  for (uint32_t b0 = 0; b0 < stride; b0 += kLanes) {
    const uint32_t real = b0 < batch ? std::min(kLanes, batch - b0) : 0;  // samples that are not padding
    Ints label = {};
    for (uint32_t l = 0; l < real; ++l) label[l] = labels[b0 + l];
    Lanes top = load_lanes(logits + b0);
    Ints best = {};
    for (uint32_t c = 1; c < classes; ++c) {
      const Lanes z = load_lanes(logits + size_t(c) * stride + b0);
      best = z > top ? Ints{} + int32_t(c) : best;  // the first largest logit wins ties
      top = z > top ? z : top;
    }
    Lanes sum = {}, label_logit = {};
    for (uint32_t c = 0; c < classes; ++c) {
      const Lanes z = load_lanes(logits + size_t(c) * stride + b0) - top;
      sum += exp_nonpositive(z);
      label_logit = label == int32_t(c) ? z : label_logit;
    }
    for (uint32_t l = 0; l < real; ++l) {
      result.loss_sum += std::log(double(sum[l])) - double(label_logit[l]);
      result.correct += best[l] == label[l];
    }
    if (!grad) continue;
    // dE/dz = (softmax - onehot) / batch for E the batch mean; zero for padding samples.
    Ints padding = {};
    for (uint32_t l = real; l < kLanes; ++l) padding[l] = -1;
    const Lanes scale = 1.0f / (sum * float(batch));
    for (uint32_t c = 0; c < classes; ++c) {
      const Lanes z = load_lanes(logits + size_t(c) * stride + b0) - top;
      const Lanes g = exp_nonpositive(z) * scale - (label == int32_t(c) ? 1.0f / float(batch) : 0.0f);
      store_lanes(grad + size_t(c) * stride + b0, padding ? 0.0f : g);
    }
  }
  return result;
}

}  // namespace deepr
