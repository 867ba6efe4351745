// Regrowth: uniform over dormant positions, the strict bound after every step, determinism.
#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "check.hpp"
#include "mlp.hpp"
#include "network.hpp"
#include "random.hpp"
#include "rules/deep_r_structure.hpp"
#include "thread_pool.hpp"
#include "training.hpp"

using namespace deepr;
using deepr_test::MlpLayer;
using deepr_test::mlp_layers;

namespace {

// Pearson's statistic of observed counts against equal expectations.
double chi_square(const std::vector<double>& counts) {
  double total = 0;
  for (double c : counts) total += c;
  const double expected = total / counts.size();
  double chi2 = 0;
  for (double c : counts) chi2 += (c - expected) * (c - expected) / expected;
  return chi2;
}

// How often each dormant position of a layer with the given active set is picked.
std::vector<double> pick_counts(const std::vector<uint64_t>& active, uint64_t pick, int trials, std::vector<uint64_t>& dormant) {
  SparseStore layer(8, 8, 0, 1, active.size());
  layer.assign(active, std::vector<float>(active.size(), 1.0f));
  dormant.clear();
  for (uint64_t p = 0; p < 64; ++p)
    if (!layer.contains(p)) dormant.push_back(p);
  std::vector<double> counts(64, 0);
  std::vector<uint64_t> picks;
  for (int t = 0; t < trials; ++t) {
    sample_dormant(structure_of(layer), {}, pick, RngStream{9, uint64_t(t), 0, Purpose::kRewire}, picks);
    CHECK(picks.size() == pick && std::is_sorted(picks.begin(), picks.end()));
    for (uint64_t p : picks) {
      CHECK(!layer.contains(p));
      counts[p] += 1;
    }
  }
  std::vector<double> dormant_counts;
  for (uint64_t p : dormant) dormant_counts.push_back(counts[p]);
  return dormant_counts;
}

}  // namespace

// Each pick's place as rewire_slots takes it: its row, and the first slot of that row whose input
// is not below the pick's (std::lower_bound over the row's inputs).
void check_places(const SparseStore& layer, const std::vector<uint64_t>& picks, const std::vector<uint64_t>& places) {
  CHECK(places.size() == picks.size());
  for (size_t i = 0; i < picks.size() && i < places.size(); ++i) {
    const uint32_t out = uint32_t(picks[i] / layer.n_in), in = uint32_t(picks[i] % layer.n_in);
    const auto row = layer.source.begin() + layer.row_start[out], row_end = layer.source.begin() + layer.row_start[out + 1];
    const auto at = std::lower_bound(row, row_end, in, [](uint32_t s, uint32_t i) { return (s & kIndexMask) < i; });
    CHECK(places[i] == born_place(out, uint32_t(at - layer.source.begin())));
  }
}

// sample_dormant sorts each round's draws by rank up to 64 and merges blocks of 64 beyond: at every
// count around those sizes it gives what the draws give one at a time, kept in a std::set, and
// each pick's place in the store when asked.
TEST(dormant_picks_match_one_draw_at_a_time) {
  const uint32_t n_in = 200, n_out = 100;
  std::vector<uint64_t> active;
  for (uint64_t p = 5; p < uint64_t(n_in) * n_out; p += 47) active.push_back(p);
  SparseStore layer(n_in, n_out, 0, 1, active.size());
  layer.assign(active, std::vector<float>(active.size(), 1.0f));
  std::vector<uint64_t> picks;
  for (uint64_t count : {1, 2, 63, 64, 65, 100, 128, 129, 200, 257, 1000, 3000}) {
    const RngStream stream{3, count, 0, Purpose::kRewire};
    sample_dormant(structure_of(layer), {}, count, stream, picks);
    std::set<uint64_t> expected;
    UniformIntegers uniform(stream);
    while (expected.size() < count) {
      std::vector<uint64_t> round(count - expected.size());
      for (uint64_t& p : round) p = uniform.below(uint64_t(n_in) * n_out);
      for (uint64_t p : round)
        if (!layer.contains(p)) expected.insert(p);
    }
    CHECK(picks == std::vector<uint64_t>(expected.begin(), expected.end()));
    std::vector<uint64_t> with_places, places;
    sample_dormant(structure_of(layer), {}, count, stream, with_places, &places);
    CHECK(with_places == picks);
    check_places(layer, with_places, places);
  }
}

