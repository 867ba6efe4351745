// sparse_update and dense_update: the optimiser's step, then (sparse stores) DEEP R's prior with
// the noise of slot k, normal k of the store's stream. The per-value formulas of
// cpp/rules/optimisers.hpp and priors.hpp in the same order, each operation rounded on its own:
//   SGD       theta = theta - lr * g
//   momentum  v = momentum * v + g, theta = theta - lr * v
//   DEEP R    theta = (theta - lr * alpha) + noise_std * nu
// so the CPU's bits. Slots whose theta falls below 0 are appended to a list in any order (the
// host sorts the short list); a non-finite parameter raises a flag.
#pragma once

#include "grid.cuh"

namespace deepr_cuda {

// What an update or a rewire reports back to the host, zeroed before the launch.
struct DeviceFlags {
  uint32_t dying_count;     // sparse_update: entries in the dying list
  uint32_t non_finite;      // an updated parameter is NaN or infinite
  uint32_t born_active;     // rewire: a born position is an active slot that is not dying
  uint32_t bad_row_start;   // rewire: row_start[0] != 0 or row_start[n_out] != slots
};

// The step's hyper-parameters, as the kernels take them.
struct Hyper {
  float lr, alpha, noise_std, momentum;
};

// The optimiser's step on one value with its state (v for momentum, none for SGD).
template <uint32_t kOptimiser>
__device__ inline float optimiser_step(float t, float g, float* state, const Hyper& h) {
  if (kOptimiser == DEEPR_OPTIMISER_MOMENTUM) {
    const float v = add(mul(h.momentum, *state), g);
    *state = v;
    return sub(t, mul(h.lr, v));
  }
  return sub(t, mul(h.lr, g));
}

// One thread per slot. The noise is drawn only when noise_std != 0 (the CPU's nu is 0 then).
template <uint32_t kOptimiser>
__global__ void sparse_update_kernel(deepr_sparse_view w, const float* gradient, Hyper h, deepr::RngStream noise,
                                     uint32_t* dying, DeviceFlags* flags) {
  for (uint64_t k = first_item(); k < w.slots; k += grid_stride()) {
    float state = kOptimiser == DEEPR_OPTIMISER_MOMENTUM ? w.state[0][k] : 0.0f;
    float t = optimiser_step<kOptimiser>(w.theta[k], gradient[k], &state, h);
    if (kOptimiser == DEEPR_OPTIMISER_MOMENTUM) w.state[0][k] = state;
    const float nu = h.noise_std != 0.0f ? deepr::normal(noise, k) : 0.0f;
    t = add(sub(t, mul(h.lr, h.alpha)), mul(h.noise_std, nu));
    w.theta[k] = t;
    if (!isfinite(t)) flags->non_finite = 1;
    if (t < 0.0f) dying[atomicAdd(&flags->dying_count, 1u)] = uint32_t(k);  // now dormant
  }
}

// One thread per value of a dense store (a bias): the optimiser's step alone.
template <uint32_t kOptimiser>
__global__ void dense_update_kernel(deepr_dense_view d, const float* gradient, Hyper h, DeviceFlags* flags) {
  for (uint64_t n = first_item(); n < d.size; n += grid_stride()) {
    float state = kOptimiser == DEEPR_OPTIMISER_MOMENTUM ? d.state[0][n] : 0.0f;
    const float v = optimiser_step<kOptimiser>(d.value[n], gradient[n], &state, h);
    if (kOptimiser == DEEPR_OPTIMISER_MOMENTUM) d.state[0][n] = state;
    d.value[n] = v;
    if (!isfinite(v)) flags->non_finite = 1;
  }
}

}  // namespace deepr_cuda
