// softmax_cross_entropy of feature-major logits. Per sample the kernel finds the largest logit
// (first on ties), sums e^(z - top) over the classes and writes the gradient; the loss itself,
// log(sum) - (z_label - top) in double, is left to the host, which adds the samples in order with
// the host's log: the CPU's loss sum to the bit. The float arithmetic is the CPU's
// (cpp/loss.cpp), operation for operation.
#pragma once

#include "grid.cuh"

namespace deepr_cuda {

// What the kernel leaves per sample for the host: the softmax denominator, the label's logit less
// the largest, and 1 when the sample is classified correctly, 0 when not, -1 for a label that is
// not a class.
struct SampleLoss {
  float sum;
  float label_logit;
  int32_t verdict;
};

// e^x for x <= 0 (or NaN): exp_nonpositive of cpp/loss.cpp with the same constants and order.
// x = n ln2 + r, e^r by its Taylor series to r^7, 2^n written into the exponent; 0 below -87.
__device__ inline float exp_nonpositive(float x) {
  const bool tiny = x < -87.0f;
  x = tiny ? -87.0f : x;
  const int32_t n = __float2int_rz(sub(mul(x, 1.44269504f), 0.5f));  // round(x / ln2): x <= 0, truncation
  const float nf = __int2float_rn(n);
  const float r = sub(sub(x, mul(nf, 0.693145752f)), mul(nf, 1.42860677e-6f));
  float p = add(1.38888889e-3f, mul(r, 1.98412698e-4f));
  p = add(8.33333333e-3f, mul(r, p));
  p = add(4.16666667e-2f, mul(r, p));
  p = add(1.66666667e-1f, mul(r, p));
  p = add(0.5f, mul(r, p));
  p = add(1.0f, mul(r, p));
  p = add(1.0f, mul(r, p));
  return tiny ? 0.0f : mul(p, __int_as_float((n + 127) << 23));
}

// One thread per sample b < stride. grad (may be null) = (softmax - onehot) / batch, zero for the
// padding samples b >= batch.
__global__ void softmax_cross_entropy_kernel(const float* logits, const int32_t* labels, uint32_t classes,
                                             uint32_t batch, uint32_t stride, float* grad, SampleLoss* samples) {
  const uint64_t b = first_item();
  if (b >= stride) return;
  if (b >= batch) {
    if (grad)
      for (uint32_t c = 0; c < classes; ++c) grad[uint64_t(c) * stride + b] = 0.0f;
    return;
  }
  const int32_t label = labels[b];
  if (label < 0 || uint32_t(label) >= classes) {
    samples[b] = {0.0f, 0.0f, -1};
    return;
  }
  float top = logits[b];
  uint32_t best = 0;
  for (uint32_t c = 1; c < classes; ++c) {
    const float z = logits[uint64_t(c) * stride + b];
    if (z > top) {  // the first largest logit wins ties; a NaN never wins
      best = c;
      top = z;
    }
  }
  float sum = 0.0f, label_logit = 0.0f;
  for (uint32_t c = 0; c < classes; ++c) {
    const float z = sub(logits[uint64_t(c) * stride + b], top);
    sum = add(sum, exp_nonpositive(z));
    if (c == uint32_t(label)) label_logit = z;
  }
  samples[b] = {sum, label_logit, best == uint32_t(label) ? 1 : 0};
  if (!grad) return;
  const float scale = __fdiv_rn(1.0f, mul(sum, float(batch)));
  const float onehot = __fdiv_rn(1.0f, float(batch));
  for (uint32_t c = 0; c < classes; ++c) {
    const float z = sub(logits[uint64_t(c) * stride + b], top);
    grad[uint64_t(c) * stride + b] = sub(mul(exp_nonpositive(z), scale), c == uint32_t(label) ? onehot : 0.0f);
  }
}

}  // namespace deepr_cuda
