// sparse_lstm against a plain float64 dense LSTM written here (forward, and BPTT's input gradient and
// every per-connection and bias gradient), the loss gradient of a small LSTM network against finite
// differences, hundreds of training steps with rewiring under the strict bound, and the same bits
// for 1 and 2 threads.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "central_difference.hpp"
#include "check.hpp"
#include "layer_registry.hpp"
#include "layers/sparse_lstm.hpp"
#include "counter_uniform.hpp"
#include "network.hpp"
#include "refusal.hpp"
#include "simd.hpp"
#include "thread_pool.hpp"

using namespace deepr;
using deepr_test::refusal;
using deepr_test::mix;
using deepr_test::uniform;

namespace {

// A sparse store as a dense float64 matrix [n_out][n_in] of its weights sign * theta.
std::vector<double> dense_weights(const SparseStore& w) {
  std::vector<double> m(size_t(w.n_in) * w.n_out, 0.0);
  for (uint32_t out = 0; out < w.n_out; ++out)
    for (uint32_t k = w.row_start[out]; k < w.row_start[out + 1]; ++k)
      m[size_t(out) * w.n_in + (w.source[k] & kIndexMask)] = (w.source[k] & kSignBit) ? -w.theta[k] : w.theta[k];
  return m;
}

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// One sample through a dense float64 LSTM (the header's equations), and its backward pass.
struct DenseLstm {
  uint32_t steps, features, units;
  bool sequence;
  std::vector<double> wx, wh, b;  // [4 units][features], [4 units][units], [4 units]

  struct Gradients {
    std::vector<double> dx, dwx, dwh, db;
  };

