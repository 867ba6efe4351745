// sparse_update and dense_update: the optimiser's step, then (sparse stores) the prior, with DEEP
// R's noise nu of slot k normal k of the store's stream. The per-value formulas of
// cpp/rules/optimisers.hpp and priors.hpp in the same order, each operation rounded on its own:
//   SGD       theta = theta - lr * g
//   momentum  v = momentum * v + g, theta = theta - lr * v
//   Adam      m = beta1 * m + (1 - beta1) * g, v = beta2 * v + (1 - beta2) * (g * g),
//             theta = theta - (lr * (m / c1)) / (sqrt(v / c2) + epsilon)
//   DEEP R    theta = (theta - lr * alpha) + noise_std * nu
//   none      theta
//   l2        theta = theta - (lr * weight_decay) * theta
//   l1-shrink a = |theta|, s = a - lr * alpha, m = s < 0 ? 0 : s, theta = theta < 0 ? -m : m
// so the CPU's bits (division and sqrt correctly rounded, as the CPU's). Under DEEP R's prior the
// slots whose theta falls below 0 are appended to a list in any order (the host sorts the short
// list); the baselines' priors train signed weights and list none. A non-finite parameter raises a flag.
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

// The step's hyper-parameters, as the kernels take them: StepHyper's update fields, copied here
// because update_conversion.hpp's table of pointers to members does not pass nvcc's host
// compilation under -Werror (its generated code trips -Wparentheses).
struct Hyper {
  float lr, alpha, noise_std, momentum;
  float weight_decay, beta1, beta2, epsilon, correction1, correction2;
};

inline Hyper hyper_of(const deepr_update& u) {
  return Hyper{u.lr,           u.alpha, u.noise_std, u.momentum,    u.weight_decay,
               u.beta1,        u.beta2, u.epsilon,   u.correction1, u.correction2};
}

// The state arrays an optimiser keeps per value.
DEEPR_HOST_DEVICE constexpr uint32_t state_arrays(uint32_t optimiser) {
  return optimiser == DEEPR_OPTIMISER_ADAM ? 2u : optimiser == DEEPR_OPTIMISER_MOMENTUM ? 1u : 0u;
}

// The optimiser's step on one value with its state (v for momentum, m and v for Adam, none for SGD).
template <uint32_t kOptimiser>
__device__ inline float optimiser_step(float t, float g, float* state, const Hyper& h) {
  if (kOptimiser == DEEPR_OPTIMISER_MOMENTUM) {
    const float v = add(mul(h.momentum, state[0]), g);
    state[0] = v;
    return sub(t, mul(h.lr, v));
  }
  if (kOptimiser == DEEPR_OPTIMISER_ADAM) {
    const float m = add(mul(h.beta1, state[0]), mul(sub(1.0f, h.beta1), g));
    const float v = add(mul(h.beta2, state[1]), mul(sub(1.0f, h.beta2), mul(g, g)));
    state[0] = m;
    state[1] = v;
    const float m_hat = __fdiv_rn(m, h.correction1), v_hat = __fdiv_rn(v, h.correction2);
    return sub(t, __fdiv_rn(mul(h.lr, m_hat), add(deepr::ieee::sqrt(v_hat), h.epsilon)));
  }
  return sub(t, mul(h.lr, g));
}

// The prior's step on theta after the optimiser's, with the slot's noise nu (DEEP R's only).
template <uint32_t kPrior>
__device__ inline float prior_step(float t, float nu, const Hyper& h) {
  if (kPrior == DEEPR_PRIOR_DEEP_R) return add(sub(t, mul(h.lr, h.alpha)), mul(h.noise_std, nu));
  if (kPrior == DEEPR_PRIOR_L2) return sub(t, mul(mul(h.lr, h.weight_decay), t));
  if (kPrior == DEEPR_PRIOR_L1_SHRINK) {
    const float shrunk = sub(t < 0.0f ? -t : t, mul(h.lr, h.alpha));
    const float magnitude = shrunk < 0.0f ? 0.0f : shrunk;  // a NaN stays NaN
    return t < 0.0f ? -magnitude : magnitude;
  }
  return t;  // none
}

