// Softmax cross-entropy against a float64 computation, padding and edge cases included.
#include <cmath>
#include <limits>
#include <vector>

#include "check.hpp"
#include "loss.hpp"
#include "simd.hpp"

using namespace deepr;

TEST(softmax_cross_entropy_matches_float64) {
  for (uint32_t classes : {2u, 3u, 13u})
    for (uint32_t batch : {1u, 5u, 16u, 20u}) {
      const uint32_t stride = padded_batch(batch);
      std::vector<float> logits(size_t(classes) * stride, 123.0f);  // padding samples hold junk
      std::vector<int32_t> labels(batch);
      for (uint32_t b = 0; b < batch; ++b) {
        labels[b] = int32_t((b * 7 + 3) % classes);
        for (uint32_t c = 0; c < classes; ++c) logits[c * stride + b] = 6.0f * std::sin(1.7f * float(c) + 0.9f * float(b)) + float(b);
      }
      std::vector<float> grad(logits.size(), 42.0f);
      const LossResult r = softmax_cross_entropy(logits.data(), labels.data(), classes, batch, stride, grad.data());
      double loss = 0;
      uint32_t correct = 0;
      for (uint32_t b = 0; b < batch; ++b) {
        double top = -1e300, sum = 0;
        uint32_t best = 0;
        for (uint32_t c = 0; c < classes; ++c)
          if (logits[c * stride + b] > top) top = logits[c * stride + b], best = c;
        for (uint32_t c = 0; c < classes; ++c) sum += std::exp(logits[c * stride + b] - top);
        loss += std::log(sum) - (logits[labels[b] * stride + b] - top);
        correct += best == uint32_t(labels[b]);
        for (uint32_t c = 0; c < classes; ++c) {
          const double p = std::exp(logits[c * stride + b] - top) / sum;
          CHECK_NEAR(grad[c * stride + b], (p - (int32_t(c) == labels[b])) / batch, 3e-7);
        }
      }
      CHECK_NEAR(r.loss_sum, loss, 1e-6 * batch);
      CHECK(r.correct == correct);
      for (uint32_t c = 0; c < classes; ++c)
        for (uint32_t b = batch; b < stride; ++b) CHECK(grad[c * stride + b] == 0.0f);
    }
}

TEST(softmax_cross_entropy_edge_cases) {
  const uint32_t stride = 16;
  // Ties go to the first class; a logit 200 below the top contributes exactly nothing.
  std::vector<float> logits(3 * stride, 0.0f);
  logits[0] = 1.0f, logits[stride] = 1.0f, logits[2 * stride] = -199.0f;
  const int32_t label0 = 0, label2 = 2;
  LossResult r = softmax_cross_entropy(logits.data(), &label0, 3, 1, stride, nullptr);
  CHECK(r.correct == 1);
  CHECK_NEAR(r.loss_sum, std::log(2.0), 1e-7);
  std::vector<float> grad(3 * stride);
  r = softmax_cross_entropy(logits.data(), &label2, 3, 1, stride, grad.data());
  CHECK(grad[2 * stride] == -1.0f);
  CHECK_NEAR(r.loss_sum, std::log(2.0) + 200.0, 1e-5);
  // A NaN or infinite logit makes the loss non-finite, so a diverged step is caught.
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    logits[stride] = bad;
    CHECK(!std::isfinite(softmax_cross_entropy(logits.data(), &label0, 3, 1, stride, grad.data()).loss_sum));
  }
}
