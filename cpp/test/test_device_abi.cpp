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
#include "mlp.hpp"
#include "network.hpp"
#include "sparse_rewire.hpp"

using namespace deepr;
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

// One sparse_linear layer held by the device, and the host's copy of its weight store's structure.
struct DeviceLayer {
  deepr_sparse_view weight{};   // device buffers of `capacity` slots
  deepr_dense_view bias{};      // size 0: no bias
  uint32_t capacity = 0;
  uint64_t budget = 0;
  float* theta_gradient = nullptr;  // capacity slots
  float* bias_gradient = nullptr;
  std::vector<uint32_t> row_start, source;  // the host's copy of the structure
  std::vector<uint32_t> dying;              // the short list sparse_update returned
};

// The MLP on the device, its steps made of table calls only.
class DeviceMlp {
 public:
  DeviceMlp(const Network& start, const std::vector<float>& inputs, uint32_t max_batch, bool momentum, bool global,
            GlobalShare share)
      : seed_(start.spec().seed), momentum_(momentum), structure_(global, share) {
    ok(nullptr, cpu().open(0, &context_));
    inputs_ = upload(inputs);
    const uint32_t max_stride = (max_batch + 15) / 16 * 16;
    rows_ = alloc<uint32_t>(max_batch);
    labels_ = alloc<int32_t>(max_batch);
    activations_.push_back(alloc<float>(size_t(start.input_size()) * max_stride));
    gradients_.push_back(alloc<float>(size_t(start.input_size()) * max_stride));
    for (const MlpLayer& l : mlp_layers(start)) {
      DeviceLayer d;
      d.capacity = uint32_t(l.active());
      d.budget = l.weight.budget;
      d.row_start = l.row_start;
      d.source = l.source;
      d.weight = {l.n_in, l.n_out, l.index, d.capacity, upload(l.row_start), upload(l.source), upload(l.theta), 0, {}};
      if (momentum_) d.weight.state[d.weight.states++] = upload(l.velocity);
      d.theta_gradient = alloc<float>(d.capacity);
      if (!l.bias.empty()) {
        d.bias = {l.n_out, upload(l.bias), 0, {}};
        if (momentum_) d.bias.state[d.bias.states++] = upload(l.bias_velocity);
        d.bias_gradient = alloc<float>(l.n_out);
      }
      d.dying.resize(d.capacity);
      activations_.push_back(alloc<float>(size_t(l.n_out) * max_stride));
      gradients_.push_back(alloc<float>(size_t(l.n_out) * max_stride));
      layers_.push_back(std::move(d));
    }
  }
  ~DeviceMlp() { cpu().close(context_); }
  DeviceMlp(const DeviceMlp&) = delete;
  DeviceMlp& operator=(const DeviceMlp&) = delete;

  // One training step on samples `rows`: what Network::train_step does, as device calls.
  void step(const std::vector<uint32_t>& rows, const std::vector<int32_t>& all_labels, const StepHyper& h,
            double& loss_sum, std::vector<uint64_t>& rewired) {
    const deepr_device& dev = cpu();
    const uint32_t batch = uint32_t(rows.size()), stride = (batch + 15) / 16 * 16, n = uint32_t(layers_.size());
    std::vector<int32_t> labels(batch);
    for (uint32_t b = 0; b < batch; ++b) labels[b] = all_labels[rows[b]];
    ok(context_, dev.write(context_, rows_, rows.data(), batch * sizeof(uint32_t)));
    ok(context_, dev.write(context_, labels_, labels.data(), batch * sizeof(int32_t)));
    ok(context_, dev.gather_feature_major(context_, inputs_, kSizes.front(), rows_, 0, batch, stride, activations_[0]));
    for (uint32_t l = 0; l < n; ++l)
      ok(context_, dev.sparse_forward(context_, &layers_[l].weight, &layers_[l].bias, activations_[l], activations_[l + 1],
                                      stride, l + 1 < n));
    uint32_t correct = 0;
    ok(context_, dev.softmax_cross_entropy(context_, activations_[n], labels_, kSizes.back(), batch, stride, gradients_[n],
                                           &loss_sum, &correct));

    std::vector<std::vector<uint32_t>> dying(n);
    for (uint32_t l = n; l-- > 0;) {
      DeviceLayer& d = layers_[l];
      const deepr_update u{momentum_ ? DEEPR_OPTIMISER_MOMENTUM : DEEPR_OPTIMISER_SGD, DEEPR_PRIOR_DEEP_R, h.lr, h.alpha,
                           h.noise_std, h.momentum, seed_, step_, d.weight.id};
      float* dx = l == 0 ? nullptr : gradients_[l];
      ok(context_, dev.sparse_backward(context_, &d.weight, activations_[l], gradients_[l + 1], dx, stride, d.theta_gradient));
      if (dx) ok(context_, dev.relu_backward(context_, activations_[l], dx, dx, uint64_t(d.weight.n_in) * stride));
      uint32_t died = 0;
      ok(context_, dev.sparse_update(context_, &d.weight, d.theta_gradient, &u, d.dying.data(), d.capacity, &died));
      dying[l].assign(d.dying.begin(), d.dying.begin() + died);
      if (d.bias.size == 0) continue;
      ok(context_, dev.bias_backward(context_, gradients_[l + 1], d.bias.size, stride, d.bias_gradient));
      ok(context_, dev.dense_update(context_, &d.bias, d.bias_gradient, &u));
    }

    // The host decides regrowth from its copies of the structure and the dying lists alone.
    std::vector<StoreStructure> structures;
    for (const DeviceLayer& d : layers_)
      structures.push_back({d.weight.n_in, d.weight.n_out, d.weight.id, d.budget, d.weight.slots, d.row_start.data(),
                            d.source.data()});
    std::vector<std::vector<uint64_t>> born;
    structure_.plan(structures, dying, seed_, step_, born);
    rewired.assign(n, 0);
    for (uint32_t l = 0; l < n; ++l) {
      DeviceLayer& d = layers_[l];
      const uint32_t slots = d.weight.slots, after = uint32_t(slots - dying[l].size() + born[l].size());
      if (after > d.capacity) grow(d, after + after / 2);
      ok(context_, dev.rewire(context_, &d.weight, d.capacity, seed_, dying[l].data(), uint32_t(dying[l].size()),
                              born[l].data(), uint32_t(born[l].size())));
      d.source.resize(std::max(slots, after));
      const SparseView host_copy{d.weight.n_in, d.weight.n_out, d.weight.id, slots, d.row_start.data(), d.source.data(),
                                 nullptr, 0, {}};
      CHECK(rewire_slots(host_copy, seed_, dying[l].data(), uint32_t(dying[l].size()), born[l].data(),
                         uint32_t(born[l].size()), scratch_) == after);
      d.source.resize(after);
      rewired[l] = born[l].size();
    }
    ++step_;
  }

