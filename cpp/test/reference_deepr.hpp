// DEEP R (Algorithm 1 with momentum, biases and a per-layer or global budget) written plainly in
// float64 on dense matrices, from the documents rather than from the core: the update rule of
// README.md ("The algorithm as implemented") and the random streams, initialisation and regrowth
// procedure of ARCHITECTURE.md, with the random numbers of reference_random.hpp. A position
// p = out * n_in + in indexes every per-connection vector; dormant positions keep a stale theta
// that nothing reads.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "reference_random.hpp"

namespace deepr_reference {

enum class Budget { kPerLayer, kGlobalByBudget, kGlobalByDormant };

struct Config {
  std::vector<uint32_t> sizes;    // input first
  std::vector<uint64_t> budgets;  // K_l
  bool bias = false;
  bool momentum = false;
  Budget budget = Budget::kPerLayer;
  uint64_t seed = 0;
};

struct Hyper {
  double lr, alpha, noise_std, momentum;
};

struct Layer {
  uint32_t n_in, n_out;
  std::vector<bool> active;
  std::vector<double> theta, velocity, sign;
  std::vector<double> bias, bias_velocity;

  uint64_t positions() const { return uint64_t(n_in) * n_out; }
  uint64_t active_count() const { return uint64_t(std::count(active.begin(), active.end(), true)); }
  double weight(uint64_t p) const { return active[p] ? sign[p] * theta[p] : 0.0; }
};

// `count` dormant positions of `layer` chosen with the uniform integers of `stream`, by rejection
// or, in a layer more than half full, by a partial shuffle of the listed dormant positions.
inline std::vector<uint64_t> choose_dormant(const Layer& layer, uint64_t count, const Stream& stream) {
  const uint64_t positions = layer.positions(), survivors = layer.active_count();
  UniformSequence uniform(stream);
  std::vector<uint64_t> chosen;
  if (survivors + count <= positions / 2) {
    std::vector<bool> taken = layer.active;
    while (chosen.size() < count) {
      const uint64_t p = uniform.below(positions);
      if (taken[p]) continue;
      taken[p] = true;
      chosen.push_back(p);
    }
    return chosen;
  }
  std::vector<uint64_t> dormant;
  for (uint64_t p = 0; p < positions; ++p)
    if (!layer.active[p]) dormant.push_back(p);
  if (count > dormant.size()) throw std::logic_error("reference: more regrowth than dormant positions");
  for (uint64_t n = 0; n < count; ++n) std::swap(dormant[n], dormant[n + uniform.below(dormant.size() - n)]);
  chosen.assign(dormant.begin(), dormant.begin() + std::ptrdiff_t(count));
  return chosen;
}

class ReferenceDeepR {
 public:
  explicit ReferenceDeepR(Config config) : config_(std::move(config)) {
    for (uint32_t l = 0; l + 1 < config_.sizes.size(); ++l) {
      Layer layer{config_.sizes[l], config_.sizes[l + 1], {}, {}, {}, {}, {}, {}};
      const uint64_t positions = layer.positions();
      layer.active.assign(positions, false);
      layer.theta.assign(positions, 0.0);
      layer.velocity.assign(positions, 0.0);
      layer.sign.resize(positions);
      for (uint64_t p = 0; p < positions; ++p) layer.sign[p] = sign(config_.seed, l, p);
      if (config_.bias) {
        layer.bias.assign(layer.n_out, 0.0);
        layer.bias_velocity.assign(layer.n_out, 0.0);
      }
      std::vector<uint64_t> chosen = choose_dormant(layer, config_.budgets[l], Stream{config_.seed, 0, l, kInitPositions});
      std::sort(chosen.begin(), chosen.end());
      const Stream magnitudes{config_.seed, 0, l, kInitMagnitudes};
      for (uint64_t j = 0; j < chosen.size(); ++j) {
        layer.active[chosen[j]] = true;
        layer.theta[chosen[j]] = std::abs(normal(magnitudes, j)) / std::sqrt(double(layer.n_in));
      }
      layers_.push_back(std::move(layer));
    }
  }

