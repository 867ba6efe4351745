// The device interface (device/device_abi.h) on the CPU device: today's MLP trained only through the
// table (buffers it allocates, the kernels it runs, the host choosing regrowth from the short dying
// lists and its own copy of each store's structure) against Network::train_step bit for bit, and
// the table's error paths.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "check.hpp"
#include "counter_uniform.hpp"
#include "device/device_abi.h"
#include "device_mlp.hpp"
#include "mlp.hpp"
#include "network.hpp"
#include "sparse_rewire.hpp"

using namespace deepr;
using deepr_test::DeviceMlp;
using deepr_test::mix;
using deepr_test::uniform;
using deepr_test::MlpLayer;
using deepr_test::mlp_layers;

namespace {

const std::vector<uint32_t> kSizes{24, 20, 12, 5};
const std::vector<uint64_t> kBudgets{96, 72, 40};
constexpr uint32_t kSamples = 300, kSteps = 300;
// lr * alpha and the noise are large enough that connections die and regrow in most steps.
constexpr float kLr = 0.05f, kAlpha = 0.02f, kNoiseStd = 0.003f, kMomentum = 0.9f;

const deepr_device& cpu() { return *deepr_cpu_device_table(DEEPR_DEVICE_ABI_VERSION); }

// A call that must succeed; otherwise the test fails with the device's message.
void ok(deepr_device_context* context, deepr_status status) {
  if (status != DEEPR_OK)
    throw std::runtime_error("device call failed (" + std::to_string(status) + "): " + cpu().last_error(context));
}

struct Case {
  uint32_t batch;
  bool bias, momentum, global;
  GlobalShare share;
};

}  // namespace

TEST(device_table_trains_the_mlp_as_network_does_bit_for_bit) {
  std::vector<float> inputs(size_t(kSamples) * kSizes.front());
  std::vector<int32_t> labels(kSamples);
  for (size_t n = 0; n < inputs.size(); ++n) inputs[n] = uniform(n);
  for (uint32_t s = 0; s < kSamples; ++s) labels[s] = int32_t(mix(1000000 + s) % kSizes.back());
  const std::vector<Case> cases{{40, false, false, false, GlobalShare::kByBudget},
                                {70, true, true, false, GlobalShare::kByBudget},
                                {40, true, false, true, GlobalShare::kByBudget},
                                {70, false, true, true, GlobalShare::kByDormant}};
  for (const Case& c : cases) {
    const std::string name = "batch " + std::to_string(c.batch) + (c.bias ? ", biases" : "") +
                             (c.momentum ? ", momentum" : ", sgd") + (c.global ? ", global budget" : ", per-layer budget");
    const NetworkSpec spec = deepr_test::mlp_spec(kSizes, kBudgets, c.bias, c.momentum, c.global, c.share, 11);
    Network net(spec);
    DeviceMlp device(cpu(), 0, net, inputs, c.batch, c.momentum, c.global, c.share);
    const StepHyper hyper{kLr, kAlpha, kNoiseStd, c.momentum ? kMomentum : 0.0f};
    StepStats stats;
    uint64_t regrown = 0;
    for (uint32_t step = 0; step < kSteps; ++step) {
      std::vector<uint32_t> rows(c.batch);
      for (uint32_t b = 0; b < c.batch; ++b) rows[b] = uint32_t((uint64_t(step) * c.batch * 7 + uint64_t(b) * 13) % kSamples);
      double loss_sum = 0;
      std::vector<uint64_t> rewired;
      net.train_step(inputs.data(), labels.data(), rows.data(), c.batch, hyper, stats);
      device.step(rows, labels, hyper, loss_sum, rewired);
      for (uint64_t r : rewired) regrown += r;
      if (loss_sum != stats.loss.loss_sum || rewired != stats.rewired || !device.same_as(net)) {
        deepr_test::fail(__FILE__, __LINE__, name + ": the device differs from the network after step " + std::to_string(step));
        break;
      }
    }
    CHECK(net.check().empty());
    CHECK(regrown > kSteps);  // connections died and regrew throughout
    if (c.global) CHECK(device.grown() > 0);  // a store outgrew its buffers and the host grew them
  }
}

