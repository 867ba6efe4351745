// The sorted slot structure against a plain std::map model under random removals and inserts.
#include <algorithm>
#include <map>
#include <set>

#include "check.hpp"
#include "random.hpp"
#include "rules/deep_r_structure.hpp"
#include "sparse_store.hpp"

using namespace deepr;

// `rounds` regrowth steps on a store of n_in x n_out: a random one in `dying_one_in` of the slots
// dies, and a random number of positions (more or fewer than died) regrow, so that runs of kept
// slots move both ways by various shifts. `uneven`: the store starts with its first half of rows
// full and one slot in each other row, far from the even rows of a random store.
void rewire_against_a_map_model(uint32_t n_in, uint32_t n_out, uint64_t dying_one_in, uint64_t grow_more, int rounds,
                                bool uneven = false) {
  SparseStore layer(n_in, n_out, 0, 99, 1);
  std::map<uint64_t, float> model;  // position -> theta
  if (uneven) {
    std::vector<uint64_t> positions;
    for (uint32_t out = 0; out < n_out; ++out)
      for (uint32_t in = 0; in < (out < n_out / 2 ? n_in : 1); ++in) positions.push_back(uint64_t(out) * n_in + in);
    std::vector<float> thetas;
    for (uint64_t p : positions) thetas.push_back(model[p] = float(p) + 0.5f);
    layer.assign(positions, thetas);
  }
  keep_states(layer.states, {"first", "second"}, layer.theta.size());  // two per-slot arrays, as Adam's moments
  std::vector<float>&first = layer.states[0].values, &second = layer.states[1].values;
  for (uint32_t out = 0; out < layer.n_out; ++out)
    for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k) {
      first[k] = float(layer.position_of(k, out));
      second[k] = -2.0f * first[k];
    }
  UniformIntegers uniform(RngStream{1, n_in, n_out, Purpose::kRewire});
  uint64_t picked_again = 0;  // new connections at a position that was dying in the same step
  for (int round = 0; round < rounds; ++round) {
    // A random subset goes dormant (theta < 0), as the update would leave it.
    std::vector<uint32_t> dying;
    std::set<uint64_t> dying_positions;
    for (uint32_t out = 0; out < layer.n_out; ++out)
      for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k)
        if (uniform.below(dying_one_in) == 0) {
          dying.push_back(k);
          layer.theta[k] = -1.0f;
          dying_positions.insert(layer.position_of(k, out));
          model.erase(layer.position_of(k, out));
        }
    // Grow a random number of positions (more or fewer than died), then give all slots distinct values.
    const uint64_t grow = std::min<uint64_t>(uniform.below(grow_more) + dying.size() / 2, layer.positions() - model.size());
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

TEST(rewire_keeps_the_store_and_its_state_arrays_equal_to_a_map_model) {
  rewire_against_a_map_model(13, 11, 4, 12, 300);  // short rows and runs; the store fills up
  rewire_against_a_map_model(40, 3, 40, 30, 200);  // rows longer than a vector, long runs
  rewire_against_a_map_model(300, 60, 60, 400, 40);  // a layer at a few %: runs of dozens of slots
  // Rows of very different lengths, as training can leave them: half full, half with one slot.
  rewire_against_a_map_model(64, 64, 8, 40, 30, true);
}

TEST(slot_for_agrees_with_lower_bound_in_every_row) {
  // Rows of every length from 0 to 40 (the short-row path reads 16 slots at once, the longer ones
  // search), the last rows near the end of the slots included.
  UniformIntegers uniform(RngStream{3, 0, 0, Purpose::kRewire});
  for (uint32_t trial = 0; trial < 20; ++trial) {
    SparseStore layer(64, 50, 0, 5, 1);
    std::vector<uint64_t> positions;
    for (uint32_t out = 0; out < layer.n_out; ++out) {
      const uint64_t length = uniform.below(trial % 2 ? 41 : 17);
      std::vector<uint64_t> row;
      const uint32_t empty_row[2] = {0, 0};  // the inputs of one row, drawn from an empty one
      sample_dormant(StoreStructure{64, 1, 0, 1, 0, empty_row, nullptr}, {}, length,
                     RngStream{3, trial, out, Purpose::kInitPositions}, row);
      for (uint64_t in : row) positions.push_back(uint64_t(out) * 64 + in);
    }
    layer.assign(positions, std::vector<float>(positions.size(), 1.0f));
    for (uint32_t out = 0; out < layer.n_out; ++out)
      for (uint32_t in = 0; in < 64; ++in) {
        const uint32_t* begin = layer.source.data() + layer.row_start[out];
        const uint32_t* end = layer.source.data() + layer.row_start[out + 1];
        const uint32_t expected = uint32_t(
            std::lower_bound(begin, end, in, [](uint32_t s, uint32_t i) { return (s & kIndexMask) < i; }) - layer.source.data());
        CHECK(slot_for(layer.row_start.data(), layer.source.data(), uint32_t(layer.active()), out, in) == expected);
      }
  }
}

TEST(position_sign_bits_agree_with_position_is_negative) {
  // Any count (whole batches of 16 and a partial one), positions below and above 2^32.
  std::vector<uint64_t> positions;
  for (uint64_t p = 0; p < 37; ++p) positions.push_back(p * 7919);
  for (uint64_t p = 0; p < 20; ++p) positions.push_back((uint64_t(1) << 40) + p * 104729);
  std::vector<uint32_t> bits(positions.size());
  for (uint32_t count : {0u, 1u, 16u, 17u, uint32_t(positions.size())}) {
    std::fill(bits.begin(), bits.end(), 7u);
    position_sign_bits(0xDEADBEEF12345ull, 3, positions.data(), count, bits.data());
    for (uint32_t n = 0; n < positions.size(); ++n)
      CHECK(bits[n] == (n >= count ? 7u : position_is_negative(0xDEADBEEF12345ull, 3, positions[n]) ? kSignBit : 0u));
  }
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
