// Gradient clipping by global norm: the scaling against float64, and a training step with
// clipNorm against the update computed in float64 from the gradients the exchange hook sees.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "check.hpp"
#include "counter_uniform.hpp"
#include "gradient_clipping.hpp"
#include "network.hpp"

using namespace deepr;
using deepr_test::uniform;

namespace {

std::vector<LayerGradients> some_gradients(float scale) {
  std::vector<LayerGradients> g(3);
  g[0].stores = {std::vector<float>(37), std::vector<float>(5)};
  g[2].stores = {std::vector<float>(11)};  // layer 1 has no stores
  uint64_t n = 0;
  for (LayerGradients& layer : g)
    for (std::vector<float>& store : layer.stores)
      for (float& v : store) v = scale * uniform(n++);
  return g;
}

double norm64(const std::vector<LayerGradients>& g) {
  double sum = 0;
  for (const LayerGradients& layer : g)
    for (const std::vector<float>& store : layer.stores)
      for (const float v : store) sum += double(v) * v;
  return std::sqrt(sum);
}

}  // namespace

TEST(clipping_scales_every_gradient_to_the_bound) {
  std::vector<LayerGradients> g = some_gradients(3.0f);
  const std::vector<LayerGradients> before = g;
  const double norm = norm64(before);
  CHECK(norm > 2.0);
  CHECK_NEAR(clip_by_global_norm(g, 2.0f), norm, 1e-12 * norm);
  CHECK_NEAR(norm64(g), 2.0, 1e-6);
  for (size_t l = 0; l < g.size(); ++l)
    for (size_t s = 0; s < g[l].stores.size(); ++s)
      for (size_t k = 0; k < g[l].stores[s].size(); ++k)
        CHECK_NEAR(g[l].stores[s][k], double(before[l].stores[s][k]) * 2.0 / norm, 1e-7);
  // Below the bound nothing changes.
  std::vector<LayerGradients> small = some_gradients(0.01f);
  const std::vector<LayerGradients> kept = small;
  clip_by_global_norm(small, 2.0f);
  for (size_t l = 0; l < small.size(); ++l) CHECK(small[l].stores == kept[l].stores);
}

TEST(a_step_with_clip_norm_applies_the_clipped_gradients) {
  NetworkSpec spec;
  spec.seed = 4;
  spec.layers = {{"sparse_linear", {{"inputs", 12}, {"outputs", 10}, {"budget", 60}}, {{"bias", true}}},
                 {"relu", {}, {}},
                 {"sparse_linear", {{"inputs", 10}, {"outputs", 3}, {"budget", 20}}, {{"bias", true}}},
                 {"softmax_cross_entropy", {}, {}}};
  Network net(spec);
  const uint32_t batch = 24;
  std::vector<float> inputs(batch * 12);
  std::vector<int32_t> labels(batch);
  for (size_t n = 0; n < inputs.size(); ++n) inputs[n] = 2.0f * uniform(1000 + n);
  for (uint32_t b = 0; b < batch; ++b) labels[b] = int32_t(b % 3);
  std::vector<uint32_t> rows(batch);
  for (uint32_t b = 0; b < batch; ++b) rows[b] = b;

  // Each sparse store's theta by position, and the biases, before the step.
  const auto parameters = [&] {
    std::map<std::string, double> p;
    for (size_t i = 0; i < net.layers().size(); ++i)
      for (const StoreRef& s : net.layers()[i]->stores()) {
        const std::string where = std::to_string(i) + s.name;
        if (s.dense)
          for (size_t k = 0; k < s.dense->value.size(); ++k) p[where + std::to_string(k)] = s.dense->value[k];
        else
          for (uint32_t out = 0; out < s.sparse->n_out; ++out)
            for (uint32_t k = s.sparse->row_start[out]; k < s.sparse->row_start[out + 1]; ++k)
              p[where + "@" + std::to_string(s.sparse->position_of(k, out))] = s.sparse->theta[k];
      }
    return p;
  };
  // The gradients as the hook sees them (before clipping), keyed as the parameters.
  std::map<std::string, double> gradient;
  std::vector<LayerGradients> seen;
  net.set_gradient_exchange([&](std::vector<LayerGradients>& g, BatchLoss&) {
    seen = g;
    for (size_t i = 0; i < net.layers().size(); ++i) {
      const std::vector<StoreRef> stores = net.layers()[i]->stores();
      for (size_t s = 0; s < stores.size(); ++s) {
        const std::string where = std::to_string(i) + stores[s].name;
        const SparseStore* w = stores[s].sparse;
        if (!w)
          for (size_t k = 0; k < g[i].stores[s].size(); ++k) gradient[where + std::to_string(k)] = g[i].stores[s][k];
        else
          for (uint32_t out = 0; out < w->n_out; ++out)
            for (uint32_t k = w->row_start[out]; k < w->row_start[out + 1]; ++k)
              gradient[where + "@" + std::to_string(w->position_of(k, out))] = g[i].stores[s][k];
      }
    }
  });
  const std::map<std::string, double> before = parameters();
  const float lr = 0.05f, clip = 0.1f;
  StepStats stats;
  StepHyper hyper{lr, 0.0f, 0.0f, 0.0f};
  hyper.clip_norm = clip;
  net.train_step(inputs.data(), labels.data(), rows.data(), batch, hyper, stats);
  const double norm = norm64(seen);
  CHECK(norm > 2 * clip);  // the case clips
  const double scale = clip / norm;
  const std::map<std::string, double> after = parameters();
  int compared = 0;
  for (const auto& p : before) {
    const double expected = p.second - double(lr) * gradient.at(p.first) * scale;
    const auto it = after.find(p.first);
    if (it == after.end() || (it->second == 0 && expected < 0)) {  // died in the step (perhaps regrown at theta 0)
      CHECK(expected < 1e-6);
      continue;
    }
    CHECK_NEAR(it->second, expected, 1e-6);
    ++compared;
  }
  CHECK(compared > 60);
}
