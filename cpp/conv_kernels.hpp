// The passes of a 2-D convolution (conv_geometry.hpp) on feature-major activations, with the
// weight as a sparse store (sparse_conv2d: only the active kernel entries, never a dense kernel)
// or a dense one (dense_conv2d). Each active connection (out channel, in channel, ky, kx) is an
// AXPY (forward, input gradient) or a dot product (its gradient) over the sample lanes of every
// output position it reaches: work O(K x output positions x samples), memory O(K).
//
// The weight store's row j is output channel j and its column is the kernel entry
// (ic * kernel_height + ky) * kernel_width + kx, so a sparse store's position is
// out_channel * kernel_entries + entry (n_in = kernel_entries, n_out = out_channels) and a dense
// store holds the kernels [out_channels][in_channels][kernel_height][kernel_width].
//
// Every output is summed in a fixed order (its bias, then its channel's connections in slot order,
// each over kernel rows and columns), whichever thread computes it, so results do not depend on
// the thread count.
#pragma once

#include <cstdint>

#include "conv_geometry.hpp"
#include "store_views.hpp"

namespace deepr {

// y = bias[out channel] + sum over the connections of w * x, for every output position and sample
// (no bias when bias.size is 0).
void conv_forward(const ConvGeometry& g, const SparseView& weight, const DenseView& bias, const float* x, float* y,
                  uint32_t stride);
void conv_forward(const ConvGeometry& g, const DenseView& weight, const DenseView& bias, const float* x, float* y,
                  uint32_t stride);

// From dy: dx (when not null) and the gradient of every weight into weight_gradient (a sparse
// store's per active slot, dE/dtheta: the sign applied; a dense store's per weight, dE/dw).
void conv_backward(const ConvGeometry& g, const SparseView& weight, const float* x, const float* dy, float* dx,
                   uint32_t stride, float* weight_gradient);
void conv_backward(const ConvGeometry& g, const DenseView& weight, const float* x, const float* dy, float* dx,
                   uint32_t stride, float* weight_gradient);

// dE/dbias of every output channel: the sum of its dy over positions and samples.
void conv_bias_backward(const ConvGeometry& g, const float* dy, uint32_t stride, float* bias_gradient);

}  // namespace deepr
