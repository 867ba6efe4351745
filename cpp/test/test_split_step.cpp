// The split training step (backward, gradient exchange, update) against the fused one, and the
// gradients the exchange hook sees against a float64 backward pass of the same network.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "counter_data.hpp"
#include "mlp.hpp"
#include "network.hpp"
#include "reference_random.hpp"
#include "thread_pool.hpp"

using namespace deepr;
using deepr_test::MlpLayer;
using deepr_test::mlp_layers;

namespace {

const std::vector<uint32_t> kSizes{24, 20, 12, 5};
const std::vector<uint64_t> kBudgets{96, 72, 40};
constexpr uint32_t kSamples = 300;
// lr * alpha and the noise are large enough that connections die and regrow in most steps.
constexpr float kLr = 0.05f, kAlpha = 0.02f, kNoiseStd = 0.003f, kMomentum = 0.9f;

using DataSet = deepr_test::CounterData;

DataSet make_data(uint32_t features, uint32_t classes) { return deepr_test::counter_data(kSamples, features, classes); }

// The rows of step `step`: a fixed walk through the data set.
std::vector<uint32_t> rows_of(uint32_t step, uint32_t batch) { return deepr_test::walk_rows(step, batch, kSamples); }

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Every parameter, slot, optimiser state and counter of the two networks, bit for bit.
bool identical(const Network& a, const Network& b) {
  if (a.step() != b.step()) return false;
  for (size_t l = 0; l < mlp_layers(a).size(); ++l) {
    const MlpLayer x = mlp_layers(a)[l], y = mlp_layers(b)[l];
    if (!same_bits(x.row_start, y.row_start) || !same_bits(x.source, y.source) || !same_bits(x.theta, y.theta) ||
        !same_bits(x.bias, y.bias))
      return false;
  }
  for (size_t i = 0; i < a.layers().size(); ++i) {
    const std::vector<StoreRef> x = a.layers()[i]->stores(), y = b.layers()[i]->stores();
    for (size_t s = 0; s < x.size(); ++s) {
      const StateArrays& sx = x[s].sparse ? x[s].sparse->states : x[s].dense->states;
      const StateArrays& sy = y[s].sparse ? y[s].sparse->states : y[s].dense->states;
      if (sx.size() != sy.size()) return false;
      for (size_t n = 0; n < sx.size(); ++n)
        if (sx[n].name != sy[n].name || !same_bits(sx[n].values, sy[n].values)) return false;
    }
  }
  return true;
}

struct Case {
  uint32_t batch;
  bool bias;
  std::string optimiser;
  bool global;
};

std::string describe(const Case& c) {
  return "batch " + std::to_string(c.batch) + (c.bias ? ", biases" : "") + ", " + c.optimiser +
         (c.global ? ", global budget" : ", per-layer budget");
}

// Trains a fused and a split network side by side (the split one through `exchange`), comparing
// them after every step. Returns the connections regrown over the run (in the fused network).
uint64_t run_side_by_side(const Case& c, const std::vector<uint32_t>& sizes, const std::vector<uint64_t>& budgets,
                          uint32_t steps, const GradientExchange& exchange) {
  const DataSet data = make_data(sizes.front(), sizes.back());
  NetworkSpec spec = deepr_test::mlp_spec(sizes, budgets, c.bias, false, c.global, GlobalShare::kByBudget, 7);
  spec.rule.optimiser = c.optimiser;
  Network fused(spec), split(spec);
  uint64_t calls = 0;
  split.set_gradient_exchange([&](std::vector<LayerGradients>& g, BatchLoss& loss) {
    ++calls;
    exchange(g, loss);
  });
  // Adam's steps are about eta whatever the gradient: a smaller eta keeps the network from diverging.
  StepHyper hyper{kLr, kAlpha, kNoiseStd, c.optimiser == "momentum" ? kMomentum : 0.0f};
  if (c.optimiser == "adam") {
    hyper.lr = kLr * 0.1f;
    hyper.beta1 = 0.9f;
    hyper.beta2 = 0.99f;
    hyper.epsilon = 1e-7f;
  }
  StepStats fused_stats, split_stats;
  uint64_t regrown = 0;
  for (uint32_t step = 0; step < steps; ++step) {
    const std::vector<uint32_t> rows = rows_of(step, c.batch);
    fused.train_step(data.inputs.data(), data.labels.data(), rows.data(), c.batch, hyper, fused_stats);
    split.train_step(data.inputs.data(), data.labels.data(), rows.data(), c.batch, hyper, split_stats);
    for (uint64_t r : fused_stats.rewired) regrown += r;
    if (!identical(fused, split) || fused_stats.rewired != split_stats.rewired ||
        fused_stats.loss.loss_sum != split_stats.loss.loss_sum) {
      deepr_test::fail(__FILE__, __LINE__, describe(c) + ": the paths differ after step " + std::to_string(step));
      return regrown;
    }
  }
  CHECK(calls == steps);
  CHECK(split.check().empty());
  return regrown;
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (uint32_t batch : {5u, 40u, 70u, 100u})
    for (bool global : {false, true})
      for (bool bias : {false, true})
        for (const char* optimiser : {"sgd", "momentum", "adam"}) cases.push_back(Case{batch, bias, optimiser, global});
  return cases;
}

// dE/dtheta of every active slot and dE/db of every bias for one batch, in float64 from the
// network's current parameters (dense activations, sample by sample).
struct Float64Gradients {
  std::vector<std::vector<double>> theta, bias;  // [layer][slot], [layer][output]
};

Float64Gradients float64_gradients(const Network& net, const DataSet& data, const std::vector<uint32_t>& rows) {
  const size_t n = mlp_layers(net).size();
  const uint32_t batch = uint32_t(rows.size());
  Float64Gradients g{std::vector<std::vector<double>>(n), std::vector<std::vector<double>>(n)};
  for (size_t l = 0; l < n; ++l) {
    g.theta[l].assign(mlp_layers(net)[l].active(), 0.0);
    g.bias[l].assign(mlp_layers(net)[l].bias.size(), 0.0);
  }
  for (uint32_t row : rows) {
    std::vector<std::vector<double>> act(n + 1);
    act[0].assign(data.inputs.begin() + size_t(row) * net.input_size(),
                  data.inputs.begin() + size_t(row + 1) * net.input_size());
    for (size_t l = 0; l < n; ++l) {
      const MlpLayer layer = mlp_layers(net)[l];
      act[l + 1].assign(layer.n_out, 0.0);
      for (uint32_t out = 0; out < layer.n_out; ++out) {
        double z = layer.bias.empty() ? 0.0 : layer.bias[out];
        for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k) {
          const double sign = (layer.source[k] & kSignBit) ? -1.0 : 1.0;
          z += sign * layer.theta[k] * act[l][layer.source[k] & kIndexMask];
        }
        act[l + 1][out] = l + 1 < n ? std::max(z, 0.0) : z;
      }
    }
    const std::vector<double>& logits = act[n];
    double top = -INFINITY, sum = 0;
    for (double z : logits) top = std::max(top, z);
    for (double z : logits) sum += std::exp(z - top);
    std::vector<double> dz(logits.size());
    for (size_t c = 0; c < logits.size(); ++c)
      dz[c] = (std::exp(logits[c] - top) / sum - (int32_t(c) == data.labels[row])) / batch;  // E: the batch mean
    for (size_t l = n; l-- > 0;) {
      const MlpLayer layer = mlp_layers(net)[l];
      std::vector<double> dx(layer.n_in, 0.0);
      for (uint32_t out = 0; out < layer.n_out; ++out) {
        if (!layer.bias.empty()) g.bias[l][out] += dz[out];
        for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k) {
          const double sign = (layer.source[k] & kSignBit) ? -1.0 : 1.0;
          const uint32_t in = layer.source[k] & kIndexMask;
          g.theta[l][k] += sign * dz[out] * act[l][in];
          dx[in] += sign * layer.theta[k] * dz[out];
        }
      }
      if (l == 0) break;  // no ReLU below the inputs, and nothing uses their gradient
      for (uint32_t in = 0; in < layer.n_in; ++in) dx[in] = act[l][in] > 0.0 ? dx[in] : 0.0;  // through the ReLU
      dz.swap(dx);
    }
  }
  return g;
}

