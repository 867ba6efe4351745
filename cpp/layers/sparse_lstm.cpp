#include "sparse_lstm.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "random.hpp"
#include "rules/deep_r_structure.hpp"
#include "sparse_kernels.hpp"

namespace deepr {

namespace {

// K distinct positions drawn uniformly, theta = |N(0, 1)| / sqrt(n_in), as a sparse_linear weight.
void initialise(SparseStore& w, uint64_t seed) {
  std::vector<uint64_t> positions;
  sample_dormant(w, 0, w.budget, RngStream{seed, 0, w.id, Purpose::kInitPositions}, positions);
  std::vector<float> theta(w.budget);
  fill_normals(RngStream{seed, 0, w.id, Purpose::kInitMagnitudes}, 0, w.budget, theta.data());
  const float scale = 1.0f / std::sqrt(float(w.n_in));
  for (float& t : theta) t = std::fabs(t) * scale;
  w.assign(positions, theta);
}

inline float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

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
  initialise(input_, seed);
  initialise(recurrent_, seed);
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
    const float* r = recurrent_in_.data();
    for (size_t n = 0; n < state; ++n) {  // n = unit * stride + sample
      const float i = sigmoid(z[n] + r[n]);
      const float f = sigmoid(z[state + n] + r[state + n]);
      const float g = std::tanh(z[2 * state + n] + r[2 * state + n]);
      const float o = sigmoid(z[3 * state + n] + r[3 * state + n]);
      z[n] = i, z[state + n] = f, z[2 * state + n] = g, z[3 * state + n] = o;
      c[n] = (c_before ? f * c_before[n] : 0.0f) + i * g;
      h[n] = o * std::tanh(c[n]);
    }
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
    for (size_t n = 0; n < state; ++n) {
      const float i = gates[n], f = gates[state + n], g = gates[2 * state + n], o = gates[3 * state + n];
      const float tanh_c = std::tanh(c[n]);
      const float dc = dc_[n] + dh_[n] * o * (1.0f - tanh_c * tanh_c);
      dz_[n] = dc * g * i * (1.0f - i);
      dz_[state + n] = c_before ? dc * c_before[n] * f * (1.0f - f) : 0.0f;
      dz_[2 * state + n] = dc * i * (1.0f - g * g);
      dz_[3 * state + n] = dh_[n] * tanh_c * o * (1.0f - o);
      dc_[n] = dc * f;
    }
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