  std::vector<Layer>& layers() { return layers_; }
  const std::vector<Layer>& layers() const { return layers_; }

  // The first part of a step: forward and backward through the dense weights, then the update of
  // every active connection; those whose theta ends below zero go dormant. `inputs` holds `batch`
  // samples, row-major. Returns the summed softmax cross-entropy of the batch.
  double update(const std::vector<double>& inputs, const std::vector<int32_t>& labels, uint32_t batch, const Hyper& h) {
    const size_t n = layers_.size();
    // act[l][i * batch + b]: unit i of the input of layer l (act[n]: the logits), for sample b.
    std::vector<std::vector<double>> act(n + 1);
    act[0].resize(size_t(config_.sizes[0]) * batch);
    for (uint32_t b = 0; b < batch; ++b)
      for (uint32_t i = 0; i < config_.sizes[0]; ++i) act[0][size_t(i) * batch + b] = inputs[size_t(b) * config_.sizes[0] + i];
    for (size_t l = 0; l < n; ++l) {
      const Layer& layer = layers_[l];
      act[l + 1].assign(size_t(layer.n_out) * batch, 0.0);
      for (uint32_t out = 0; out < layer.n_out; ++out)
        for (uint32_t b = 0; b < batch; ++b) {
          double z = layer.bias.empty() ? 0.0 : layer.bias[out];
          for (uint32_t in = 0; in < layer.n_in; ++in)
            z += layer.weight(uint64_t(out) * layer.n_in + in) * act[l][size_t(in) * batch + b];
          act[l + 1][size_t(out) * batch + b] = l + 1 < n ? std::max(z, 0.0) : z;
        }
    }

    // E = the batch mean of -log softmax(logits)[label]; dz = dE/dlogits.
    const uint32_t classes = config_.sizes.back();
    std::vector<double> dz(size_t(classes) * batch);
    double loss_sum = 0;
    for (uint32_t b = 0; b < batch; ++b) {
      double top = -INFINITY, sum = 0;
      for (uint32_t c = 0; c < classes; ++c) top = std::max(top, act[n][size_t(c) * batch + b]);
      for (uint32_t c = 0; c < classes; ++c) sum += std::exp(act[n][size_t(c) * batch + b] - top);
      loss_sum += std::log(sum) - (act[n][size_t(labels[b]) * batch + b] - top);
      for (uint32_t c = 0; c < classes; ++c)
        dz[size_t(c) * batch + b] = (std::exp(act[n][size_t(c) * batch + b] - top) / sum - (int32_t(c) == labels[b])) / batch;
    }

    // Gradients of every layer with the weights before the step, then the updates.
    std::vector<std::vector<double>> grad_w(n), grad_b(n);
    for (size_t l = n; l-- > 0;) {
      const Layer& layer = layers_[l];
      grad_w[l].assign(layer.positions(), 0.0);
      grad_b[l].assign(layer.n_out, 0.0);
      std::vector<double> dx(size_t(layer.n_in) * batch, 0.0);
      for (uint32_t out = 0; out < layer.n_out; ++out)
        for (uint32_t b = 0; b < batch; ++b) {
          const double d = dz[size_t(out) * batch + b];
          grad_b[l][out] += d;
          for (uint32_t in = 0; in < layer.n_in; ++in) {
            const uint64_t p = uint64_t(out) * layer.n_in + in;
            grad_w[l][p] += d * act[l][size_t(in) * batch + b];
            dx[size_t(in) * batch + b] += layer.weight(p) * d;
          }
        }
      for (size_t k = 0; k < dx.size(); ++k) dx[k] = act[l][k] > 0.0 ? dx[k] : 0.0;  // through the ReLU
      dz.swap(dx);
    }

    active_at_start_.assign(n, 0);
    updated_.assign(n, {});
    for (uint32_t l = 0; l < n; ++l) {
      Layer& layer = layers_[l];
      const Stream noise{config_.seed, step_, l, kNoise};
      uint64_t j = 0;  // rank of the connection among the active ones: its normal in the stream
      for (uint64_t p = 0; p < layer.positions(); ++p) {
        if (!layer.active[p]) continue;
        double step = layer.sign[p] * grad_w[l][p];  // dE/dtheta
        if (config_.momentum) step = layer.velocity[p] = h.momentum * layer.velocity[p] + step;
        const double nu = h.noise_std != 0.0 ? normal(noise, j) : 0.0;
        layer.theta[p] += -h.lr * step - h.lr * h.alpha + h.noise_std * nu;
        layer.active[p] = layer.theta[p] >= 0.0;
        updated_[l].push_back(p);
        ++j;
      }
      active_at_start_[l] = j;
      for (uint32_t out = 0; out < layer.bias.size(); ++out) {
        double step = grad_b[l][out];
        if (config_.momentum) step = layer.bias_velocity[out] = h.momentum * layer.bias_velocity[out] + step;
        layer.bias[out] -= h.lr * step;
      }
    }
    return loss_sum;
  }