// The slot of `position` in `layer`, or -1 when it has none.
int64_t slot_of(const MlpLayer& layer, uint64_t position) {
  const uint32_t out = uint32_t(position / layer.n_in);
  for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k)
    if (layer.weight.position_of(k, out) == position) return k;
  return -1;
}

}  // namespace

TEST(split_step_matches_the_fused_step_bit_for_bit) {
  uint64_t regrown = 0;
  for (const Case& c : all_cases())
    regrown += run_side_by_side(c, kSizes, kBudgets, 300, [](std::vector<LayerGradients>&, BatchLoss&) {});
  CHECK(regrown > 1000);  // rewiring happened all along, so regrown slots were compared too
}

TEST(split_step_matches_the_fused_step_for_any_thread_count) {
  // A first layer big enough that the fused sweep and the split backward split it over the pool
  // (30000 x 112 samples), then one whose split update splits too (2^17 slots a part).
  const unsigned threads = ThreadPool::shared().size();
  for (unsigned t : {1u, 4u}) {
    ThreadPool::shared().resize(t);
    for (const char* optimiser : {"momentum", "adam"}) {
      const uint64_t regrown = run_side_by_side(Case{100, true, optimiser, false}, {784, 300, 10}, {30000, 500}, 15,
                                                [](std::vector<LayerGradients>&, BatchLoss&) {});
      CHECK(regrown > 0);
    }
    CHECK(run_side_by_side(Case{5, false, "sgd", false}, {2000, 300, 10}, {280000, 500}, 4,
                           [](std::vector<LayerGradients>&, BatchLoss&) {}) > 0);
  }
  ThreadPool::shared().resize(threads);
}

