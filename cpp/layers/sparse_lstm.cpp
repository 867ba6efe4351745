#include "sparse_lstm.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "deep_r_init.hpp"
#include "simd.hpp"
#include "sparse_kernels.hpp"

namespace deepr {

namespace {

// e^x on 16 lanes: x = n ln 2 + r with n the nearest integer to x / ln 2 (|r| <= ln 2 / 2), e^r
// by its Taylor series to r^7 (truncation below 1e-8 relative), 2^n put into the exponent bits.
// x is clamped to [-87, 88], where e^x is a normal float; a NaN stays NaN. Only + and * (no
// contraction), so every dispatched clone gives the same bits.
__attribute__((always_inline)) inline Lanes exp_lanes(Lanes x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  const Lanes shifted = x * 1.44269504f + 12582912.0f;  // 1.5 * 2^23: rounds x / ln 2 to an integer
  const Lanes n = shifted - 12582912.0f;
  const Lanes r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-6f;  // ln 2 in two parts
  Lanes p = r * (1.0f / 5040.0f) + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const Ints power = ((Ints)shifted - 0x4B400000 + 127) << 23;  // 2^n: the integer n sits in shifted's low bits
  return p * (Lanes)power;
}

__attribute__((always_inline)) inline Lanes sigmoid_lanes(Lanes v) { return 1.0f / (1.0f + exp_lanes(-v)); }
__attribute__((always_inline)) inline Lanes tanh_lanes(Lanes v) { return 2.0f / (1.0f + exp_lanes(-2.0f * v)) - 1.0f; }

// One step's gates, cell and hidden state from the pre-activations z (W_x x_t + b) and r
// (W_h h_{t-1}), for `state` = units x stride values; the gates after their nonlinearity go back
// into z. c_before is null at the first step (c_{-1} = 0).
DEEPR_DISPATCH
void gates_forward(float* __restrict z, const float* __restrict r, const float* __restrict c_before, float* __restrict c,
                   float* __restrict h, size_t state) {
  for (size_t n = 0; n < state; n += kLanes) {  // n = unit * stride + sample
    const Lanes i = sigmoid_lanes(load_lanes(z + n) + load_lanes(r + n));
    const Lanes f = sigmoid_lanes(load_lanes(z + state + n) + load_lanes(r + state + n));
    const Lanes g = tanh_lanes(load_lanes(z + 2 * state + n) + load_lanes(r + 2 * state + n));
    const Lanes o = sigmoid_lanes(load_lanes(z + 3 * state + n) + load_lanes(r + 3 * state + n));
    store_lanes(z + n, i);
    store_lanes(z + state + n, f);
    store_lanes(z + 2 * state + n, g);
    store_lanes(z + 3 * state + n, o);
    const Lanes cell = (c_before ? f * load_lanes(c_before + n) : Lanes{}) + i * g;
    store_lanes(c + n, cell);
    store_lanes(h + n, o * tanh_lanes(cell));
  }
}

// One step of BPTT through the gates: from dh (dE/dh_t) and dc (dE/dc_t through the later steps),
// dE/dz_t into dz and dE/dc_{t-1} into dc.
DEEPR_DISPATCH
void gates_backward(const float* __restrict gates, const float* __restrict c, const float* __restrict c_before,
                    const float* __restrict dh, float* __restrict dc, float* __restrict dz, size_t state) {
  for (size_t n = 0; n < state; n += kLanes) {
    const Lanes i = load_lanes(gates + n), f = load_lanes(gates + state + n);
    const Lanes g = load_lanes(gates + 2 * state + n), o = load_lanes(gates + 3 * state + n);
    const Lanes tanh_c = tanh_lanes(load_lanes(c + n)), d_h = load_lanes(dh + n);
    const Lanes d_c = load_lanes(dc + n) + d_h * o * (1.0f - tanh_c * tanh_c);
    store_lanes(dz + n, d_c * g * i * (1.0f - i));
    store_lanes(dz + state + n, c_before ? d_c * load_lanes(c_before + n) * f * (1.0f - f) : Lanes{});
    store_lanes(dz + 2 * state + n, d_c * i * (1.0f - g * g));
    store_lanes(dz + 3 * state + n, d_h * tanh_c * o * (1.0f - o));
    store_lanes(dc + n, d_c * f);
  }
}

void add_to(std::vector<float>& sum, const float* values) {
  for (size_t n = 0; n < sum.size(); ++n) sum[n] += values[n];
}

}  // namespace

SparseLstm::SparseLstm(uint32_t steps, uint32_t features, uint32_t units, uint64_t input_budget,
                       uint64_t recurrent_budget, bool sequence, uint32_t input_id, uint64_t seed)
    : steps_(steps),
      units_(units),
      sequence_(sequence),
      input_(features, 4 * units, input_id, seed, input_budget),
      recurrent_(units, 4 * units, input_id + 1, seed, recurrent_budget),
      bias_(4 * units) {
  initialise_deep_r(input_);
  initialise_deep_r(recurrent_);
  std::fill(bias_.value.begin() + units, bias_.value.begin() + 2 * units, 1.0f);  // the forget gate
}

std::vector<StoreRef> SparseLstm::stores() {
  return {{"input_weight", &input_, nullptr}, {"recurrent_weight", &recurrent_, nullptr}, {"bias", nullptr, &bias_}};
}

void SparseLstm::forward(const float* x, float* y, uint32_t stride) {
  const size_t state = size_t(units_) * stride, gate = 4 * state, step_input = size_t(input_.n_in) * stride;
  gates_.resize(steps_ * gate);
  cells_.resize(steps_ * state);
  hidden_.resize(steps_ * state);
  recurrent_in_.assign(gate, 0.0f);  // W_h h_{-1} = 0
  for (uint32_t t = 0; t < steps_; ++t) {
    float* z = gates_.data() + t * gate;
    float* c = cells_.data() + t * state;
    float* h = hidden_.data() + t * state;
    const float* c_before = t > 0 ? c - state : nullptr;
    sparse_forward(input_.view(), bias_.view(), x + t * step_input, z, stride, false);
    if (t > 0) sparse_forward(recurrent_.view(), DenseView{}, h - state, recurrent_in_.data(), stride, false);
    gates_forward(z, recurrent_in_.data(), c_before, c, h, state);
  }
  const float* out = sequence_ ? hidden_.data() : hidden_.data() + (steps_ - 1) * state;
  std::memcpy(y, out, size_t(outputs()) * stride * sizeof(float));
}

void SparseLstm::backward(const float* x, const float*, const float* dy, float* dx, uint32_t stride,
                          LayerGradients& gradients) {
  const size_t state = size_t(units_) * stride, gate = 4 * state, step_input = size_t(input_.n_in) * stride;
  gradients.stores.resize(3);
  std::vector<float>& input_gradient = gradients.stores[0];
  std::vector<float>& recurrent_gradient = gradients.stores[1];
  std::vector<float>& bias_gradient = gradients.stores[2];
  input_gradient.assign(input_.active(), 0.0f);
  recurrent_gradient.assign(recurrent_.active(), 0.0f);
  bias_gradient.assign(4 * units_, 0.0f);
  step_gradient_.resize(std::max<size_t>({input_.active(), recurrent_.active(), 4 * units_}));
  dz_.resize(gate);
  dh_.assign(state, 0.0f);  // dE/dh_t through the steps after t
  dc_.assign(state, 0.0f);  // dE/dc_t through the steps after t
  for (uint32_t t = steps_; t-- > 0;) {
    if (sequence_ || t + 1 == steps_) {
      const float* dy_t = dy + (sequence_ ? t * state : 0);
      for (size_t n = 0; n < state; ++n) dh_[n] += dy_t[n];
    }
    const float* gates = gates_.data() + t * gate;
    const float* c = cells_.data() + t * state;
    const float* c_before = t > 0 ? c - state : nullptr;
    gates_backward(gates, c, c_before, dh_.data(), dc_.data(), dz_.data(), state);
    sparse_backward(input_.view(), x + t * step_input, dz_.data(), dx ? dx + t * step_input : nullptr, stride,
                    step_gradient_.data());
    add_to(input_gradient, step_gradient_.data());
    bias_backward(dz_.data(), 4 * units_, stride, step_gradient_.data());
    add_to(bias_gradient, step_gradient_.data());
    if (t == 0) break;  // h_{-1} = 0: no recurrent gradient, nothing below
    sparse_backward(recurrent_.view(), hidden_.data() + (t - 1) * state, dz_.data(), dh_.data(), stride,
                    step_gradient_.data());
    add_to(recurrent_gradient, step_gradient_.data());
  }
}

}  // namespace deepr