  // The connections of layer l updated in the last step whose theta ended within eps of zero,
  // where float32 and float64 may disagree on whether they died.
  std::vector<uint64_t> near_zero(uint32_t l, double eps) const {
    std::vector<uint64_t> close;
    for (uint64_t p : updated_[l])
      if (std::abs(layers_[l].theta[p]) < eps) close.push_back(p);
    return close;
  }

  // Ends a step without DEEP R's regrowth, for a caller that changes the structure itself (soft-DEEP R).
  void end_step() { ++step_; }

  // The second part of a step: as many connections regrown as died (in each layer, or shared
  // between layers with a global budget). Returns the number regrown per layer.
  std::vector<uint64_t> regrow() {
    const size_t n = layers_.size();
    std::vector<uint64_t> survivors(n), regrown(n);
    uint64_t died = 0;
    for (size_t l = 0; l < n; ++l) {
      survivors[l] = layers_[l].active_count();
      died += regrown[l] = active_at_start_[l] - survivors[l];
    }
    if (config_.budget != Budget::kPerLayer && died > 0) {
      UniformSequence uniform(Stream{config_.seed, step_, 0, kRewireShare});
      std::vector<uint64_t> room(n), weight(n);
      for (size_t l = 0; l < n; ++l) {
        room[l] = layers_[l].positions() - survivors[l];
        regrown[l] = 0;
      }
      for (uint64_t d = 0; d < died; ++d) {
        uint64_t total = 0;
        for (size_t l = 0; l < n; ++l)
          total += weight[l] = room[l] == 0 ? 0 : config_.budget == Budget::kGlobalByBudget ? config_.budgets[l] : room[l];
        uint64_t u = uniform.below(total);
        size_t l = 0;
        for (; u >= weight[l]; ++l) u -= weight[l];
        ++regrown[l];
        --room[l];
      }
    }
    for (uint32_t l = 0; l < n; ++l) {
      if (regrown[l] == 0) continue;
      Layer& layer = layers_[l];
      for (uint64_t p : choose_dormant(layer, regrown[l], Stream{config_.seed, step_, l, kRewire})) {
        layer.active[p] = true;
        layer.theta[p] = 0.0;
        layer.velocity[p] = 0.0;
      }
    }
    ++step_;
    return regrown;
  }

 private:
  Config config_;
  std::vector<Layer> layers_;
  uint64_t step_ = 0;
  std::vector<uint64_t> active_at_start_;       // per layer, in the current step
  std::vector<std::vector<uint64_t>> updated_;  // per layer: the positions updated in the current step
};

}  // namespace deepr_reference
