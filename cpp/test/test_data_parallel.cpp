// The packing of the data-parallel gradient exchange: buffers of several processes, summed as the
// all-reduce sums them, unpack to the mean over the global batch computed in float64.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "check.hpp"
#include "distributed/data_parallel_exchange.hpp"

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
