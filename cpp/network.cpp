#include "network.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "non_finite_error.hpp"
#include "random.hpp"
#include "simd.hpp"
#include "sparse_kernels.hpp"

namespace deepr {

namespace {

constexpr uint32_t kEvalBatch = 256;

void validate(const NetworkSpec& spec) {
  if (spec.sizes.size() < 2) throw std::invalid_argument("a network needs at least an input and an output size");
  for (uint32_t size : spec.sizes)
    if (size == 0 || size > kMaxLayerSize) throw std::invalid_argument("layer sizes must be in [1, 2^31 - 1]");
  if (spec.sizes.back() < 2) throw std::invalid_argument("the output layer needs at least 2 classes");
  if (spec.budgets.size() != spec.sizes.size() - 1) throw std::invalid_argument("one budget per layer is required");
  for (size_t l = 0; l < spec.budgets.size(); ++l) {
    const uint64_t positions = uint64_t(spec.sizes[l]) * spec.sizes[l + 1];
    if (spec.budgets[l] == 0 || spec.budgets[l] > positions || spec.budgets[l] > kMaxLayerSize)
      throw std::invalid_argument("budget of layer " + std::to_string(l) + " must be in [1, min(positions, 2^31 - 1)]");
  }
}

}  // namespace

Network::Network(NetworkSpec spec) : spec_(std::move(spec)) {
  validate(spec_);
  const size_t n = spec_.budgets.size();
  layers_.reserve(n);
  for (size_t l = 0; l < n; ++l) {
    SparseLayer layer(spec_.sizes[l], spec_.sizes[l + 1], uint32_t(l), spec_.seed, spec_.bias, spec_.momentum);
    const uint64_t k = spec_.budgets[l];
    std::vector<uint64_t> positions;
    sample_dormant(layer, 0, k, RngStream{spec_.seed, 0, uint32_t(l), Purpose::kInitPositions}, positions);
    std::vector<float> theta(k);
    fill_normals(RngStream{spec_.seed, 0, uint32_t(l), Purpose::kInitMagnitudes}, 0, k, theta.data());
    const float scale = 1.0f / std::sqrt(float(layer.n_in));
    for (float& t : theta) t = std::fabs(t) * scale;
    layer.assign(positions, theta);
    layers_.push_back(std::move(layer));
  }
  act_.resize(n + 1);
  went_dormant_.resize(n);
}

uint32_t Network::load_rows(const float* inputs, const uint32_t* rows, uint64_t first, uint32_t batch) {
  const uint32_t stride = padded_batch(batch);
  act_[0].resize(size_t(input_size()) * stride);
  gather_feature_major(inputs, input_size(), rows, first, batch, stride, act_[0].data());
  return stride;
}

const int32_t* Network::load_labels(const int32_t* labels, const uint32_t* rows, uint64_t first, uint32_t batch) {
  labels_.resize(batch);
  for (uint32_t b = 0; b < batch; ++b) {
    const uint64_t sample = rows ? rows[b] : first + b;
    labels_[b] = labels[sample];
    if (labels_[b] < 0 || uint32_t(labels_[b]) >= classes())
      throw std::invalid_argument("label " + std::to_string(labels_[b]) + " of sample " + std::to_string(sample) +
                                  " is outside [0, " + std::to_string(classes()) + ")");
  }
  return labels_.data();
}

void Network::forward(uint32_t stride) {
  for (size_t l = 0; l < layers_.size(); ++l) {
    std::vector<float>& y = act_[l + 1];
    y.resize(size_t(layers_[l].n_out) * stride);
    sparse_forward(layers_[l], act_[l].data(), y.data(), stride, l + 1 < layers_.size());  // ReLU but on the logits
  }
}

void Network::train_step(const float* inputs, const int32_t* labels_all, const uint32_t* rows, uint32_t batch,
                         const StepHyper& hyper, StepStats& stats) {
  if (batch == 0) throw std::invalid_argument("batch must not be empty");
  const int32_t* labels = load_labels(labels_all, rows, 0, batch);
  const uint32_t stride = load_rows(inputs, rows, 0, batch);
  forward(stride);

  grad_.resize(size_t(classes()) * stride);
  stats.noise_seconds = 0;
  stats.loss = softmax_cross_entropy(act_.back().data(), labels, classes(), batch, stride, grad_.data());
  if (!std::isfinite(stats.loss.loss_sum))
    throw NonFiniteError("loss is not finite at step " + std::to_string(step_) +
                             ": the batch holds NaN or Infinity, or training diverged (lower the learning rate)",
                         uint32_t(layers_.size() - 1));

  if (exchange_) backward_exchange_update(stride, hyper, stats);
  else backward_and_update(stride, hyper, stats);
  const auto regrowth_start = std::chrono::steady_clock::now();
  regrow(stats.rewired);
  stats.regrowth_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - regrowth_start).count();
  ++step_;
}

DeepRUpdate Network::update_of(size_t l, const StepHyper& hyper) const {
  return DeepRUpdate{hyper.lr, hyper.alpha, hyper.noise_std, hyper.momentum,
                     RngStream{spec_.seed, step_, uint32_t(l), Purpose::kNoise}};
}