TEST(an_all_reduce_of_two_identical_ranks_changes_nothing) {
  // The sum of two ranks' identical gradients, averaged: what data parallelism does, on one process.
  const auto all_reduce = [](std::vector<LayerGradients>& gradients, BatchLoss&) {
    for (LayerGradients& layer : gradients)
      for (std::vector<float>& store : layer.stores) {
        const std::vector<float> other = store;  // the second rank's copy
        for (size_t k = 0; k < store.size(); ++k) store[k] = (store[k] + other[k]) * 0.5f;
      }
  };
  for (const Case& c : {Case{40, true, "momentum", false}, Case{70, false, "sgd", true}, Case{40, true, "adam", false}})
    CHECK(run_side_by_side(c, kSizes, kBudgets, 200, all_reduce) > 0);
}

TEST(the_exchange_sees_each_layers_gradients) {
  const DataSet data = make_data(kSizes.front(), kSizes.back());
  for (uint32_t batch : {5u, 70u}) {
    Network net(deepr_test::mlp_spec(kSizes, kBudgets, true, false, false, GlobalShare::kByBudget, 3));
    const std::vector<uint32_t> rows = rows_of(0, batch);
    const Float64Gradients expected = float64_gradients(net, data, rows);
    std::vector<LayerGradients> seen;
    size_t layers = 0, without_stores = 0;
    net.set_gradient_exchange([&](std::vector<LayerGradients>& g, BatchLoss&) {
      layers = g.size();
      for (size_t i = 0; i < g.size(); ++i)  // the sparse_linear layers are 0, 2, 4: relu and the head have no stores
        if (i % 2 == 0 && i + 1 < g.size()) seen.push_back(g[i]);
        else without_stores += g[i].stores.empty();
    });
    StepStats stats;
    net.train_step(data.inputs.data(), data.labels.data(), rows.data(), batch, StepHyper{kLr, kAlpha, 0.0f, 0.0f}, stats);
    CHECK(layers == 2 * (kSizes.size() - 1) && without_stores == kSizes.size() - 1);
    CHECK(seen.size() == kSizes.size() - 1);
    if (seen.size() != kSizes.size() - 1) return;
    double largest = 0;
    for (size_t l = 0; l < seen.size(); ++l) {
      CHECK(seen[l].stores.size() == 2);
      if (seen[l].stores.size() != 2) return;
      const std::vector<float>&theta = seen[l].stores[0], &bias = seen[l].stores[1];
      CHECK(theta.size() == kBudgets[l] && bias.size() == kSizes[l + 1]);
      if (theta.size() != kBudgets[l] || bias.size() != kSizes[l + 1]) return;
      for (size_t k = 0; k < theta.size(); ++k) {
        CHECK_NEAR(theta[k], expected.theta[l][k], 1e-6 + 1e-5 * std::abs(expected.theta[l][k]));
        largest = std::max(largest, std::abs(expected.theta[l][k]));
      }
      for (size_t k = 0; k < bias.size(); ++k)
        CHECK_NEAR(bias[k], expected.bias[l][k], 1e-6 + 1e-5 * std::abs(expected.bias[l][k]));
    }
    CHECK(largest > 1e-3);  // the gradients are far from zero, so the tolerance says something
  }
}

