// The training step against independent float64 computations: gradients through the whole
// network, and the DEEP R update term by term.
#include <cmath>
#include <map>
#include <vector>

#include "check.hpp"
#include "mlp.hpp"
#include "network.hpp"
#include "random.hpp"

using namespace deepr;
using deepr_test::MlpLayer;
using deepr_test::mlp_layers;

namespace {

using Dense = std::vector<std::vector<double>>;  // [in][out]

Dense dense_weights(const deepr_test::MlpLayer& layer) {
  Dense w(layer.n_in, std::vector<double>(layer.n_out, 0.0));
  for (uint32_t out = 0; out < layer.n_out; ++out)
    for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k)
      w[layer.source[k] & kIndexMask][out] = (layer.source[k] & kSignBit) ? -double(layer.theta[k]) : double(layer.theta[k]);
  return w;
}

std::map<uint64_t, float> thetas_by_position(const deepr_test::MlpLayer& layer) {
  std::map<uint64_t, float> m;
  for (uint32_t out = 0; out < layer.n_out; ++out)
    for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k) m[layer.weight.position_of(k, out)] = layer.theta[k];
  return m;
}

// Dense float64 backprop of the batch-mean softmax cross-entropy: dE/dW and dE/db per layer.
void reference_gradients(const Network& net, const std::vector<std::vector<double>>& xs, const std::vector<int32_t>& labels,
                         std::vector<Dense>& grad_w, std::vector<std::vector<double>>& grad_b) {
  const std::vector<MlpLayer> layers = mlp_layers(net);
  const size_t n = layers.size(), batch = xs.size();
  grad_w.assign(n, {});
  grad_b.assign(n, {});
  for (size_t l = 0; l < n; ++l) {
    grad_w[l].assign(layers[l].n_in, std::vector<double>(layers[l].n_out, 0.0));
    grad_b[l].assign(layers[l].n_out, 0.0);
  }
  for (size_t b = 0; b < batch; ++b) {
    std::vector<std::vector<double>> a{xs[b]};
    for (size_t l = 0; l < n; ++l) {
      const Dense w = dense_weights(layers[l]);
      std::vector<double> z(layers[l].n_out, 0.0);
      for (uint32_t j = 0; j < layers[l].n_out; ++j) {
        z[j] = layers[l].bias.empty() ? 0.0 : layers[l].bias[j];
        for (uint32_t i = 0; i < layers[l].n_in; ++i) z[j] += a[l][i] * w[i][j];
        if (l + 1 < n) z[j] = std::max(z[j], 0.0);
      }
      a.push_back(z);
    }
    double top = a[n][0], sum = 0;
    for (double v : a[n]) top = std::max(top, v);
    for (double v : a[n]) sum += std::exp(v - top);
    std::vector<double> dz(a[n].size());
    for (size_t c = 0; c < dz.size(); ++c) dz[c] = (std::exp(a[n][c] - top) / sum - (int32_t(c) == labels[b])) / batch;
    for (size_t l = n; l-- > 0;) {
      const Dense w = dense_weights(layers[l]);
      std::vector<double> dx(layers[l].n_in, 0.0);
      for (uint32_t j = 0; j < layers[l].n_out; ++j) {
        grad_b[l][j] += dz[j];
        for (uint32_t i = 0; i < layers[l].n_in; ++i) {
          grad_w[l][i][j] += a[l][i] * dz[j];
          dx[i] += w[i][j] * dz[j];
        }
      }
      for (uint32_t i = 0; i < layers[l].n_in; ++i) dx[i] = a[l][i] > 0 ? dx[i] : 0.0;
      dz = dx;
    }
  }
}

}  // namespace