void Network::through_relu(size_t l) {
  const std::vector<float>& a = act_[l];  // ReLU output: its derivative is a > 0
  for (size_t n = 0; n < grad_in_.size(); ++n) grad_in_[n] = a[n] > 0.0f ? grad_in_[n] : 0.0f;
  grad_.swap(grad_in_);
}

void Network::backward_and_update(uint32_t stride, const StepHyper& hyper, StepStats& stats) {
  for (size_t l = layers_.size(); l-- > 0;) {
    SparseLayer& layer = layers_[l];
    float* dx = nullptr;
    if (l > 0) {
      grad_in_.resize(size_t(layer.n_in) * stride);
      dx = grad_in_.data();
    }
    try {
      stats.noise_seconds +=
          sparse_backward_update(layer, act_[l].data(), grad_.data(), dx, stride, update_of(l, hyper), went_dormant_[l]);
    } catch (const NonFiniteError& e) {
      throw NonFiniteError(std::string(e.what()) + " at step " + std::to_string(step_), e.layer);
    }
    if (l > 0) through_relu(l);
  }
}

void Network::backward_exchange_update(uint32_t stride, const StepHyper& hyper, StepStats& stats) {
  gradients_.resize(layers_.size());
  for (size_t l = layers_.size(); l-- > 0;) {
    float* dx = nullptr;
    if (l > 0) {
      grad_in_.resize(size_t(layers_[l].n_in) * stride);
      dx = grad_in_.data();
    }
    sparse_backward(layers_[l], act_[l].data(), grad_.data(), dx, stride, gradients_[l]);
    if (l > 0) through_relu(l);
  }
  exchange_(gradients_);
  for (size_t l = 0; l < layers_.size(); ++l)  // before any update, so a refused step changes nothing
    if (gradients_.size() != layers_.size() || gradients_[l].theta.size() != layers_[l].active() ||
        gradients_[l].bias.size() != layers_[l].bias.size())
      throw std::logic_error("the gradient exchange changed the size of the gradients of layer " + std::to_string(l) +
                             ": it may change their values only");
  // From the last layer down, as the fused path, so a divergence reports the same layer.
  for (size_t l = layers_.size(); l-- > 0;) {
    try {
      stats.noise_seconds += sparse_update(layers_[l], gradients_[l], update_of(l, hyper), went_dormant_[l]);
    } catch (const NonFiniteError& e) {
      throw NonFiniteError(std::string(e.what()) + " at step " + std::to_string(step_), e.layer);
    }
  }
}

void Network::regrow(std::vector<uint64_t>& rewired) {
  // The slots that went dormant in this step are still in place (theta < 0) until rewire() drops
  // them, and count as dormant positions already: regrowth may pick them again.
  const size_t n = layers_.size();
  std::vector<uint64_t>& dying = dying_counts_;
  dying.resize(n);
  uint64_t deficit = 0;
  for (size_t l = 0; l < n; ++l) deficit += dying[l] = went_dormant_[l].size();
  rewired = dying;
  if (spec_.global_budget && deficit > 0)
    rewired = share_deficit(deficit, layers_, dying, spec_.budgets, spec_.share,
                            RngStream{spec_.seed, step_, 0, Purpose::kRewireShare});
  for (size_t l = 0; l < n; ++l) {
    sample_dormant(layers_[l], dying[l], rewired[l], RngStream{spec_.seed, step_, uint32_t(l), Purpose::kRewire}, picks_);
    layers_[l].rewire(went_dormant_[l], picks_);
  }
}

LossResult Network::evaluate(const float* inputs, const int32_t* labels, uint64_t count) {
  LossResult total;
  for (uint64_t first = 0; first < count; first += kEvalBatch) {
    const uint32_t batch = uint32_t(std::min<uint64_t>(kEvalBatch, count - first));
    const int32_t* batch_labels = load_labels(labels, nullptr, first, batch);
    forward(load_rows(inputs, nullptr, first, batch));
    const LossResult part =
        softmax_cross_entropy(act_.back().data(), batch_labels, classes(), batch, padded_batch(batch), nullptr);
    total.loss_sum += part.loss_sum;
    total.correct += part.correct;
  }
  return total;
}

void Network::predict(const float* inputs, uint64_t count, float* logits) {
  for (uint64_t first = 0; first < count; first += kEvalBatch) {
    const uint32_t batch = uint32_t(std::min<uint64_t>(kEvalBatch, count - first));
    const uint32_t stride = load_rows(inputs, nullptr, first, batch);
    forward(stride);
    const float* y = act_.back().data();
    for (uint32_t b = 0; b < batch; ++b)
      for (uint32_t c = 0; c < classes(); ++c) logits[(first + b) * classes() + c] = y[size_t(c) * stride + b];
  }
}

std::string Network::check() const {
  uint64_t active = 0, budget = 0;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const std::string problem = layers_[l].check();
    if (!problem.empty()) return problem;
    if (!spec_.global_budget && layers_[l].active() != spec_.budgets[l])
      return "layer " + std::to_string(l) + ": " + std::to_string(layers_[l].active()) + " active connections, budget " +
             std::to_string(spec_.budgets[l]);
    active += layers_[l].active();
    budget += spec_.budgets[l];
  }
  if (active != budget)
    return std::to_string(active) + " active connections in the network, global budget " + std::to_string(budget);
  return "";
}

}  // namespace deepr
