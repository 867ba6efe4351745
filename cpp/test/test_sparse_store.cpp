// The sorted slot structure against a plain std::map model under random removals and inserts.
#include <algorithm>
#include <map>
#include <set>

#include "check.hpp"
#include "random.hpp"
#include "rules/deep_r_structure.hpp"
#include "sparse_store.hpp"

using namespace deepr;

TEST(rewire_keeps_the_store_and_its_state_arrays_equal_to_a_map_model) {
  SparseStore layer(13, 11, 0, 99, 1);
  keep_states(layer.states, {"first", "second"}, 0);  // two per-slot arrays, as Adam's moments
  std::vector<float>&first = layer.states[0].values, &second = layer.states[1].values;
  std::map<uint64_t, float> model;  // position -> theta
  UniformIntegers uniform(RngStream{1, 0, 0, Purpose::kRewire});
  uint64_t picked_again = 0;  // new connections at a position that was dying in the same step
  for (int round = 0; round < 300; ++round) {
    // A random subset goes dormant (theta < 0), as the update would leave it.
    std::vector<uint32_t> dying;
    std::set<uint64_t> dying_positions;
    for (uint32_t out = 0; out < layer.n_out; ++out)
      for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k)
        if (uniform.below(4) == 0) {
          dying.push_back(k);
          layer.theta[k] = -1.0f;
          dying_positions.insert(layer.position_of(k, out));
          model.erase(layer.position_of(k, out));
        }
    // Grow a random number of positions (more or fewer than died), then give all slots distinct values.
    const uint64_t grow = std::min<uint64_t>(uniform.below(12) + dying.size() / 2, layer.positions() - model.size());
    std::vector<uint64_t> picks;
    sample_dormant(structure_of(layer), dying, grow, RngStream{1, uint64_t(round), 0, Purpose::kRewire}, picks);
    for (uint64_t p : picks) {
      CHECK(model.count(p) == 0);
      picked_again += dying_positions.count(p);
      model[p] = 0.0f;
    }
    layer.rewire(dying, picks);
    CHECK(layer.check().empty());
    CHECK(layer.active() == model.size());
    for (uint32_t out = 0; out < layer.n_out; ++out)
      for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k) {
        const uint64_t p = layer.position_of(k, out);
        CHECK(model.count(p) == 1 && model[p] == layer.theta[k]);
        // Each state array travels with its slot; a new connection starts at zero in all.
        CHECK(first[k] == (layer.theta[k] == 0.0f ? 0.0f : float(p)));
        CHECK(second[k] == (layer.theta[k] == 0.0f ? 0.0f : -2.0f * float(p)));
        layer.theta[k] = model[p] = float(p) + 0.5f;
        first[k] = float(p);
        second[k] = -2.0f * float(p);
      }
  }
  CHECK(picked_again > 0);
  CHECK(layer.active() == model.size() && first.size() == model.size() && second.size() == model.size());
}

TEST(keep_states_adds_zeroed_arrays_and_keeps_existing_ones) {
  StateArrays states;
  keep_states(states, {"velocity"}, 3);
  states[0].values = {1, 2, 3};
  keep_states(states, {"moment", "velocity"}, 3);
  CHECK(states.size() == 2 && states[0].name == "moment" && states[1].name == "velocity");
  CHECK(states[0].values == std::vector<float>(3, 0.0f) && states[1].values == std::vector<float>({1, 2, 3}));
  keep_states(states, {}, 3);
  CHECK(states.empty());
}

TEST(contains_agrees_with_the_slots) {
  SparseStore layer(50, 40, 2, 7, 300);
  std::vector<uint64_t> picks;
  sample_dormant(structure_of(layer), {}, 300, RngStream{7, 0, 2, Purpose::kInitPositions}, picks);
  layer.assign(picks, std::vector<float>(picks.size(), 1.0f));
  const std::set<uint64_t> model(picks.begin(), picks.end());
  for (uint64_t p = 0; p < layer.positions(); ++p) CHECK(layer.contains(p) == (model.count(p) == 1));
  layer.theta[5] = -1.0f;  // went dormant in this step: no longer active, though its slot is there
  CHECK(!layer.contains(picks[5]) && layer.contains(picks[4]) && layer.contains(picks[6]));
}

TEST(regrowth_in_a_nearly_full_store_may_pick_dying_positions) {
  // 60 of 64 positions active, 3 of them dying: the dormant ones are enumerated (the layer is
  // over half full), and the 4 free plus 3 dying positions are exactly the candidates.
  SparseStore layer(8, 8, 0, 5, 60);
  std::vector<uint64_t> active;
  for (uint64_t p = 0; p < 64; ++p)
    if (p % 16 != 3) active.push_back(p);
  layer.assign(active, std::vector<float>(active.size(), 1.0f));
  const std::vector<uint32_t> dying{0, 10, 59};
  std::set<uint64_t> candidates{3, 19, 35, 51};
  for (uint32_t k : dying) {
    layer.theta[k] = -1.0f;
    candidates.insert(active[k]);
  }
  std::set<uint64_t> seen;
  std::vector<uint64_t> picks;
  for (uint64_t t = 0; t < 200; ++t) {
    sample_dormant(structure_of(layer), dying, 5, RngStream{3, t, 0, Purpose::kRewire}, picks);
    CHECK(picks.size() == 5 && std::is_sorted(picks.begin(), picks.end()));
    for (uint64_t p : picks) CHECK(candidates.count(p) == 1);
    seen.insert(picks.begin(), picks.end());
  }
  CHECK(seen == candidates);
  SparseStore copy = layer;
  copy.rewire(dying, picks);
  CHECK(copy.check().empty() && copy.active() == 62);
}

TEST(check_reports_broken_invariants) {
  SparseStore layer(5, 4, 0, 3, 4);
  layer.assign({1, 2, 7, 19}, {0.1f, 0.2f, 0.3f, 0.4f});
  CHECK(layer.check().empty());
  SparseStore duplicate = layer;
  duplicate.source[1] = duplicate.source[0];
  CHECK(!duplicate.check().empty());
  SparseStore dormant = layer;
  dormant.theta[2] = -0.1f;
  CHECK(!dormant.check().empty());
  SparseStore flipped = layer;
  flipped.source[3] ^= kSignBit;
  CHECK(!flipped.check().empty());
  SparseStore out_of_range = layer;
  out_of_range.source[3] = (out_of_range.source[3] & kSignBit) | 9u;
  CHECK(!out_of_range.check().empty());
}
