// The passes over a sparse store's active connections in a training step, on plain views of the
// stores (store_views.hpp).
//
// Activations are feature-major: x[i * stride + b] is feature i of sample b, with the batch padded
// to `stride`, a multiple of 16, by zero samples. Every connection then works on contiguous runs of
// 16 floats (an AXPY or a dot product), which vectorise without gathers. Padding samples have
// zero loss gradient, so they change nothing but cost a little work.
#pragma once

#include <cstdint>
#include <vector>

#include "philox.hpp"
#include "rules/rule.hpp"
#include "store_views.hpp"

namespace deepr {

// y[j] = bias[j] + sum over active (i -> j) of w * x[i], for all samples at once (no bias when
// bias.size is 0); with `relu`, max(y[j], 0) (a NaN stays NaN, so a diverged network is still
// detected).
void sparse_forward(const SparseView& weight, const DenseView& bias, const float* x, float* y, uint32_t stride, bool relu);

// One store's update in a step: the rule, its hyper-parameters, and the store's noise stream.
struct SlotUpdate {
  Rule rule;
  StepHyper hyper;
  RngStream noise;
};

// What an update found: whether every updated parameter is still finite, and the time spent
// drawing noise (summed over threads).
struct UpdateResult {
  bool finite = true;
  double noise_seconds = 0;
};

// Backward pass fused with the update of the weight and bias stores, in one sweep over the active
// connections:
//   dx[i]  += w * dz[j]                      (input gradient, with the weight before the update)
//   g       = sign * sum_b dz[j][b] x[i][b]  (dE/dtheta; only for active connections)
//   theta   = prior(optimiser(theta, g), nu) (rules/: with SGD and DEEP R's prior,
//                                             theta += -eta * g - eta * alpha + noise_std * nu)
// A connection whose theta ends below zero is now dormant: its slot goes into `went_dormant`
// (ascending), for SparseStore::rewire. Biases take the optimiser's step from their gradient
// sum_b dz[j][b]. `dx` may be null (first layer).
UpdateResult sparse_backward_update(const SparseView& weight, const DenseView& bias, const float* x, const float* dz,
                                    float* dx, uint32_t stride, const SlotUpdate& update,
                                    std::vector<uint32_t>& went_dormant);

// The same step in parts, for when something needs the gradients in between; together they give
// the fused sweep's bits exactly. sparse_backward: dx as above (with the weights of before the
// update) and every slot's dE/dtheta into theta_gradient[0 .. slots). bias_backward: dE/db of
// every output into bias_gradient. sparse_update / dense_update: the update above from those
// gradients, with the same noise and dying list. Big stores split over the pool as the fused sweep
// does: sparse_backward by rows when there is no dx, sparse_update by ranges of slots; the bits
// never depend on the thread count (thread_pool.hpp).
void sparse_backward(const SparseView& weight, const float* x, const float* dz, float* dx, uint32_t stride,
                     float* theta_gradient);
void bias_backward(const float* dz, uint32_t outputs, uint32_t stride, float* bias_gradient);
UpdateResult sparse_update(const SparseView& weight, const float* theta_gradient, const SlotUpdate& update,
                           std::vector<uint32_t>& went_dormant);
bool dense_update(const DenseView& store, const float* gradient, const SlotUpdate& update);

// The samples rows[0 .. batch) (or first .. first + batch when rows is null) of a row-major data
// set, written feature-major into x with zeros for the padding samples [batch, stride).
void gather_feature_major(const float* inputs, uint32_t features, const uint32_t* rows, uint64_t first, uint32_t batch,
                          uint32_t stride, float* x);

}  // namespace deepr
