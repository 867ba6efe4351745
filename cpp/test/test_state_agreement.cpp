// The check that data-parallel processes hold the same network: the state hash against changes of
// one bit, and the exchange against a stand-in for a second process whose state is the same or not.
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "counter_data.hpp"
#include "distributed/data_parallel_exchange.hpp"
#include "distributed/state_agreement.hpp"
#include "mlp.hpp"

using namespace deepr;

namespace {

constexpr uint32_t kSamples = 200, kBatch = 16;
const StepHyper kHyper{0.05f, 0.02f, 0.003f, 0.0f};

NetworkSpec spec() { return deepr_test::mlp_spec({24, 20, 5}, {96, 40}, true, true, false, GlobalShare::kByBudget, 3); }

// Process 0 of two, where process 1 sends the same gradients and loss as this one (the sum is
// twice this process's buffer) and `other_hash` as its state hash when a hash is gathered.
class SecondProcess final : public Collective {
 public:
  SecondProcess(size_t gradient_floats, uint64_t other_hash) : gradient_floats_(gradient_floats), other_hash_(other_hash) {}
  uint32_t rank() const override { return 0; }
  uint32_t ranks() const override { return 2; }
  void sum(float* values, size_t count) override {
    const size_t shared = gradient_floats_ + 4;  // the gradients, then the loss fields
    for (size_t n = 0; n < shared; ++n) values[n] *= 2;
    if (count == shared) return;
    std::vector<float> other(2 * kHashSlots);
    pack_state_hash(other_hash_, 1, 2, other.data());
    for (size_t n = 0; n < other.size(); ++n) values[shared + n] += other[n];
    ++gathered;
  }
  uint32_t gathered = 0;

 private:
  size_t gradient_floats_;
  uint64_t other_hash_;
};

size_t gradient_floats(const Network& net) {
  size_t count = 0;
  for (const auto& layer : net.layers())
    for (const StoreRef& s : layer->stores()) count += s.sparse ? s.sparse->active() : s.dense->value.size();
  return count;
}

void step(Network& net, const deepr_test::CounterData& data, StepStats& stats) {
  const std::vector<uint32_t> rows = deepr_test::walk_rows(uint32_t(net.step()), kBatch, kSamples);
  net.train_step(data.inputs.data(), data.labels.data(), rows.data(), kBatch, kHyper, stats);
}

}  // namespace

TEST(the_state_hash_sees_one_bit_of_any_store) {
  const deepr_test::CounterData data = deepr_test::counter_data(kSamples, 24, 5);
  Network a(spec()), b(spec());
  CHECK(state_hash(a) == state_hash(b));
  StepStats stats;
  step(a, data, stats);
  CHECK(state_hash(a) != state_hash(b));
  step(b, data, stats);
  CHECK(state_hash(a) == state_hash(b));
  // The last bit of one theta, of one bias, of one velocity; the step count.
  const auto flipped = [&](float& value) {
    const uint64_t before = state_hash(a);
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    bits ^= 1;
    std::memcpy(&value, &bits, 4);
    const bool seen = state_hash(a) != before;
    bits ^= 1;
    std::memcpy(&value, &bits, 4);
    return seen && state_hash(a) == before;
  };
  SparseStore& weight = *a.sparse_stores()[1];
  CHECK(flipped(weight.theta[7]));
  CHECK(flipped(weight.states[0].values[3]));
  CHECK(flipped(a.layers()[0]->stores()[1].dense->value[2]));
  a.set_step(a.step() + 1);
  CHECK(state_hash(a) != state_hash(b));
}

TEST(processes_that_agree_train_on_as_one) {
  // The stand-in sends this process's own gradients: the sum over 2 x 16 rows is the same mean, so
  // the network trains bit for bit as one without an exchange, with a hash gathered every 3 steps.
  const deepr_test::CounterData data = deepr_test::counter_data(kSamples, 24, 5);
  Network alone(spec()), joined(spec());
  SecondProcess second(gradient_floats(joined), 0);
  bool hashed = false;
  StepStats stats;
  for (uint32_t s = 0; s < 12; ++s) {
    // The other process's state is this one's; a gradient count that changed with rewiring
    // resizes the stand-in's share.
    second = SecondProcess(gradient_floats(joined), state_hash(joined));
    joined.set_gradient_exchange(data_parallel_exchange(second, joined, 3));
    step(alone, data, stats);
    step(joined, data, stats);
    hashed |= second.gathered > 0;
  }
  CHECK(hashed);
  CHECK(state_hash(alone) == state_hash(joined));
}

TEST(processes_that_disagree_stop_before_the_update) {
  const deepr_test::CounterData data = deepr_test::counter_data(kSamples, 24, 5);
  Network net(spec());
  StepStats stats;
  step(net, data, stats);
  step(net, data, stats);  // at step 2, a multiple of agree_every
  SecondProcess second(gradient_floats(net), state_hash(net) ^ 1);
  net.set_gradient_exchange(data_parallel_exchange(second, net, 2));
  const uint64_t before = state_hash(net);
  std::string message;
  try {
    step(net, data, stats);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  CHECK(message.find("stopped at step 2: the state of process 1 differs from process 0's") != std::string::npos);
  CHECK(state_hash(net) == before);
}

TEST(the_disagreement_names_every_differing_process) {
  std::vector<float> slots(4 * kHashSlots, 0.0f), part(4 * kHashSlots);
  const uint64_t hashes[] = {0x0123456789abcdefull, 0x0123456789abcdefull, 0x0123456789abcdeeull, 0xf123456789abcdefull};
  for (uint32_t r = 0; r < 4; ++r) {
    pack_state_hash(hashes[r], r, 4, part.data());
    for (size_t n = 0; n < slots.size(); ++n) slots[n] += part[n];
  }
  CHECK(state_disagreement(slots.data(), 4) == "the state of processes 2, 3 differs from process 0's");
  std::vector<float> same(2 * kHashSlots, 0.0f);
  for (uint32_t r = 0; r < 2; ++r) {
    pack_state_hash(hashes[0], r, 2, part.data());
    for (size_t n = 0; n < same.size(); ++n) same[n] += part[n];
  }
  CHECK(state_disagreement(same.data(), 2).empty());
}