TEST(gradient_step_matches_float64_backprop) {
  const NetworkSpec spec = deepr_test::mlp_spec({7, 6, 5, 4}, {25, 18, 12}, true, false, false, GlobalShare::kByBudget, 11);
  Network net(spec);
  for (MlpLayer layer : mlp_layers(net))
    for (uint32_t j = 0; j < layer.n_out; ++j) layer.bias[j] = 0.05f * float(j % 3) - 0.02f;
  const uint32_t batch = 5;
  std::vector<float> inputs(batch * 7);
  std::vector<std::vector<double>> xs(batch, std::vector<double>(7));
  for (uint32_t b = 0; b < batch; ++b)
    for (uint32_t i = 0; i < 7; ++i) inputs[b * 7 + i] = float(xs[b][i] = std::sin(1.0 + b * 7 + i * 1.3));
  const std::vector<int32_t> labels{0, 3, 1, 2, 3};
  const std::vector<uint32_t> rows{0, 1, 2, 3, 4};

  std::vector<Dense> gw;
  std::vector<std::vector<double>> gb;
  reference_gradients(net, xs, labels, gw, gb);
  std::vector<std::map<uint64_t, float>> before;
  std::vector<std::vector<float>> bias_before;
  for (const MlpLayer& layer : mlp_layers(net)) {
    before.push_back(thetas_by_position(layer));
    bias_before.push_back(layer.bias);
  }

  const float lr = 0.01f;
  StepStats stats;
  net.train_step(inputs.data(), labels.data(), rows.data(), batch, StepHyper{lr, 0.0f, 0.0f, 0.0f}, stats);
  CHECK(net.check().empty());
  int compared = 0;
  for (size_t l = 0; l < mlp_layers(net).size(); ++l) {
    const MlpLayer layer = mlp_layers(net)[l];
    const std::map<uint64_t, float> after = thetas_by_position(layer);
    for (const auto& [p, theta] : before[l]) {
      const uint32_t i = uint32_t(p % layer.n_in), j = uint32_t(p / layer.n_in);
      const double sign = position_is_negative(spec.seed, uint32_t(l), p) ? -1.0 : 1.0;
      const double expected = theta - lr * sign * gw[l][i][j];
      if (expected > 1e-6) {
        CHECK(after.count(p) == 1);
        if (after.count(p)) CHECK_NEAR(after.at(p), expected, 2e-7);
        ++compared;
      } else if (expected < -1e-6) {
        CHECK(after.count(p) == 0 || after.at(p) == 0.0f);  // went dormant (or was redrawn at 0)
      }
    }
    for (uint32_t j = 0; j < layer.n_out; ++j) CHECK_NEAR(layer.bias[j], bias_before[l][j] - lr * gb[l][j], 2e-7);
  }
  CHECK(compared > 40);
}

TEST(update_applies_each_term_of_algorithm_1) {
  // One full 2x2 layer, so every position is a slot and slot k is position k.
  const NetworkSpec spec = deepr_test::mlp_spec({2, 2}, {4}, false, true, false, GlobalShare::kByBudget, 5);
  Network net(spec);
  MlpLayer layer = mlp_layers(net)[0];
  const std::vector<float> theta0 = layer.theta;
  const std::vector<int32_t> label{0};
  const std::vector<uint32_t> row{0};
  StepStats stats;

  // Zero input: no gradient, so theta moves by exactly -eta*alpha + noise_std * nu_k.
  const std::vector<float> zero{0.0f, 0.0f};
  const StepHyper pull_and_noise{0.1f, 0.001f, 0.002f, 0.0f};
  net.train_step(zero.data(), label.data(), row.data(), 1, pull_and_noise, stats);
  std::vector<float> nu(4);
  fill_normals(RngStream{spec.seed, 0, 0, Purpose::kNoise}, 0, 4, nu.data());
  for (int k = 0; k < 4; ++k) CHECK_NEAR(layer.theta[k], theta0[k] - 0.1 * 0.001 + 0.002 * nu[k], 1e-7);

  // Input (1, 0): dE/dw_0j = softmax_j - onehot_j; theta_k -= eta * s_k * dE/dw_k, with momentum.
  const std::vector<float> x{1.0f, 0.0f};
  const float momentum = 0.9f, lr = 0.05f;
  std::vector<double> velocity(4, 0.0);
  for (int step = 0; step < 2; ++step) {
    const std::vector<float> theta = layer.theta;
    double w[4], z[2] = {0, 0};
    for (int k = 0; k < 4; ++k) {
      w[k] = (layer.source[k] & kSignBit) ? -double(theta[k]) : double(theta[k]);
      z[k / 2] += (k % 2 == 0 ? 1.0 : 0.0) * w[k];  // position k = out * 2 + in
    }
    const double top = std::max(z[0], z[1]), sum = std::exp(z[0] - top) + std::exp(z[1] - top);
    net.train_step(x.data(), label.data(), row.data(), 1, StepHyper{lr, 0.0f, 0.0f, momentum}, stats);
    for (int k = 0; k < 4; ++k) {
      const int out = k / 2, in = k % 2;
      const double grad_w = (in == 0 ? 1.0 : 0.0) * (std::exp(z[out] - top) / sum - (out == 0));
      const double grad_theta = (layer.source[k] & kSignBit) ? -grad_w : grad_w;
      velocity[k] = momentum * velocity[k] + grad_theta;
      CHECK_NEAR(layer.theta[k], theta[k] - lr * velocity[k], 1e-6);
    }
  }
  CHECK(net.check().empty());
}

TEST(non_finite_input_is_rejected_before_any_change) {
  // A full first layer, so the NaN input reaches the loss.
  const NetworkSpec spec = deepr_test::mlp_spec({3, 4, 2}, {12, 5}, false, false, false, GlobalShare::kByBudget, 1);
  Network net(spec);
  const std::vector<float> theta = mlp_layers(net)[0].theta;
  const std::vector<float> x{1.0f, NAN, 0.5f};
  const std::vector<int32_t> label{1};
  const std::vector<uint32_t> row{0};
  StepStats stats;
  bool threw = false;
  try {
    net.train_step(x.data(), label.data(), row.data(), 1, StepHyper{}, stats);
  } catch (const std::runtime_error&) {
    threw = true;
  }
  CHECK(threw);
  CHECK(mlp_layers(net)[0].theta == theta);
  CHECK(net.step() == 0);
}
