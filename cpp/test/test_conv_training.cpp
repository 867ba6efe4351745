// Convolutional networks trained through the generic split path: the loss gradient against finite
// differences, the strict bound after every step of hundreds with rewiring (per-store and global
// budgets, conv and linear stores sharing one), and the same bits for any thread count.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "central_difference.hpp"
#include "check.hpp"
#include "conv_specs.hpp"
#include "counter_uniform.hpp"
#include "network.hpp"
#include "thread_pool.hpp"

using namespace deepr;
using deepr_test::mix;
using deepr_test::uniform;

namespace {

struct DataSet {
  std::vector<float> inputs;  // row-major: samples x (channels x side x side)
  std::vector<int32_t> labels;
};

// Images of one channel: noise, plus for class c a bright 3 x 3 square whose place depends on c
// (shifted by a pixel at random), so a convolution followed by pooling can tell the classes apart.
DataSet images(uint32_t samples, uint32_t side, uint32_t classes) {
  DataSet d{std::vector<float>(size_t(samples) * side * side), std::vector<int32_t>(samples)};
  for (uint32_t s = 0; s < samples; ++s) {
    const uint32_t c = uint32_t(mix(s) % classes);
    d.labels[s] = int32_t(c);
    float* image = d.inputs.data() + size_t(s) * side * side;
    for (uint32_t i = 0; i < side * side; ++i) image[i] = 0.3f * uniform(1000 + uint64_t(s) * side * side + i);
    const uint32_t span = side - 4, y0 = (c * 5 + uint32_t(mix(s + 7) % 2)) % span, x0 = (c * 3 + uint32_t(mix(s + 9) % 2)) % span;
    for (uint32_t y = 0; y < 3; ++y)
      for (uint32_t x = 0; x < 3; ++x) image[(y0 + y) * side + x0 + x] += 1.0f;
  }
  return d;
}

std::vector<uint32_t> rows_of(uint32_t step, uint32_t batch, uint32_t samples) {
  std::vector<uint32_t> rows(batch);
  for (uint32_t b = 0; b < batch; ++b) rows[b] = uint32_t((uint64_t(step) * batch + b * 7) % samples);
  return rows;
}

// sparse_conv2d -> relu -> max_pool2d -> sparse_linear -> softmax_cross_entropy on side x side images.
NetworkSpec small_cnn(uint32_t side, uint32_t classes, uint64_t conv_budget, uint64_t linear_budget, const char* budget,
                      uint64_t seed) {
  const ConvGeometry conv{1, side, side, 4, 3, 3, 1, 1};
  const uint32_t pooled = 4 * (side / 2) * (side / 2);
  NetworkSpec spec;
  spec.seed = seed;
  spec.layers = {deepr_test::sparse_conv_spec(conv, conv_budget, true),
                 {"relu", {}, {}},
                 deepr_test::max_pool_spec(4, side, side, 2, 2),
                 {"sparse_linear", {{"inputs", pooled}, {"outputs", classes}, {"budget", double(linear_budget)}}, {{"bias", true}}},
                 {"softmax_cross_entropy", {}, {}}};
  spec.rule.budget = budget;
  return spec;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

bool same_states(const StateArrays& a, const StateArrays& b) {
  if (a.size() != b.size()) return false;
  for (size_t s = 0; s < a.size(); ++s)
    if (a[s].name != b[s].name || !same_bits(a[s].values, b[s].values)) return false;
  return true;
}

// Every store of the two networks, bit for bit, and their step counters.
bool identical(const Network& a, const Network& b) {
  if (a.step() != b.step() || a.layers().size() != b.layers().size()) return false;
  for (size_t i = 0; i < a.layers().size(); ++i) {
    const std::vector<StoreRef> x = a.layers()[i]->stores(), y = b.layers()[i]->stores();
    if (x.size() != y.size()) return false;
    for (size_t s = 0; s < x.size(); ++s) {
      if (x[s].sparse) {
        const SparseStore &p = *x[s].sparse, &q = *y[s].sparse;
        if (!same_bits(p.row_start, q.row_start) || !same_bits(p.source, q.source) || !same_bits(p.theta, q.theta) ||
            !same_states(p.states, q.states))
          return false;
      } else if (!same_bits(x[s].dense->value, y[s].dense->value) || !same_states(x[s].dense->states, y[s].dense->states)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

TEST(conv_net_gradients_match_finite_differences) {
  // Gradients as the exchange hook sees them (lr = 0: the step changes nothing), against central
  // differences of the batch mean loss in each conv weight theta and bias. Biases away from 0, so
  // that no unit sits exactly on a kink of the relu (an output that sees only padding would).
  const uint32_t side = 6, classes = 3, batch = 8;
  const DataSet data = images(batch, side, classes);
  Network net(small_cnn(side, classes, 20, 40, "layer", 3));
  const std::vector<StoreRef> stores = net.layers()[0]->stores();
  for (uint32_t oc = 0; oc < 4; ++oc) stores[1].dense->value[oc] = 0.1f * float(oc) - 0.15f;
  std::vector<LayerGradients> seen;
  net.set_gradient_exchange([&](std::vector<LayerGradients>& g, BatchLoss&) { seen = g; });
  std::vector<uint32_t> rows(batch);
  for (uint32_t b = 0; b < batch; ++b) rows[b] = b;
  StepStats stats;
  net.train_step(data.inputs.data(), data.labels.data(), rows.data(), batch, StepHyper{0.0f, 0.0f, 0.0f, 0.0f}, stats);
  CHECK(seen.size() == 5 && seen[0].stores.size() == 2);
  if (seen.size() != 5 || seen[0].stores.size() != 2) return;
  const auto loss = [&] { return net.evaluate(data.inputs.data(), data.labels.data(), batch).loss_sum / batch; };
  const double eps = 1e-4;  // small enough to cross no kink, large enough for float32's rounding
  int compared = 0, wrong = 0;
  double largest = 0;
  for (size_t s = 0; s < 2; ++s) {
    std::vector<float>& values = stores[s].sparse ? stores[s].sparse->theta : stores[s].dense->value;
    for (size_t k = 0; k < values.size(); ++k) {
      const double numeric = deepr_test::central_difference(values[k], eps, loss), analytic = seen[0].stores[s][k];
      largest = std::max(largest, std::abs(numeric));
      ++compared;
      if (std::abs(numeric - analytic) > 3e-4 + 1e-2 * std::abs(numeric)) {
        ++wrong;
        deepr_test::fail(__FILE__, __LINE__, std::string(stores[s].name) + " " + std::to_string(k) + ": finite difference " +
                                                 std::to_string(numeric) + ", gradient " + std::to_string(analytic));
      }
    }
  }
  CHECK(compared == 20 + 4 && wrong == 0);
  CHECK(largest > 1e-2);  // gradients far from zero, so the tolerance says something
}

TEST(conv_net_keeps_the_strict_bound_while_it_learns) {
  // Hundreds of steps with enough l1 pull and noise that connections die and regrow in most of
  // them; check() after every step; the loss falls well below its start.
  const uint32_t side = 12, classes = 4, batch = 20, samples = 400, steps = 400;
  const DataSet data = images(samples, side, classes);
  for (const char* budget : {"layer", "global"}) {
    Network net(small_cnn(side, classes, 14, 60, budget, 5));
    const StepHyper hyper{0.05f, 0.02f, 0.003f, 0.0f};
    StepStats stats;
    double first = 0, last = 0;
    uint64_t rewired_conv = 0, rewired_linear = 0, wrong = 0;
    for (uint32_t step = 0; step < steps; ++step) {
      const std::vector<uint32_t> rows = rows_of(step, batch, samples);
      net.train_step(data.inputs.data(), data.labels.data(), rows.data(), batch, hyper, stats);
      rewired_conv += stats.rewired[0];
      rewired_linear += stats.rewired[1];
      const std::string problem = net.check();
      if (!problem.empty() && wrong++ == 0) deepr_test::fail(__FILE__, __LINE__, std::string(budget) + ": " + problem);
      if (step < 40) first += stats.loss.loss_sum;
      if (step >= steps - 40) last += stats.loss.loss_sum;
    }
    CHECK(wrong == 0);
    CHECK(rewired_conv > 20 && rewired_linear > 20);
    CHECK(last < 0.5 * first);
    // The global budget moved connections between the conv and the linear store; the per-store one did not.
    const uint64_t conv_active = net.sparse_stores()[0]->active();
    CHECK(std::string(budget) == "global" ? conv_active + net.sparse_stores()[1]->active() == 74 : conv_active == 14);
  }
}

TEST(conv_net_results_are_bit_identical_for_any_thread_count) {
  // Layers large enough that the forward pass and the first layer's backward pass split their
  // output channels over the pool (conv_kernels.cpp: over_channels); every kind once.
  const uint32_t side = 28, classes = 10, batch = 32, samples = 96, steps = 6;
  const DataSet data = images(samples, side, classes);
  NetworkSpec spec;
  spec.seed = 9;
  spec.layers = {deepr_test::sparse_conv_spec({1, 28, 28, 16, 5, 5, 1, 0}, 200, true),
                 {"relu", {}, {}},
                 deepr_test::max_pool_spec(16, 24, 24, 2, 2),
                 deepr_test::sparse_conv_spec({16, 12, 12, 8, 3, 3, 1, 1}, 300, false),
                 {"relu", {}, {}},
                 deepr_test::dense_conv_spec({8, 12, 12, 8, 3, 3, 2, 1}, true),
                 {"relu", {}, {}},
                 {"sparse_linear", {{"inputs", 8 * 6 * 6}, {"outputs", classes}, {"budget", 500}}, {{"bias", false}}},
                 {"softmax_cross_entropy", {}, {}}};
  spec.rule.budget = "global";
  spec.rule.optimiser = "momentum";
  const StepHyper hyper{0.05f, 0.02f, 0.003f, 0.9f};
  const unsigned threads = ThreadPool::shared().size();
  std::vector<std::unique_ptr<Network>> nets;
  uint64_t rewired = 0;
  for (unsigned t : {1u, 2u, 3u}) {
    ThreadPool::shared().resize(t);
    nets.push_back(std::make_unique<Network>(spec));
    StepStats stats;
    for (uint32_t step = 0; step < steps; ++step) {
      const std::vector<uint32_t> rows = rows_of(step, batch, samples);
      nets.back()->train_step(data.inputs.data(), data.labels.data(), rows.data(), batch, hyper, stats);
      for (uint64_t r : stats.rewired) rewired += r;
    }
    CHECK(nets.back()->check().empty());
  }
  ThreadPool::shared().resize(threads);
  CHECK(identical(*nets[0], *nets[1]) && identical(*nets[0], *nets[2]));
  CHECK(rewired > 0);
}
