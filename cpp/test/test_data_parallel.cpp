// The packing of the data-parallel gradient exchange: buffers of several processes, summed as the
// all-reduce sums them, unpack to the mean over the global batch computed in float64; and the
// meter of what the exchange all-reduces.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "check.hpp"
#include "counter_data.hpp"
#include "distributed/data_parallel_exchange.hpp"
#include "distributed/state_agreement.hpp"
#include "mlp.hpp"

using namespace deepr;

namespace {

// Two layers with stores (sizes 5 and 3 + 2) around one without, values from the process index.
std::vector<LayerGradients> gradients_of(uint32_t process) {
  std::vector<LayerGradients> layers(3);
  layers[0].stores = {std::vector<float>(5)};
  layers[2].stores = {std::vector<float>(3), std::vector<float>(2)};
  float v = 0.37f * float(process + 1);
  for (LayerGradients& layer : layers)
    for (std::vector<float>& store : layer.stores)
      for (float& g : store) g = (v = -v * 1.37f + 0.11f);
  return layers;
}

// What the all-reduce leaves: the element-wise sum of every process's buffer.
std::vector<float> summed(const std::vector<std::vector<float>>& buffers) {
  std::vector<float> sum(buffers[0].size(), 0.0f);
  for (const std::vector<float>& b : buffers)
    for (size_t n = 0; n < b.size(); ++n) sum[n] += b[n];
  return sum;
}

}  // namespace

TEST(unpacked_gradients_are_the_mean_over_the_global_batch) {
  // Unequal shares (a batch of 10 over 3 processes: 3, 3, 4 rows): each process's mean counts
  // with its rows, as one process with the whole batch would weigh them.
  const std::vector<uint32_t> rows{3, 3, 4};
  const std::vector<double> loss{1.5, 2.25, 4.0};
  const std::vector<uint32_t> correct{1, 2, 4};
  std::vector<std::vector<float>> buffers(rows.size());
  for (uint32_t p = 0; p < rows.size(); ++p)
    pack_gradients(gradients_of(p), BatchLoss{LossResult{loss[p], correct[p]}, rows[p]}, buffers[p]);
  std::vector<LayerGradients> result = gradients_of(0);
  BatchLoss combined{LossResult{loss[0], correct[0]}, rows[0]};
  unpack_gradients(summed(buffers), result, combined);

  CHECK(combined.samples == 10);
  CHECK(combined.loss.correct == 7);
  CHECK(std::abs(combined.loss.loss_sum - 7.75) < 1e-6);
  for (size_t i = 0; i < result.size(); ++i)
    for (size_t s = 0; s < result[i].stores.size(); ++s)
      for (size_t k = 0; k < result[i].stores[s].size(); ++k) {
        double mean = 0;
        for (uint32_t p = 0; p < rows.size(); ++p) mean += double(gradients_of(p)[i].stores[s][k]) * rows[p];
        mean /= 10;
        CHECK(std::abs(result[i].stores[s][k] - mean) <= 1e-6 * std::max(1.0, std::abs(mean)));
      }
}

TEST(equal_power_of_two_shares_unpack_bit_for_bit) {
  // Rows 16 + 16: g * 16 and / 32 only change the exponent, so one process's mean comes back as
  // its own bits when the other's is the same.
  std::vector<std::vector<float>> buffers(2);
  for (auto& b : buffers) pack_gradients(gradients_of(1), BatchLoss{LossResult{3.0, 5}, 16}, b);
  std::vector<LayerGradients> result = gradients_of(0);
  BatchLoss combined;
  unpack_gradients(summed(buffers), result, combined);
  const std::vector<LayerGradients> expected = gradients_of(1);
  for (size_t i = 0; i < result.size(); ++i) CHECK(result[i].stores == expected[i].stores);
  CHECK(combined.samples == 32 && combined.loss.correct == 10 && combined.loss.loss_sum == 6.0);
}