// One thread per slot. The noise is drawn only under DEEP R's prior with noise_std != 0 (the CPU's
// nu is 0 then, and no other prior reads it).
template <uint32_t kOptimiser, uint32_t kPrior>
__global__ void sparse_update_kernel(deepr_sparse_view w, const float* gradient, Hyper h, deepr::RngStream noise,
                                     uint32_t* dying, DeviceFlags* flags) {
  constexpr int kStates = int(state_arrays(kOptimiser));  // signed: no pointless a < 0 for SGD
  for (uint64_t k = first_item(); k < w.slots; k += grid_stride()) {
    float state[kStates + 1];
    for (int a = 0; a < kStates; ++a) state[a] = w.state[a][k];
    float t = optimiser_step<kOptimiser>(w.theta[k], gradient[k], state, h);
    for (int a = 0; a < kStates; ++a) w.state[a][k] = state[a];
    const float nu = kPrior == DEEPR_PRIOR_DEEP_R && h.noise_std != 0.0f ? deepr::normal(noise, k) : 0.0f;
    t = prior_step<kPrior>(t, nu, h);
    w.theta[k] = t;
    if (!isfinite(t)) flags->non_finite = 1;
    if (kPrior == DEEPR_PRIOR_DEEP_R && t < 0.0f) dying[atomicAdd(&flags->dying_count, 1u)] = uint32_t(k);  // now dormant
  }
}

// One thread per value of a dense store (a bias): the optimiser's step alone.
template <uint32_t kOptimiser>
__global__ void dense_update_kernel(deepr_dense_view d, const float* gradient, Hyper h, DeviceFlags* flags) {
  constexpr int kStates = int(state_arrays(kOptimiser));  // signed: no pointless a < 0 for SGD
  for (uint64_t n = first_item(); n < d.size; n += grid_stride()) {
    float state[kStates + 1];
    for (int a = 0; a < kStates; ++a) state[a] = d.state[a][n];
    const float v = optimiser_step<kOptimiser>(d.value[n], gradient[n], state, h);
    for (int a = 0; a < kStates; ++a) d.state[a][n] = state[a];
    d.value[n] = v;
    if (!isfinite(v)) flags->non_finite = 1;
  }
}

// An update's optimiser and prior as compile-time numbers, for choosing the kernels' instances.
template <uint32_t kOptimiserNumber, uint32_t kPriorNumber>
struct UpdateKinds {
  static constexpr uint32_t kOptimiser = kOptimiserNumber, kPrior = kPriorNumber;
};

template <uint32_t kOptimiser, class F>
void with_prior_kind(uint32_t prior, F&& f) {
  switch (prior) {
    case DEEPR_PRIOR_DEEP_R: return f(UpdateKinds<kOptimiser, DEEPR_PRIOR_DEEP_R>{});
    case DEEPR_PRIOR_NONE: return f(UpdateKinds<kOptimiser, DEEPR_PRIOR_NONE>{});
    case DEEPR_PRIOR_L2: return f(UpdateKinds<kOptimiser, DEEPR_PRIOR_L2>{});
    default: return f(UpdateKinds<kOptimiser, DEEPR_PRIOR_L1_SHRINK>{});
  }
}

// Calls f(UpdateKinds<optimiser, prior>{}) for an update whose numbers the caller has checked.
template <class F>
void with_update_kinds(const deepr_update& u, F&& f) {
  switch (u.optimiser) {
    case DEEPR_OPTIMISER_SGD: return with_prior_kind<DEEPR_OPTIMISER_SGD>(u.prior, f);
    case DEEPR_OPTIMISER_MOMENTUM: return with_prior_kind<DEEPR_OPTIMISER_MOMENTUM>(u.prior, f);
    default: return with_prior_kind<DEEPR_OPTIMISER_ADAM>(u.prior, f);
  }
}

}  // namespace deepr_cuda