// The places of picks in a store more than half full (the path that enumerates the dormant
// positions), and of dying positions picked again.
TEST(dormant_picks_carry_their_places_on_both_paths) {
  SparseStore layer(20, 10, 0, 1, 120);
  std::vector<uint64_t> active;
  for (uint64_t p = 0; p < 200; ++p)
    if (p % 5 != 0) active.push_back(p);  // 160 of 200 taken
  layer.assign(active, std::vector<float>(active.size(), 1.0f));
  std::vector<uint32_t> dying;
  for (uint32_t k = 0; k < layer.theta.size(); k += 3) dying.push_back(k);  // 54 slots go dormant
  std::vector<uint64_t> picks, places;
  uint64_t picked_dying = 0;
  for (uint64_t round = 0; round < 20; ++round) {
    sample_dormant(structure_of(layer), dying, 60, RngStream{4, round, 0, Purpose::kRewire}, picks, &places);
    CHECK(picks.size() == 60);
    check_places(layer, picks, places);
    for (uint64_t p : picks) picked_dying += layer.contains(p);
  }
  CHECK(picked_dying > 0);
}

TEST(reactivation_is_uniform_over_dormant_positions_sparse_path) {
  std::vector<uint64_t> active;
  for (uint64_t p = 0; p < 64; p += 3) active.push_back(p);  // 22 active, 42 dormant
  std::vector<uint64_t> dormant;
  const std::vector<double> counts = pick_counts(active, 2, 21000, dormant);
  CHECK(dormant.size() == 42);
  // 41 degrees of freedom: 0.999 quantile 74.7. Picks without replacement only lower the spread.
  CHECK(chi_square(counts) < 74.7);
}

TEST(reactivation_is_uniform_over_dormant_positions_dense_path) {
  std::vector<uint64_t> active;
  for (uint64_t p = 0; p < 64; ++p)
    if (p % 5 != 0) active.push_back(p);  // 51 active, 13 dormant: the enumeration path
  std::vector<uint64_t> dormant;
  const std::vector<double> counts = pick_counts(active, 3, 13000, dormant);
  CHECK(dormant.size() == 13);
  CHECK(chi_square(counts) < 32.9);  // 12 degrees of freedom, 0.999 quantile
}

TEST(global_deficit_is_shared_as_documented) {
  const std::vector<uint64_t> budgets{1, 2, 7};
  std::vector<SparseStore> layers;
  for (uint32_t l = 0; l < 3; ++l) layers.emplace_back(100, 100, l, 1, budgets[l]);
  const auto structures = [&] { return std::vector<StoreStructure>{structure_of(layers[0]), structure_of(layers[1]), structure_of(layers[2])}; };
  const std::vector<uint64_t> by_budget = share_deficit(10000, structures(), {0, 0, 0}, GlobalShare::kByBudget, RngStream{1, 0, 0, Purpose::kRewireShare});
  CHECK(by_budget[0] + by_budget[1] + by_budget[2] == 10000);
  CHECK(chi_square({by_budget[0] / 1.0, by_budget[1] / 2.0, by_budget[2] / 7.0}) * 1.0 < 60.0);
  CHECK_NEAR(by_budget[2] / 10000.0, 0.7, 0.02);
  CHECK_NEAR(by_budget[0] / 10000.0, 0.1, 0.015);
  // By dormant positions: a full layer gets nothing, the others share by room.
  layers[0].assign([] { std::vector<uint64_t> all(10000); for (uint64_t p = 0; p < 10000; ++p) all[p] = p; return all; }(),
                   std::vector<float>(10000, 1.0f));
  std::vector<uint64_t> half(5000);
  for (uint64_t p = 0; p < 5000; ++p) half[p] = 2 * p;
  layers[1].assign(half, std::vector<float>(5000, 1.0f));
  const std::vector<uint64_t> by_room = share_deficit(3000, structures(), {0, 0, 0}, GlobalShare::kByDormant, RngStream{2, 0, 0, Purpose::kRewireShare});
  CHECK(by_room[0] == 0);
  CHECK(by_room[1] + by_room[2] == 3000);
  CHECK_NEAR(by_room[1] / 3000.0, 5000.0 / 15000.0, 0.03);
}