  // Outputs (h of the last step or of every step) of input x[t * features + f]; with dy, adds the
  // gradients to g.
  std::vector<double> run(const std::vector<double>& x, const std::vector<double>* dy, Gradients* g) const {
    const uint32_t U = units, F = features;
    std::vector<std::vector<double>> gate(steps, std::vector<double>(4 * U)), c(steps + 1, std::vector<double>(U, 0.0)),
        h(steps + 1, std::vector<double>(U, 0.0));  // c[t + 1], h[t + 1] are step t's; c[0] = h[0] = 0
    for (uint32_t t = 0; t < steps; ++t)
      for (uint32_t j = 0; j < 4 * U; ++j) {
        double z = b[j];
        for (uint32_t f = 0; f < F; ++f) z += wx[j * F + f] * x[t * F + f];
        for (uint32_t u = 0; u < U; ++u) z += wh[j * U + u] * h[t][u];
        gate[t][j] = j / U == 2 ? std::tanh(z) : sigmoid(z);
        if (j + 1 == 4 * U)
          for (uint32_t u = 0; u < U; ++u) {
            c[t + 1][u] = gate[t][U + u] * c[t][u] + gate[t][u] * gate[t][2 * U + u];
            h[t + 1][u] = gate[t][3 * U + u] * std::tanh(c[t + 1][u]);
          }
      }
    std::vector<double> y;
    for (uint32_t t = sequence ? 0 : steps - 1; t < steps; ++t) y.insert(y.end(), h[t + 1].begin(), h[t + 1].end());
    if (!dy) return y;
    std::vector<double> dh(U, 0.0), dc(U, 0.0), dz(4 * U);
    for (uint32_t t = steps; t-- > 0;) {
      if (sequence) for (uint32_t u = 0; u < U; ++u) dh[u] += (*dy)[t * U + u];
      else if (t + 1 == steps) for (uint32_t u = 0; u < U; ++u) dh[u] += (*dy)[u];
      for (uint32_t u = 0; u < U; ++u) {
        const double i = gate[t][u], f = gate[t][U + u], gg = gate[t][2 * U + u], o = gate[t][3 * U + u];
        const double tc = std::tanh(c[t + 1][u]);
        const double dct = dc[u] + dh[u] * o * (1 - tc * tc);
        dz[u] = dct * gg * i * (1 - i);
        dz[U + u] = dct * c[t][u] * f * (1 - f);
        dz[2 * U + u] = dct * i * (1 - gg * gg);
        dz[3 * U + u] = dh[u] * tc * o * (1 - o);
        dc[u] = dct * f;
      }
      std::fill(dh.begin(), dh.end(), 0.0);
      for (uint32_t j = 0; j < 4 * U; ++j) {
        g->db[j] += dz[j];
        for (uint32_t f = 0; f < F; ++f) {
          g->dwx[j * F + f] += dz[j] * x[t * F + f];
          g->dx[t * F + f] += dz[j] * wx[j * F + f];
        }
        for (uint32_t u = 0; u < U; ++u) {
          g->dwh[j * U + u] += dz[j] * h[t][u];
          dh[u] += dz[j] * wh[j * U + u];
        }
      }
    }
    return y;
  }
};

struct Shape {
  uint32_t steps, features, units, batch;
  bool full, sequence;  // K = every position, else K = 1
};

std::string describe(const Shape& s) {
  return "T " + std::to_string(s.steps) + ", F " + std::to_string(s.features) + ", U " + std::to_string(s.units) +
         ", batch " + std::to_string(s.batch) + (s.full ? ", K all" : ", K 1") + (s.sequence ? ", every step" : ", last step");
}

// Whether |a - b| is within a float32 computation's error of the float64 value b.
bool close(double a, double b) { return std::abs(a - b) <= 2e-5 + 2e-4 * std::abs(b); }

void check_against_dense(const Shape& s, uint64_t seed) {
  const uint32_t U = s.units, F = s.features, T = s.steps;
  const uint64_t kx = s.full ? uint64_t(F) * 4 * U : 1, kh = s.full ? uint64_t(U) * 4 * U : 1;
  SparseLstm lstm(T, F, U, kx, kh, s.sequence, 0, seed);
  for (uint32_t j = 0; j < 4 * U; ++j) lstm.bias().value[j] = 0.5f * uniform(seed * 1000 + j);
  if (!s.full) {  // one connection is too little to see: make it count
    lstm.input_weight().theta[0] = 0.8f;
    lstm.recurrent_weight().theta[0] = 0.9f;
  }
  const DenseLstm ref{T, F, U, s.sequence, dense_weights(lstm.input_weight()), dense_weights(lstm.recurrent_weight()),
                      std::vector<double>(lstm.bias().value.begin(), lstm.bias().value.end())};

  const uint32_t stride = padded_batch(s.batch), inputs = T * F, outputs = lstm.outputs();
  std::vector<float> x(size_t(inputs) * stride, 0.0f), dy(size_t(outputs) * stride, 0.0f);
  for (uint32_t b = 0; b < s.batch; ++b) {
    for (uint32_t i = 0; i < inputs; ++i) x[size_t(i) * stride + b] = uniform(seed * 7 + i * 131 + b);
    for (uint32_t o = 0; o < outputs; ++o) dy[size_t(o) * stride + b] = uniform(seed * 11 + o * 137 + b + 99991);
  }
  std::vector<float> y(size_t(outputs) * stride), dx(size_t(inputs) * stride);
  lstm.forward(x.data(), y.data(), stride);
  LayerGradients grads;
  lstm.backward(x.data(), y.data(), dy.data(), dx.data(), stride, grads);

  DenseLstm::Gradients g{std::vector<double>(inputs), std::vector<double>(ref.wx.size()), std::vector<double>(ref.wh.size()),
                         std::vector<double>(4 * U)};
  bool forward_ok = true, dx_ok = true;
  for (uint32_t b = 0; b < s.batch; ++b) {
    std::vector<double> xb(inputs), dyb(outputs);
    for (uint32_t i = 0; i < inputs; ++i) xb[i] = x[size_t(i) * stride + b];
    for (uint32_t o = 0; o < outputs; ++o) dyb[o] = dy[size_t(o) * stride + b];
    std::fill(g.dx.begin(), g.dx.end(), 0.0);
    const std::vector<double> yb = ref.run(xb, &dyb, &g);
    for (uint32_t o = 0; o < outputs; ++o) forward_ok &= close(y[size_t(o) * stride + b], yb[o]);
    for (uint32_t i = 0; i < inputs; ++i) dx_ok &= close(dx[size_t(i) * stride + b], g.dx[i]);
  }
  // Every per-connection gradient is dE/dtheta = sign * dE/dw, in slot order.
  const auto store_ok = [](const SparseStore& w, const std::vector<float>& got, const std::vector<double>& dw) {
    bool ok = got.size() == w.active();
    for (uint32_t out = 0; ok && out < w.n_out; ++out)
      for (uint32_t k = w.row_start[out]; k < w.row_start[out + 1]; ++k) {
        const double expected = dw[size_t(out) * w.n_in + (w.source[k] & kIndexMask)] * ((w.source[k] & kSignBit) ? -1 : 1);
        ok &= close(got[k], expected);
      }
    return ok;
  };
  bool bias_ok = grads.stores.size() == 3 && grads.stores[2].size() == 4 * U;
  for (uint32_t j = 0; bias_ok && j < 4 * U; ++j) bias_ok &= close(grads.stores[2][j], g.db[j]);
  const bool input_ok = grads.stores.size() == 3 && store_ok(lstm.input_weight(), grads.stores[0], g.dwx);
  const bool recurrent_ok = grads.stores.size() == 3 && store_ok(lstm.recurrent_weight(), grads.stores[1], g.dwh);
  if (!(forward_ok && dx_ok && input_ok && recurrent_ok && bias_ok))
    deepr_test::fail(__FILE__, __LINE__,
                     describe(s) + ": forward " + std::to_string(forward_ok) + ", dx " + std::to_string(dx_ok) + ", input weights " +
                         std::to_string(input_ok) + ", recurrent weights " + std::to_string(recurrent_ok) + ", bias " +
                         std::to_string(bias_ok));
}

LayerSpec lstm_spec(uint32_t steps, uint32_t features, uint32_t units, uint64_t kx, uint64_t kh, bool sequence) {
  return {"sparse_lstm",
          {{"steps", steps}, {"features", features}, {"units", units}, {"inputBudget", double(kx)}, {"recurrentBudget", double(kh)}},
          {{"sequence", sequence}}};
}

LayerSpec linear_spec(uint32_t inputs, uint32_t outputs, uint64_t budget) {
  return {"sparse_linear", {{"inputs", inputs}, {"outputs", outputs}, {"budget", double(budget)}}, {{"bias", true}}};
}

// lstm -> sparse_linear readout -> softmax cross-entropy.
NetworkSpec lstm_network(uint32_t steps, uint32_t features, uint32_t units, uint64_t kx, uint64_t kh, bool sequence,
                         uint32_t classes, uint64_t readout_budget, bool global, uint64_t seed) {
  NetworkSpec spec;
  spec.seed = seed;
  const uint32_t width = sequence ? steps * units : units;
  spec.layers = {lstm_spec(steps, features, units, kx, kh, sequence), linear_spec(width, classes, readout_budget),
                 {"softmax_cross_entropy", {}, {}}};
  spec.rule.budget = global ? "global" : "layer";
  return spec;
}

struct Data {
  std::vector<float> inputs;
  std::vector<int32_t> labels;
};

Data make_data(uint32_t samples, uint32_t features, uint32_t classes, uint64_t seed) {
  Data d{std::vector<float>(size_t(samples) * features), std::vector<int32_t>(samples)};
  for (size_t n = 0; n < d.inputs.size(); ++n) d.inputs[n] = uniform(seed * 1000003 + n);
  for (uint32_t s = 0; s < samples; ++s) d.labels[s] = int32_t(mix(seed * 77 + s) % classes);
  return d;
}

std::vector<uint32_t> rows_of(uint32_t step, uint32_t batch, uint32_t samples) {
  std::vector<uint32_t> rows(batch);
  for (uint32_t b = 0; b < batch; ++b) rows[b] = uint32_t((uint64_t(step) * batch * 7 + uint64_t(b) * 13) % samples);
  return rows;
}

// Every store's slots, values and states, as bytes.
std::vector<char> state_bytes(const Network& net) {
  std::vector<char> bytes;
  const auto add = [&](const void* p, size_t n) { bytes.insert(bytes.end(), (const char*)p, (const char*)p + n); };
  for (const std::unique_ptr<Layer>& layer : net.layers())
    for (const StoreRef& s : layer->stores()) {
      if (s.sparse) {
        add(s.sparse->row_start.data(), s.sparse->row_start.size() * 4);
        add(s.sparse->source.data(), s.sparse->source.size() * 4);
        add(s.sparse->theta.data(), s.sparse->theta.size() * 4);
        for (const StateArray& a : s.sparse->states) add(a.values.data(), a.values.size() * 4);
      } else {
        add(s.dense->value.data(), s.dense->value.size() * 4);
        for (const StateArray& a : s.dense->states) add(a.values.data(), a.values.size() * 4);
      }
    }
  return bytes;
}

}  // namespace

