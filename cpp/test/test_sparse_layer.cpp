// The sorted slot structure against a plain std::set model under random removals and inserts.
#include <algorithm>
#include <map>
#include <set>

#include "check.hpp"
#include "random.hpp"
#include "rewiring.hpp"
#include "sparse_layer.hpp"

using namespace deepr;

TEST(activate_and_remove_keep_the_layer_equal_to_a_set_model) {
  SparseLayer layer(13, 11, 0, 99, false, true);
  std::map<uint64_t, float> model;  // position -> theta
  UniformIntegers uniform(RngStream{1, 0, 0, Purpose::kRewire});
  for (int round = 0; round < 300; ++round) {
    // Kill a random subset.
    std::vector<uint32_t> dead;
    for (uint32_t out = 0; out < layer.n_out; ++out)
      for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k)
        if (uniform.below(4) == 0) {
          dead.push_back(k);
          model.erase(layer.position_of(k, out));
        }
    const uint64_t removed = layer.remove_slots(dead);
    CHECK(removed == dead.size());
    CHECK(layer.active() == model.size());
    // Grow back a random number of positions, then give all slots distinct values.
    const uint64_t grow = std::min<uint64_t>(uniform.below(12) + removed / 2, layer.positions() - layer.active());
    std::vector<uint64_t> picks;
    sample_dormant(layer, grow, RngStream{1, uint64_t(round), 0, Purpose::kRewire}, picks);
    for (uint64_t p : picks) {
      CHECK(model.count(p) == 0);
      model[p] = 0.0f;
    }
    layer.activate(picks);
    CHECK(layer.check().empty());
    for (uint32_t out = 0; out < layer.n_out; ++out)
      for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k) {
        const uint64_t p = layer.position_of(k, out);
        CHECK(model.count(p) == 1 && model[p] == layer.theta[k]);
        // Velocity travels with its slot; a new connection starts with none.
        CHECK(layer.velocity[k] == (layer.theta[k] == 0.0f ? 0.0f : float(p)));
        layer.theta[k] = model[p] = float(p) + 0.5f;
        layer.velocity[k] = float(p);
      }
  }
  CHECK(layer.active() == model.size());
}

TEST(contains_agrees_with_the_slots) {
  SparseLayer layer(50, 40, 2, 7, false, false);
  std::vector<uint64_t> picks;
  sample_dormant(layer, 300, RngStream{7, 0, 2, Purpose::kInitPositions}, picks);
  layer.assign(picks, std::vector<float>(picks.size(), 1.0f));
  const std::set<uint64_t> model(picks.begin(), picks.end());
  for (uint64_t p = 0; p < layer.positions(); ++p) CHECK(layer.contains(p) == (model.count(p) == 1));
}

TEST(check_reports_broken_invariants) {
  SparseLayer layer(5, 4, 0, 3, false, false);
  layer.assign({1, 2, 7, 19}, {0.1f, 0.2f, 0.3f, 0.4f});
  CHECK(layer.check().empty());
  SparseLayer duplicate = layer;
  duplicate.source[1] = duplicate.source[0];
  CHECK(!duplicate.check().empty());
  SparseLayer dormant = layer;
  dormant.theta[2] = -0.1f;
  CHECK(!dormant.check().empty());
  SparseLayer flipped = layer;
  flipped.source[3] ^= kSignBit;
  CHECK(!flipped.check().empty());
  SparseLayer out_of_range = layer;
  out_of_range.source[3] = (out_of_range.source[3] & kSignBit) | 9u;
  CHECK(!out_of_range.check().empty());
}
