// dense_linear and the mean_squared_error head: built from a layer list, initialised from their own
// random streams, and the forward pass, the gradients and the SGD update against float64.
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "layers/dense_linear.hpp"
#include "layers/mean_squared_error.hpp"
#include "layers/sparse_linear.hpp"
#include "network.hpp"
#include "reference_random.hpp"
#include "refusal.hpp"
#include "thread_pool.hpp"

using namespace deepr;
using deepr_test::refusal;

namespace {

LayerSpec dense(uint32_t inputs, uint32_t outputs, bool bias) {
  return {"dense_linear", {{"inputs", inputs}, {"outputs", outputs}}, {{"bias", bias}}};
}

// dense_linear (bias) -> relu -> dense_linear (bias) -> mean_squared_error, widths `sizes`.
NetworkSpec regression_spec(const std::vector<uint32_t>& sizes, uint64_t seed, const std::string& optimiser = "sgd") {
  NetworkSpec spec;
  spec.seed = seed;
  spec.layers = {dense(sizes[0], sizes[1], true), {"relu", {}, {}}, dense(sizes[1], sizes[2], true),
                 {"mean_squared_error", {}, {}}};
  spec.rule.optimiser = optimiser;
  return spec;
}


// Inputs and targets from fixed smooth functions, samples x width, row-major.
std::vector<float> table(uint32_t samples, uint32_t width, double phase) {
  std::vector<float> v(size_t(samples) * width);
  for (size_t n = 0; n < v.size(); ++n) v[n] = float(std::sin(phase + 0.37 * double(n)) + 0.25 * std::cos(1.7 * double(n)));
  return v;
}

struct Float64Pass {
  std::vector<std::vector<double>> outputs;      // [sample][output]
  std::vector<std::vector<double>> grad_weight;  // [layer][i * n_out + j]
  std::vector<std::vector<double>> grad_bias;    // [layer][j]
  double loss_sum = 0;                           // sum over samples of sum_j (y - t)^2 / 2
};

// The two dense layers of `net` in float64, sample by sample: the outputs, and the gradients of
// the batch mean loss.
Float64Pass float64_pass(Network& net, const std::vector<float>& x, const std::vector<float>& t,
                         const std::vector<uint32_t>& rows) {
  DenseLinear* layer[2] = {dynamic_cast<DenseLinear*>(net.layers()[0].get()), dynamic_cast<DenseLinear*>(net.layers()[2].get())};
  Float64Pass r;
  for (int l = 0; l < 2; ++l) {
    r.grad_weight.emplace_back(layer[l]->weight().value.size(), 0.0);
    r.grad_bias.emplace_back(layer[l]->outputs(), 0.0);
  }
  const double batch = double(rows.size());
  for (uint32_t row : rows) {
    std::vector<std::vector<double>> a(3);
    a[0].assign(x.begin() + size_t(row) * layer[0]->inputs(), x.begin() + size_t(row + 1) * layer[0]->inputs());
    for (int l = 0; l < 2; ++l) {
      const uint32_t n_in = layer[l]->inputs(), n_out = layer[l]->outputs();
      a[l + 1].assign(n_out, 0.0);
      for (uint32_t j = 0; j < n_out; ++j) {
        double z = layer[l]->bias()->value[j];
        for (uint32_t i = 0; i < n_in; ++i) z += double(layer[l]->weight().value[size_t(i) * n_out + j]) * a[l][i];
        a[l + 1][j] = l == 0 ? std::max(z, 0.0) : z;
      }
    }
    r.outputs.push_back(a[2]);
    std::vector<double> dz(a[2].size());
    for (size_t j = 0; j < dz.size(); ++j) {
      const double e = a[2][j] - t[size_t(row) * dz.size() + j];
      r.loss_sum += e * e / 2;
      dz[j] = e / batch;
    }
    for (int l = 1; l >= 0; --l) {
      const uint32_t n_in = layer[l]->inputs(), n_out = layer[l]->outputs();
      std::vector<double> dx(n_in, 0.0);
      for (uint32_t j = 0; j < n_out; ++j) {
        r.grad_bias[l][j] += dz[j];
        for (uint32_t i = 0; i < n_in; ++i) {
          r.grad_weight[l][size_t(i) * n_out + j] += a[l][i] * dz[j];
          dx[i] += double(layer[l]->weight().value[size_t(i) * n_out + j]) * dz[j];
        }
      }
      for (uint32_t i = 0; i < n_in; ++i) dx[i] = a[l][i] > 0 ? dx[i] : 0.0;  // through the relu
      dz.swap(dx);
    }
  }
  return r;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST(dense_linear_and_mean_squared_error_are_built_from_a_layer_list) {
  Network net(regression_spec({13, 11, 3}, 4));
  CHECK(net.layers().size() == 4 && net.input_size() == 13 && net.classes() == 3);
  CHECK(net.targets() == TargetKind::kValues);
  CHECK(net.sparse_stores().empty());
  CHECK(net.layers()[0]->stores().size() == 2 && net.layers()[0]->stores()[0].dense);
  CHECK(net.layers()[0]->stores()[0].dense->value.size() == 13 * 11);
  CHECK(net.check().empty());

  NetworkSpec spec = regression_spec({13, 11, 3}, 4);
  spec.layers[2].numbers["inputs"] = 12;
  CHECK(refusal(spec) == "layer 2 (dense_linear): inputs is 12, but the layer below gives 11");
  spec = regression_spec({13, 11, 3}, 4);
  spec.layers[0].booleans.clear();
  CHECK(refusal(spec) == "layer 0 (dense_linear): bias (a boolean) is missing");
  spec = regression_spec({13, 11, 3}, 4);
  spec.layers[0].numbers["budget"] = 5;
  CHECK(refusal(spec) == "layer 0 (dense_linear): budget is not a field of this kind");
  spec.layers = {dense(65536, 65536, false), {"mean_squared_error", {}, {}}};
  CHECK(refusal(spec).find("inputs x outputs is 4294967296, more than the 2147483647 values") != std::string::npos);
  spec.layers = {dense(4, 3, false), {"mean_squared_error", {}, {}}, {"relu", {}, {}}};
  CHECK(refusal(spec) == "layer 1 (mean_squared_error) is a loss head but not the last layer");
}

TEST(dense_weights_come_from_their_own_init_stream_and_leave_the_sparse_streams_alone) {
  const uint64_t seed = 21;
  // Two dense weight stores (ids 0 and 1 of the dense init stream) around a sparse one (id 0).
  NetworkSpec spec;
  spec.seed = seed;
  spec.layers = {dense(6, 10, false), {"sparse_linear", {{"inputs", 10}, {"outputs", 8}, {"budget", 30}}, {{"bias", false}}},
                 dense(8, 5, true), {"mean_squared_error", {}, {}}};
  Network net(spec);
  for (int d = 0; d < 2; ++d) {
    const DenseLinear& layer = *dynamic_cast<DenseLinear*>(net.layers()[d == 0 ? 0 : 2].get());
    const deepr_reference::Stream stream{seed, 0, uint32_t(d), deepr_reference::kDenseInit};
    for (size_t n = 0; n < layer.weight().value.size(); ++n) {
      const double expected = deepr_reference::normal(stream, n) / std::sqrt(double(layer.inputs()));
      CHECK_NEAR(layer.weight().value[n], expected, 1e-6 * (1 + std::abs(expected)));
    }
  }
  CHECK(dynamic_cast<DenseLinear*>(net.layers()[2].get())->bias()->value == std::vector<float>(5, 0.0f));
  // The sparse store is the network's sparse store 0, drawn exactly as in a network without dense layers.
  NetworkSpec alone;
  alone.seed = seed;
  alone.layers = {spec.layers[1], {"mean_squared_error", {}, {}}};
  Network reference(alone);
  const SparseStore &a = *net.sparse_stores().at(0), &b = *reference.sparse_stores().at(0);
  CHECK(a.id == 0 && a.source == b.source && a.row_start == b.row_start && same_bits(a.theta, b.theta));
}

TEST(mean_squared_error_loss_and_gradient_match_float64) {
  const uint32_t outputs = 3, batch = 21, stride = 32;
  std::vector<float> y(outputs * stride), t(outputs * stride, 0.0f), grad(outputs * stride, 7.0f);
  for (uint32_t j = 0; j < outputs; ++j)
    for (uint32_t b = 0; b < stride; ++b) {
      y[j * stride + b] = float(std::sin(0.3 * b + j)) * 2.0f;
      if (b < batch) t[j * stride + b] = float(std::cos(0.7 * b - j));
    }
  const MeanSquaredError head(outputs);
  const LossResult r = head.loss(y.data(), BatchTargets{nullptr, t.data()}, batch, stride, grad.data());
  double expected = 0;
  for (uint32_t j = 0; j < outputs; ++j)
    for (uint32_t b = 0; b < stride; ++b) {
      const double e = double(y[j * stride + b]) - double(t[j * stride + b]);
      if (b < batch) expected += e * e / 2;
      CHECK_NEAR(grad[j * stride + b], b < batch ? e / batch : 0.0, 1e-7);  // the padding samples get zero
    }
  CHECK_NEAR(r.loss_sum, expected, 1e-12 * expected);
  CHECK(r.correct == 0);
  CHECK(expected > 1.0);
}

TEST(dense_linear_forward_gradients_and_update_match_float64) {
  const std::vector<uint32_t> sizes{13, 11, 3};  // not multiples of the 8-wide blocks: remainders run too
  const std::vector<float> x = table(90, sizes[0], 0.1), t = table(90, sizes[2], 2.0);
  for (uint32_t batch : {5u, 70u}) {
    Network net(regression_spec(sizes, 9));
    for (size_t l : {0u, 2u}) {  // nonzero biases, so the forward pass uses them
      DenseStore& bias = *dynamic_cast<DenseLinear*>(net.layers()[l].get())->bias();
      for (size_t j = 0; j < bias.value.size(); ++j) bias.value[j] = 0.1f * float(j % 4) - 0.15f;
    }
    std::vector<uint32_t> rows(batch);
    for (uint32_t b = 0; b < batch; ++b) rows[b] = (b * 7 + 3) % 90;
    const Float64Pass expected = float64_pass(net, x, t, rows);

    std::vector<float> predicted(size_t(90) * sizes[2]);
    net.predict(x.data(), 90, predicted.data());
    for (uint32_t b = 0; b < batch; ++b)
      for (uint32_t j = 0; j < sizes[2]; ++j)
        CHECK_NEAR(predicted[size_t(rows[b]) * sizes[2] + j], expected.outputs[b][j], 1e-5);

    std::vector<std::vector<float>> weight_before, bias_before;
    for (size_t l : {0u, 2u}) {
      weight_before.push_back(dynamic_cast<DenseLinear*>(net.layers()[l].get())->weight().value);
      bias_before.push_back(dynamic_cast<DenseLinear*>(net.layers()[l].get())->bias()->value);
    }
    // The prior's pull and noise are on: a dense store takes the optimiser's step only.
    const float lr = 0.05f;
    StepStats stats;
    net.train_step(x.data(), SampleTargets{nullptr, t.data()}, rows.data(), batch, StepHyper{lr, 0.3f, 0.2f, 0.0f}, stats);
    CHECK_NEAR(stats.loss.loss_sum, expected.loss_sum, 1e-5 * expected.loss_sum);
    double largest = 0;
    for (int l = 0; l < 2; ++l) {
      const DenseLinear& layer = *dynamic_cast<DenseLinear*>(net.layers()[l == 0 ? 0 : 2].get());
      for (size_t n = 0; n < layer.weight().value.size(); ++n) {
        const double g = expected.grad_weight[l][n];
        CHECK_NEAR(layer.weight().value[n], weight_before[l][n] - lr * g, 2e-7 * (1 + std::abs(weight_before[l][n])));
        largest = std::max(largest, std::abs(g));
      }
      for (size_t j = 0; j < layer.outputs(); ++j)
        CHECK_NEAR(layer.bias()->value[j], bias_before[l][j] - lr * expected.grad_bias[l][j], 2e-7);
    }
    CHECK(largest > 1e-2);  // the gradients are far from zero, so the tolerance says something
  }
}

TEST(dense_linear_gives_the_same_bits_for_any_thread_count) {
  // Wide enough that the forward and backward passes split over the pool.
  const std::vector<uint32_t> sizes{300, 200, 10};
  const std::vector<float> x = table(64, sizes[0], 0.5), t = table(64, sizes[2], 1.0);
  std::vector<uint32_t> rows(64);
  for (uint32_t b = 0; b < 64; ++b) rows[b] = (b * 5) % 64;
  const unsigned threads = ThreadPool::shared().size();
  std::vector<std::vector<float>> weights;
  for (unsigned n : {1u, 4u}) {
    ThreadPool::shared().resize(n);
    Network net(regression_spec(sizes, 3, "adam"));
    StepStats stats;
    for (int step = 0; step < 3; ++step)
      net.train_step(x.data(), SampleTargets{nullptr, t.data()}, rows.data(), 64, StepHyper{1e-3f, 0.0f, 0.0f, 0.0f}, stats);
    weights.push_back(dynamic_cast<DenseLinear*>(net.layers()[0].get())->weight().value);
    weights.push_back(dynamic_cast<DenseLinear*>(net.layers()[2].get())->weight().value);
  }
  ThreadPool::shared().resize(threads);
  CHECK(same_bits(weights[0], weights[2]) && same_bits(weights[1], weights[3]));
}

TEST(a_network_refuses_targets_its_head_does_not_take) {
  Network net(regression_spec({4, 3, 2}, 1));
  const std::vector<float> x(4, 0.5f);
  const std::vector<int32_t> labels{0};
  const std::vector<uint32_t> rows{0};
  StepStats stats;
  std::string message;
  try {
    net.train_step(x.data(), labels.data(), rows.data(), 1, StepHyper{}, stats);
  } catch (const std::invalid_argument& e) {
    message = e.what();
  }
  CHECK(message == "the loss head (mean_squared_error) takes target values");
  CHECK(net.step() == 0);
}