TEST(sparse_lstm_matches_a_float64_dense_lstm) {
  uint64_t seed = 1;
  for (const uint32_t steps : {1u, 7u})
    for (const bool full : {false, true})
      for (const bool sequence : {false, true}) {
        check_against_dense({steps, 3, 4, 5, full, sequence}, seed++);
        check_against_dense({steps, 5, 6, 19, full, sequence}, seed++);
      }
}

TEST(sparse_lstm_gate_nonlinearities_are_float_accurate) {
  // One step of one unit over pre-activations in [-24, 24]: the gates' sigmoid and tanh within a few
  // float roundings of float64 (the BPTT check above allows for the rounding of longer sums).
  SparseLstm lstm(1, 1, 1, 4, 4, false, 0, 3);
  for (uint32_t j = 0; j < 4; ++j) {
    lstm.input_weight().theta[j] = 1.5f + 0.25f * j;
    lstm.bias().value[j] = 0.3f * uniform(j);
  }
  const DenseLstm ref{1, 1, 1, false, dense_weights(lstm.input_weight()), dense_weights(lstm.recurrent_weight()),
                      std::vector<double>(lstm.bias().value.begin(), lstm.bias().value.end())};
  const uint32_t stride = 256;
  std::vector<float> x(stride), y(stride);
  for (uint32_t b = 0; b < stride; ++b) x[b] = -10.0f + 20.0f * b / (stride - 1);
  lstm.forward(x.data(), y.data(), stride);
  for (uint32_t b = 0; b < stride; ++b) {
    const double expected = ref.run({double(x[b])}, nullptr, nullptr)[0];
    CHECK_NEAR(y[b], expected, 1e-6 * std::abs(expected) + 1e-7);
  }
}