  // Every parameter, state value, slot and the host's copies of the structure equal the network's.
  bool same_as(const Network& net) {
    const std::vector<MlpLayer> expected = mlp_layers(net);
    for (size_t l = 0; l < layers_.size(); ++l) {
      const DeviceLayer& d = layers_[l];
      const MlpLayer& e = expected[l];
      if (d.weight.slots != e.active() || d.row_start != e.row_start || d.source != e.source) return false;
      if (download(d.weight.row_start, d.row_start.size()) != e.row_start ||
          download(d.weight.source, d.weight.slots) != e.source || !same_bits(download(d.weight.theta, d.weight.slots), e.theta))
        return false;
      if (momentum_ && !same_bits(download(d.weight.state[0], d.weight.slots), e.velocity)) return false;
      if (d.bias.size && !same_bits(download(d.bias.value, d.bias.size), e.bias)) return false;
      if (d.bias.size && momentum_ && !same_bits(download(d.bias.state[0], d.bias.size), e.bias_velocity)) return false;
    }
    return true;
  }

  uint32_t grown() const { return grown_; }

 private:
  template <class T>
  T* alloc(size_t count) {
    void* p = nullptr;
    ok(context_, cpu().alloc(context_, std::max<size_t>(count, 1) * sizeof(T), &p));
    return static_cast<T*>(p);
  }
  template <class T>
  T* upload(const std::vector<T>& host) {
    T* p = alloc<T>(host.size());
    ok(context_, cpu().write(context_, p, host.data(), host.size() * sizeof(T)));
    return p;
  }
  template <class T>
  std::vector<T> download(const T* device, size_t count) {
    std::vector<T> host(count);
    ok(context_, cpu().read(context_, host.data(), device, count * sizeof(T)));
    return host;
  }
  static bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  }
  // The host grows a store's slot buffers: new ones, the slots copied over, the old ones released.
  void grow(DeviceLayer& d, uint32_t capacity) {
    const auto moved = [&](auto* old) {
      auto* bigger = alloc<std::remove_const_t<std::remove_pointer_t<decltype(old)>>>(capacity);
      ok(context_, cpu().copy(context_, bigger, old, size_t(d.weight.slots) * sizeof(*old)));
      cpu().release(context_, const_cast<void*>(static_cast<const void*>(old)));
      return bigger;
    };
    d.weight.source = moved(d.weight.source);
    d.weight.theta = moved(d.weight.theta);
    for (uint32_t s = 0; s < d.weight.states; ++s) d.weight.state[s] = moved(d.weight.state[s]);
    cpu().release(context_, d.theta_gradient);
    d.theta_gradient = alloc<float>(capacity);
    d.dying.resize(capacity);
    d.capacity = capacity;
    ++grown_;
  }

  deepr_device_context* context_ = nullptr;
  uint64_t seed_, step_ = 0;
  bool momentum_;
  DeepRStructure structure_;
  RewireScratch scratch_;
  float* inputs_ = nullptr;
  uint32_t* rows_ = nullptr;
  int32_t* labels_ = nullptr;
  std::vector<float*> activations_, gradients_;  // [0]: the input batch; [l + 1]: layer l's output
  std::vector<DeviceLayer> layers_;
  uint32_t grown_ = 0;
};

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
    DeviceMlp device(net, inputs, c.batch, c.momentum, c.global, c.share);
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