TEST(zero_gradients_leave_only_the_prior) {
  // With every gradient zeroed, theta moves by -eta alpha + noise_std * normal k of the layer's
  // noise stream (slot k), computed here in float64 with the reference streams; biases stay.
  const DataSet data = make_data(kSizes.front(), kSizes.back());
  const uint64_t seed = 5;
  Network net(deepr_test::mlp_spec(kSizes, kBudgets, true, false, false, GlobalShare::kByBudget, seed));
  net.set_gradient_exchange([](std::vector<LayerGradients>& gradients, BatchLoss&) {
    for (LayerGradients& layer : gradients)
      for (std::vector<float>& store : layer.stores) std::fill(store.begin(), store.end(), 0.0f);
  });
  StepStats stats;
  uint64_t compared = 0, died = 0;
  for (uint32_t step = 0; step < 5; ++step) {
    std::vector<std::map<uint64_t, double>> expected(mlp_layers(net).size());  // per layer: position -> theta
    std::vector<std::vector<float>> biases;
    for (uint32_t l = 0; l < mlp_layers(net).size(); ++l) {
      const MlpLayer layer = mlp_layers(net)[l];
      biases.push_back(layer.bias);
      const deepr_reference::Stream noise{seed, net.step(), l, deepr_reference::kNoise};
      for (uint32_t out = 0; out < layer.n_out; ++out)
        for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k)
          expected[l][layer.position_of(k, out)] =
              double(layer.theta[k]) - double(kLr) * kAlpha + double(kNoiseStd) * deepr_reference::normal(noise, k);
    }
    const std::vector<uint32_t> rows = rows_of(step, 40);
    net.train_step(data.inputs.data(), data.labels.data(), rows.data(), 40, StepHyper{kLr, kAlpha, kNoiseStd, 0.0f},
                   stats);
    for (uint32_t l = 0; l < mlp_layers(net).size(); ++l) {
      const MlpLayer layer = mlp_layers(net)[l];
      CHECK(same_bits(layer.bias, biases[l]));
      for (const auto& [position, theta] : expected[l]) {
        const int64_t k = slot_of(layer, position);
        if (theta < 0) {  // died: dormant now, or regrown at theta = 0 by chance
          ++died;
          CHECK(k < 0 || layer.theta[size_t(k)] == 0.0f);
          continue;
        }
        CHECK(k >= 0);
        if (k < 0) continue;
        CHECK_NEAR(layer.theta[size_t(k)], theta, 1e-7 + 1e-6 * std::abs(theta));
        ++compared;
      }
    }
  }
  CHECK(compared > 800);
  CHECK(died > 0);
}

TEST(an_exchange_that_resizes_the_gradients_is_refused) {
  const DataSet data = make_data(kSizes.front(), kSizes.back());
  Network net(deepr_test::mlp_spec(kSizes, kBudgets, false, false, false, GlobalShare::kByBudget, 9));
  net.set_gradient_exchange([](std::vector<LayerGradients>& gradients, BatchLoss&) { gradients[2].stores[0].pop_back(); });
  const std::vector<uint32_t> rows = rows_of(0, 5);
  StepStats stats;
  const std::vector<float> last_theta = mlp_layers(net)[2].theta;
  bool refused = false;
  try {
    net.train_step(data.inputs.data(), data.labels.data(), rows.data(), 5, StepHyper{}, stats);
  } catch (const std::logic_error& e) {
    refused = std::string(e.what()).find("layer 2") != std::string::npos;  // the second sparse_linear
  }
  CHECK(refused);
  CHECK(same_bits(mlp_layers(net)[2].theta, last_theta));  // refused before any layer was updated
  CHECK(net.step() == 0);
}