TEST(sparse_lstm_starts_with_its_budgets_and_a_forget_bias_of_one) {
  SparseLstm lstm(4, 3, 5, 17, 40, false, 2, 9);
  CHECK(lstm.inputs() == 12 && lstm.outputs() == 5);
  CHECK(lstm.input_weight().id == 2 && lstm.recurrent_weight().id == 3);
  CHECK(lstm.input_weight().n_in == 3 && lstm.input_weight().n_out == 20 && lstm.input_weight().active() == 17);
  CHECK(lstm.recurrent_weight().n_in == 5 && lstm.recurrent_weight().n_out == 20 && lstm.recurrent_weight().active() == 40);
  CHECK(lstm.input_weight().check().empty() && lstm.recurrent_weight().check().empty());
  for (uint32_t j = 0; j < 20; ++j) CHECK(lstm.bias().value[j] == (j >= 5 && j < 10 ? 1.0f : 0.0f));
  CHECK(SparseLstm(4, 3, 5, 17, 40, true, 0, 9).outputs() == 20);
}

TEST(sparse_lstm_loss_gradient_matches_finite_differences) {
  const uint32_t steps = 5, features = 3, units = 4, classes = 3, batch = 6;
  Network net(lstm_network(steps, features, units, 30, 40, false, classes, 10, false, 5));
  const Data data = make_data(batch, steps * features, classes, 3);
  std::vector<uint32_t> rows(batch);
  for (uint32_t b = 0; b < batch; ++b) rows[b] = b;
  std::vector<LayerGradients> seen;
  net.set_gradient_exchange([&](std::vector<LayerGradients>& g, BatchLoss&) { seen = g; });
  StepHyper frozen{0.0f, 0.0f, 0.0f, 0.0f};  // lr 0: the step only reports its gradients
  StepStats stats;
  net.train_step(data.inputs.data(), data.labels.data(), rows.data(), batch, frozen, stats);
  const auto loss = [&] { return net.evaluate(data.inputs.data(), data.labels.data(), batch).loss_sum / batch; };
  Layer& lstm = *net.layers()[0];
  const std::vector<StoreRef> stores = lstm.stores();
  CHECK(seen.size() == 3 && seen[0].stores.size() == 3);
  const double eps = 1e-2;
  int checked = 0, wrong = 0;
  for (size_t s = 0; s < stores.size() && seen.size() == 3; ++s) {
    std::vector<float>& values = stores[s].sparse ? stores[s].sparse->theta : stores[s].dense->value;
    for (size_t k = 0; k < values.size(); ++k) {
      const double numeric = deepr_test::central_difference(values[k], eps, loss);
      ++checked;
      if (!(std::abs(seen[0].stores[s][k] - numeric) <= 1e-4 + 2e-2 * std::abs(numeric))) {
        if (wrong++ < 5)
          deepr_test::fail(__FILE__, __LINE__, std::string(stores[s].name) + " " + std::to_string(k) + ": backward " +
                                                   std::to_string(seen[0].stores[s][k]) + ", finite differences " + std::to_string(numeric));
      }
    }
  }
  CHECK(checked == 30 + 40 + 16);
}

