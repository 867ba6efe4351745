// The two passes over a layer's active connections in a training step.
//
// Activations are feature-major: x[i * stride + b] is feature i of sample b, with the batch padded
// to `stride`, a multiple of 16, by zero samples. Every connection then works on contiguous runs of
// 16 floats (an AXPY or a dot product), which vectorise without gathers. Padding samples have
// zero loss gradient, so they change nothing but cost a little work.
#pragma once

#include <cstdint>
#include <vector>

#include "gradients.hpp"
#include "philox.hpp"
#include "sparse_layer.hpp"

namespace deepr {

// y[j] = bias[j] + sum over active (i -> j) of w * x[i], for all samples at once; with `relu`,
// max(y[j], 0) (a NaN stays NaN, so a diverged network is still detected).
void sparse_forward(const SparseLayer& layer, const float* x, float* y, uint32_t stride, bool relu);

// Hyper-parameters of one DEEP R update (Algorithm 1, line 3).
struct DeepRUpdate {
  float lr;         // eta
  float alpha;      // l1 pull: theta -= eta * alpha on every active connection
  float noise_std;  // sqrt(2 eta T): std of the Gaussian added to every active theta
  float momentum;   // 0 for plain SGD, as in the reference code
  RngStream noise;  // the step's noise stream of this layer
};

// Backward pass fused with the DEEP R update, in one sweep over the active connections:
//   dx[i]  += w * dz[j]                      (input gradient, with the weight before the update)
//   g       = sign * sum_b dz[j][b] x[i][b]  (dE/dtheta; only for active connections)
//   theta  += -eta * g - eta * alpha + noise_std * N(0, 1)
// A connection whose theta ends below zero is now dormant: its slot goes into `went_dormant`
// (ascending), for SparseLayer::rewire. With momentum, v = momentum * v + g and theta
// moves by eta * v; the l1 and noise terms stay outside the momentum so it does not rescale the
// prior and the noise of the sampling process the paper analyses (Bellec et al. 2018, sec. 4).
// Biases take the plain gradient step. `dx` may be null (first layer).
// Returns the time spent drawing the noise (summed over threads); throws NonFiniteError when a
// parameter is no longer finite.
double sparse_backward_update(SparseLayer& layer, const float* x, const float* dz, float* dx, uint32_t stride,
                              const DeepRUpdate& update, std::vector<uint32_t>& went_dormant);

// The same step in two parts, for when something needs the gradients in between; together they
// give the fused sweep's bits exactly. sparse_backward: dx as above (with the weights of before the
// update) and every gradient into `gradients` (resized to the layer). sparse_update: the update
// above from those gradients, with the same noise, dying list and errors; throws std::logic_error
// when their sizes do not match the layer. Both run on one thread (the fused sweep splits big
// first layers over the pool), which keeps them independent of the thread count.
void sparse_backward(const SparseLayer& layer, const float* x, const float* dz, float* dx, uint32_t stride,
                     LayerGradients& gradients);
double sparse_update(SparseLayer& layer, const LayerGradients& gradients, const DeepRUpdate& update,
                     std::vector<uint32_t>& went_dormant);

// The samples rows[0 .. batch) (or first .. first + batch when rows is null) of a row-major data
// set, written feature-major into x with zeros for the padding samples [batch, stride).
void gather_feature_major(const float* inputs, uint32_t features, const uint32_t* rows, uint64_t first, uint32_t batch,
                          uint32_t stride, float* x);

}  // namespace deepr