namespace {

// Trains a small network hard enough that connections die every step, checking the strict bound
// after every single step. Returns the number of connections rewired.
uint64_t train_checked(const deepr_test::MlpConfig& spec, int steps, float momentum) {
  Network net(deepr_test::mlp_spec(spec));
  const uint32_t features = spec.sizes.front(), count = 64, batch = 8;
  std::vector<float> inputs(count * features);
  std::vector<int32_t> labels(count);
  for (uint32_t n = 0; n < count; ++n) {
    labels[n] = int32_t(n % spec.sizes.back());
    for (uint32_t i = 0; i < features; ++i) inputs[n * features + i] = float(std::cos(n * 0.7 + i * 1.1) + (i % 4 == uint32_t(labels[n]) % 4));
  }
  const std::vector<uint32_t> order = epoch_order(spec.seed, 0, count);
  uint64_t rewired = 0;
  StepStats stats;
  for (int s = 0; s < steps; ++s) {
    net.train_step(inputs.data(), labels.data(), order.data() + (s * batch) % count, batch, StepHyper{0.2f, 1e-3f, 0.02f, momentum}, stats);
    const std::string problem = net.check();
    if (!problem.empty()) {
      deepr_test::fail(__FILE__, __LINE__, "after step " + std::to_string(s) + ": " + problem);
      break;
    }
    for (uint64_t r : stats.rewired) rewired += r;
  }
  return rewired;
}

// Every layer's theta and slot words in one vector, for comparing whole networks bit for bit.
std::vector<float> flat_state(const Network& net) {
  std::vector<float> state;
  for (const MlpLayer& layer : mlp_layers(net)) {
    state.insert(state.end(), layer.theta.begin(), layer.theta.end());
    for (uint32_t s : layer.source) state.push_back(float(s));
  }
  return state;
}

}  // namespace

TEST(strict_bound_holds_after_every_step_per_layer_budget) {
  const uint64_t rewired = train_checked({{20, 16, 12, 4}, {40, 60, 40}, true, false, false, GlobalShare::kByBudget, 3}, 3000, 0.0f);
  CHECK(rewired > 3000);
}

TEST(strict_bound_holds_after_every_step_global_budget_with_momentum) {
  CHECK(train_checked({{20, 16, 12, 4}, {40, 60, 40}, false, true, true, GlobalShare::kByBudget, 4}, 3000, 0.9f) > 3000);
  CHECK(train_checked({{20, 16, 12, 4}, {40, 60, 40}, true, false, true, GlobalShare::kByDormant, 5}, 3000, 0.0f) > 3000);
}

TEST(strict_bound_holds_on_a_full_layer) {
  // K = in x out: every connection that dies must be the one that comes back.
  CHECK(train_checked({{6, 5, 3}, {30, 15}, false, false, false, GlobalShare::kByBudget, 6}, 2000, 0.0f) > 100);
}

TEST(seeded_training_is_bit_identical) {
  auto run = [](uint64_t seed) {
    Network net(deepr_test::mlp_spec({16, 12, 3}, {50, 20}, true, true, false, GlobalShare::kByBudget, seed));
    std::vector<float> inputs(40 * 16);
    std::vector<int32_t> labels(40);
    for (size_t n = 0; n < inputs.size(); ++n) inputs[n] = float(std::sin(n * 0.37));
    for (size_t n = 0; n < labels.size(); ++n) labels[n] = int32_t(n % 3);
    const std::vector<uint32_t> order = epoch_order(seed, 0, 40);
    ChunkStats stats;
    train_batches(net, DataView{inputs.data(), labels.data(), 40}, order, 4, 0, 10, StepHyper{0.3f, 1e-4f, 0.01f, 0.5f}, true, stats);
    return flat_state(net);
  };
  CHECK(run(21) == run(21));
  CHECK(run(21) != run(22));
}

TEST(results_are_bit_identical_for_any_thread_count) {
  auto run = [](unsigned threads) {
    ThreadPool::shared().resize(threads);
    // Large enough that the first layer's sweeps are split into parts.
    Network net(deepr_test::mlp_spec({300, 400, 10}, {60000, 800}, true, true, false, GlobalShare::kByBudget, 31));
    std::vector<float> inputs(64 * 300);
    std::vector<int32_t> labels(64);
    for (size_t n = 0; n < inputs.size(); ++n) inputs[n] = float(std::sin(n * 0.013));
    for (size_t n = 0; n < labels.size(); ++n) labels[n] = int32_t(n % 10);
    const std::vector<uint32_t> order = epoch_order(31, 0, 64);
    ChunkStats stats;
    train_batches(net, DataView{inputs.data(), labels.data(), 64}, order, 32, 0, 2, StepHyper{0.5f, 1e-3f, 0.05f, 0.5f}, true, stats);
    return flat_state(net);
  };
  const unsigned before = ThreadPool::shared().size();
  const std::vector<float> one = run(1), two = run(2), four = run(4);
  ThreadPool::shared().resize(before);
  CHECK(one == two);
  CHECK(one == four);
}