TEST(sparse_lstm_training_with_rewiring_keeps_the_strict_bound) {
  const uint32_t steps = 7, features = 4, units = 6, classes = 3, samples = 200, batch = 20;
  const Data data = make_data(samples, steps * features, classes, 8);
  for (const bool global : {false, true})
    for (const bool sequence : {false, true}) {
      Network net(lstm_network(steps, features, units, 20, 30, sequence, classes, 12, global, 21));
      const StepHyper hyper{0.05f, 0.02f, 0.003f, 0.0f, sequence ? 0.5f : 0.0f};  // clipping with every-step output
      uint64_t rewired = 0;
      bool bound = true;
      for (uint32_t step = 0; step < 300 && bound; ++step) {
        StepStats stats;
        const std::vector<uint32_t> rows = rows_of(step, batch, samples);
        net.train_step(data.inputs.data(), data.labels.data(), rows.data(), batch, hyper, stats);
        for (const uint64_t r : stats.rewired) rewired += r;
        const std::string problem = net.check();
        if (!problem.empty()) {
          deepr_test::fail(__FILE__, __LINE__, "step " + std::to_string(step) + ": " + problem);
          bound = false;
        }
        if (!global) CHECK(net.sparse_stores()[0]->active() == 20 && net.sparse_stores()[1]->active() == 30);
      }
      CHECK(net.sparse_stores().size() == 3);
      CHECK(rewired > 100);  // the bound held while connections moved
    }
}

TEST(sparse_lstm_training_is_the_same_for_1_and_2_threads) {
  // 64 units with every recurrent connection and 64 samples: the recurrent forward splits over 2 threads.
  const uint32_t steps = 3, features = 5, units = 64, classes = 4, samples = 128, batch = 64;
  const Data data = make_data(samples, steps * features, classes, 4);
  const unsigned threads = ThreadPool::shared().size();
  std::vector<std::vector<char>> results;
  for (const unsigned n : {1u, 2u}) {
    ThreadPool::shared().resize(n);
    Network net(lstm_network(steps, features, units, 200, 64 * 256, true, classes, 300, true, 13));
    for (uint32_t step = 0; step < 20; ++step) {
      StepStats stats;
      const std::vector<uint32_t> rows = rows_of(step, batch, samples);
      net.train_step(data.inputs.data(), data.labels.data(), rows.data(), batch, StepHyper{0.05f, 0.02f, 0.003f, 0.0f},
                     stats);
    }
    results.push_back(state_bytes(net));
  }
  ThreadPool::shared().resize(threads);
  CHECK(results[0] == results[1]);
}

TEST(sparse_lstm_specs_are_checked_by_the_registry) {
  NetworkSpec spec = lstm_network(4, 3, 5, 17, 40, true, 3, 10, false, 1);
  CHECK(Network(spec).layers()[1]->inputs() == 20);
  NetworkSpec too_many = spec;
  too_many.layers[0].numbers["recurrentBudget"] = 101;
  CHECK(refusal(too_many) == "layer 0 (sparse_lstm): recurrentBudget must be an integer in [1, 100], got 101");
  NetworkSpec missing = spec;
  missing.layers[0].booleans.clear();
  CHECK(refusal(missing) == "layer 0 (sparse_lstm): sequence (a boolean) is missing");
  NetworkSpec mismatched = spec;
  mismatched.layers.insert(mismatched.layers.begin(), linear_spec(8, 13, 20));
  CHECK(refusal(mismatched) == "layer 1 (sparse_lstm): steps x features is 12, but the layer below gives 13");
  NetworkSpec readout = spec;
  readout.layers[1].numbers["inputs"] = 5;
  CHECK(refusal(readout) == "layer 1 (sparse_linear): inputs is 5, but the layer below gives 20");
}