TEST(a_loss_that_is_not_finite_on_one_process_is_not_finite_on_all) {
  const double inf = std::numeric_limits<double>::infinity();
  for (const double bad : {std::numeric_limits<double>::quiet_NaN(), inf, -inf}) {
    std::vector<std::vector<float>> buffers(3);
    for (uint32_t p = 0; p < 3; ++p)
      pack_gradients(gradients_of(p), BatchLoss{LossResult{p == 1 ? bad : 1.0, 0}, 4}, buffers[p]);
    std::vector<LayerGradients> result = gradients_of(0);
    BatchLoss combined;
    unpack_gradients(summed(buffers), result, combined);
    CHECK(std::isnan(combined.loss.loss_sum));
    CHECK(combined.samples == 12);
  }
}

TEST(a_buffer_of_another_size_is_refused) {
  std::vector<float> buffer;
  pack_gradients(gradients_of(0), BatchLoss{LossResult{1.0, 0}, 4}, buffer);
  buffer.pop_back();
  std::vector<LayerGradients> layers = gradients_of(0);
  BatchLoss loss;
  bool refused = false;
  try {
    unpack_gradients(buffer, layers, loss);
  } catch (const std::logic_error&) {
    refused = true;
  }
  CHECK(refused);
}

namespace {

// Process 0 of two whose partner holds the same network and sends the same gradients (the sum
// doubles them, and adds the partner's state hash when hashes are gathered); it records every
// all-reduce's length and takes kAllReduceDelay over each, as a network would.
class RecordingPartner final : public Collective {
 public:
  RecordingPartner(const Network& net, size_t shared) : net_(net), shared_(shared) {}
  uint32_t rank() const override { return 0; }
  uint32_t ranks() const override { return 2; }
  void sum(float* values, size_t count) override {
    std::this_thread::sleep_for(kAllReduceDelay);
    for (size_t n = 0; n < shared_; ++n) values[n] *= 2;
    if (count > shared_) {
      std::vector<float> partner(count - shared_);
      pack_state_hash(state_hash(net_), 1, 2, partner.data());
      for (size_t n = 0; n < partner.size(); ++n) values[shared_ + n] += partner[n];
    }
    counts.push_back(count);
  }
  static constexpr std::chrono::milliseconds kAllReduceDelay{2};
  std::vector<size_t> counts;

 private:
  const Network& net_;
  size_t shared_;  // the gradients and loss fields
};

}  // namespace

TEST(the_meter_counts_every_all_reduce_its_bytes_and_its_time) {
  // 24-20-5 with biases: per step K = 96 + 40 weights, 20 + 5 biases and the 4 loss fields; every
  // 2nd step (0, 2, 4) the state hash adds kHashSlots per process.
  const deepr_test::CounterData data = deepr_test::counter_data(200, 24, 5);
  Network net(deepr_test::mlp_spec({24, 20, 5}, {96, 40}, true, false, false, GlobalShare::kByBudget, 3));
  const size_t per_step = 96 + 40 + 20 + 5 + 4, hash = 2 * size_t(kHashSlots);
  RecordingPartner partner(net, per_step);
  ExchangeMeter meter;
  net.set_gradient_exchange(data_parallel_exchange(partner, net, 2, &meter));
  StepStats stats;
  const StepHyper hyper{0.05f, 0.02f, 0.003f, 0.0f};
  for (uint32_t s = 0; s < 5; ++s) {
    const std::vector<uint32_t> rows = deepr_test::walk_rows(s, 16, 200);
    net.train_step(data.inputs.data(), data.labels.data(), rows.data(), 16, hyper, stats);
  }
  CHECK(partner.counts == std::vector<size_t>({per_step + hash, per_step, per_step + hash, per_step, per_step + hash}));
  CHECK(meter.all_reduces == 5);
  CHECK(meter.bytes == (5 * per_step + 3 * hash) * sizeof(float));
  CHECK(meter.seconds >= 5 * std::chrono::duration<double>(RecordingPartner::kAllReduceDelay).count());
  CHECK(meter.seconds < 5.0);
}