TEST(device_table_is_versioned) {
  CHECK(deepr_cpu_device_table(0) == nullptr);
  CHECK(deepr_cpu_device_table(DEEPR_DEVICE_ABI_VERSION + 1) == nullptr);
  const deepr_device* dev = deepr_cpu_device_table(1);
  CHECK(dev != nullptr && dev->abi_version == DEEPR_DEVICE_ABI_VERSION && dev->struct_size == sizeof(deepr_device));
  CHECK(dev && std::string(dev->name) == "cpu");
  deepr_device_context* context = reinterpret_cast<deepr_device_context*>(&context);
  CHECK(cpu().open(3, &context) == DEEPR_INVALID_ARGUMENT && context == nullptr);
  CHECK(std::string(cpu().last_error(nullptr)).find("ordinal") != std::string::npos);
  CHECK(cpu().open(0, &context) == DEEPR_OK && context != nullptr && std::string(cpu().last_error(nullptr)).empty());
  cpu().close(context);
  uint32_t count = 0;
  CHECK(cpu().device_count(&count) == DEEPR_OK && count == 1);
  char description[32];
  CHECK(cpu().describe(0, description, sizeof description) == DEEPR_OK && std::string(description) == "{\"name\":\"cpu\"}");
  CHECK(cpu().describe(1, description, sizeof description) == DEEPR_INVALID_ARGUMENT);
  CHECK(cpu().describe(0, description, 4) == DEEPR_INVALID_ARGUMENT);
}

