// The passes of a dense linear layer, y = x W + b, on the feature-major activations of
// sparse_kernels.hpp (x[i * stride + b], the batch padded to a multiple of 16 by zero samples).
// W is row-major [n_in][n_out]: w[i * n_out + j] joins input i to output j.
//
// Each output (and each input gradient, each weight gradient) is summed in one fixed order, whatever
// block or thread computes it, so results are bit-identical for any thread count; no BLAS.
#pragma once

#include <cstdint>

namespace deepr {

// y[j] = bias[j] + sum_i w[i][j] x[i] for all samples (no bias when `bias` is null).
void dense_forward(const float* w, const float* bias, uint32_t n_in, uint32_t n_out, const float* x, float* y,
                   uint32_t stride);

// From dy = dE/dy: dw[i][j] = sum_b x[i][b] dy[j][b] (the padding samples have dy = 0), and, when
// dx is not null, dx[i] = sum_j w[i][j] dy[j] per sample.
void dense_backward(const float* w, uint32_t n_in, uint32_t n_out, const float* x, const float* dy, float* dx,
                    uint32_t stride, float* dw);

}  // namespace deepr