TEST(device_table_refuses_bad_arguments_with_a_code_and_a_message) {
  const deepr_device& dev = cpu();
  deepr_device_context* c = nullptr;
  ok(nullptr, dev.open(0, &c));
  const auto refused = [&](deepr_status status, deepr_status expected) {
    CHECK(status == expected);
    CHECK(std::string(dev.last_error(c)).size() > 0);
  };
  void* p = nullptr;
  refused(dev.alloc(c, 0, &p), DEEPR_INVALID_ARGUMENT);
  refused(dev.alloc(c, std::numeric_limits<uint64_t>::max() / 2, &p), DEEPR_OUT_OF_MEMORY);
  CHECK(p == nullptr);
  refused(dev.write(c, nullptr, &p, 8), DEEPR_INVALID_ARGUMENT);
  CHECK(dev.synchronize(c) == DEEPR_OK && std::string(dev.last_error(c)).empty());
  CHECK(dev.alloc(nullptr, 8, &p) == DEEPR_INVALID_ARGUMENT);

  // A 4 x 3 store with slots (0 -> 0), (2 -> 0), (1 -> 2).
  std::vector<uint32_t> row_start{0, 2, 2, 3}, source{0, 2, 1};
  std::vector<float> theta{0.5f, 0.25f, 1.0f}, gradient{0, 0, 0}, x(4 * 16, 1.0f), y(3 * 16);
  deepr_sparse_view w{4, 3, 0, 3, row_start.data(), source.data(), theta.data(), 0, {}};
  refused(dev.sparse_forward(c, &w, nullptr, x.data(), y.data(), 20, 0), DEEPR_INVALID_ARGUMENT);  // stride
  deepr_sparse_view wrong_slots = w;
  wrong_slots.slots = 2;
  refused(dev.sparse_forward(c, &wrong_slots, nullptr, x.data(), y.data(), 16, 0), DEEPR_INVALID_ARGUMENT);
  float bias_value[2] = {0, 0};
  const deepr_dense_view short_bias{2, bias_value, 0, {}};
  refused(dev.sparse_forward(c, &w, &short_bias, x.data(), y.data(), 16, 0), DEEPR_INVALID_ARGUMENT);
  CHECK(dev.sparse_forward(c, &w, nullptr, x.data(), y.data(), 16, 1) == DEEPR_OK);
  CHECK(y[0] == 0.75f && y[16] == 0.0f && y[32] == 1.0f && y[15] == 0.75f);  // no sign bit set: every weight is theta

  uint32_t dying[3], died = 0;
  deepr_update u{DEEPR_OPTIMISER_SGD, DEEPR_PRIOR_DEEP_R, 0.1f, 0.0f, 0.0f, 0.0f, 1, 0, 0};
  u.optimiser = 7;
  refused(dev.sparse_update(c, &w, gradient.data(), &u, dying, 3, &died), DEEPR_INVALID_ARGUMENT);
  u.optimiser = DEEPR_OPTIMISER_MOMENTUM;  // without its velocity array
  refused(dev.sparse_update(c, &w, gradient.data(), &u, dying, 3, &died), DEEPR_INVALID_ARGUMENT);
  u.optimiser = DEEPR_OPTIMISER_SGD;
  refused(dev.sparse_update(c, &w, gradient.data(), &u, dying, 2, &died), DEEPR_INVALID_ARGUMENT);  // list too short
  gradient = {0.0f, -10.0f, std::numeric_limits<float>::quiet_NaN()};
  refused(dev.sparse_update(c, &w, gradient.data(), &u, dying, 3, &died), DEEPR_NON_FINITE);
  gradient = {6.0f, 0.0f, 0.0f};  // theta 0.5 - 0.1 * 6 < 0: slot 0 dies
  theta = {0.5f, 0.25f, 1.0f};
  CHECK(dev.sparse_update(c, &w, gradient.data(), &u, dying, 3, &died) == DEEPR_OK && died == 1 && dying[0] == 0);

  const int32_t bad_label = 3;
  std::vector<float> logits(3 * 16, 0.0f);
  double loss_sum = 0;
  uint32_t correct = 0;
  refused(dev.softmax_cross_entropy(c, logits.data(), &bad_label, 3, 1, 16, nullptr, &loss_sum, &correct),
          DEEPR_INVALID_ARGUMENT);

  // Rewiring: the capacity, the order of the lists, a born position that is still active.
  const uint64_t born_ok[1] = {1}, unsorted[2] = {3, 1}, active[1] = {2 * 4 + 1}, beyond[1] = {12};
  refused(dev.rewire(c, &w, 3, 0, dying, 1, unsorted, 2), DEEPR_INVALID_ARGUMENT);  // also over capacity
  refused(dev.rewire(c, &w, 5, 0, dying, 1, unsorted, 2), DEEPR_INVALID_ARGUMENT);
  refused(dev.rewire(c, &w, 3, 0, dying, 1, active, 1), DEEPR_INVALID_ARGUMENT);
  refused(dev.rewire(c, &w, 3, 0, dying, 1, beyond, 1), DEEPR_INVALID_ARGUMENT);
  const uint32_t out_of_range[1] = {3};
  refused(dev.rewire(c, &w, 3, 0, out_of_range, 1, born_ok, 1), DEEPR_INVALID_ARGUMENT);
  CHECK(w.slots == 3 && row_start == std::vector<uint32_t>({0, 2, 2, 3}));  // nothing changed
  // Position 0 dies, position 1 (input 1 -> output 0) is born: row 0 keeps two slots, in order.
  CHECK(dev.rewire(c, &w, 3, 0, dying, 1, born_ok, 1) == DEEPR_OK);
  CHECK(w.slots == 3 && row_start == std::vector<uint32_t>({0, 2, 2, 3}));
  CHECK((source[0] & ~DEEPR_SIGN_BIT) == 1 && (source[1] & ~DEEPR_SIGN_BIT) == 2 && theta[0] == 0.0f && theta[1] == 0.25f);
  dev.close(c);
}
