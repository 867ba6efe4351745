// The device interface (device/device_abi.h): the production DeviceTrainer training the MLP and a
// small cnn through the table (the CPU device linked in, and the same table loaded from a device library with
// dlopen) against train_batches on the host bit for bit, what it refuses, the loader's reasons,
// and the table's own error paths.
#include <dlfcn.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "conv_specs.hpp"
#include "counter_uniform.hpp"
#include "device/device_abi.h"
#include "device/device_library.hpp"
#include "device/device_trainer.hpp"
#include "device_mlp.hpp"
#include "mlp.hpp"
#include "network.hpp"
#include "non_finite_error.hpp"
#include "training.hpp"

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

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

bool same_states(const StateArrays& a, const StateArrays& b) {
  if (a.size() != b.size()) return false;
  for (size_t s = 0; s < a.size(); ++s)
    if (a[s].name != b[s].name || !same_bits(a[s].values, b[s].values)) return false;
  return true;
}

bool same_stats(const ChunkStats& a, const ChunkStats& b) {
  return same_bits(a.batch_loss, b.batch_loss) && a.batch_correct == b.batch_correct && a.rewired == b.rewired;
}

struct Data {
  std::vector<float> inputs;
  std::vector<int32_t> labels;
  DataView view() const { return DataView{inputs.data(), labels.data(), kSamples}; }
};

Data data() {
  Data d{std::vector<float>(size_t(kSamples) * kSizes.front()), std::vector<int32_t>(kSamples)};
  for (size_t n = 0; n < d.inputs.size(); ++n) d.inputs[n] = uniform(n);
  for (uint32_t s = 0; s < kSamples; ++s) d.labels[s] = int32_t(mix(1000000 + s) % kSizes.back());
  return d;
}

// The test device library (the CPU table exported as a device library), loaded as a GPU library is.
const deepr_device& loaded_cpu() {
  static const DeviceLibrary library = load_device_library(DEEPR_TEST_DEVICE_LIBRARY);
  if (!library.table) throw std::runtime_error("the test device library does not load: " + library.reason);
  return *library.table;
}

// Every store of two networks (theta, structure, state arrays, biases) and their steps are the same bits.
bool same_stores(Network& a, Network& b) {
  if (a.step() != b.step() || a.layers().size() != b.layers().size()) return false;
  for (size_t l = 0; l < a.layers().size(); ++l) {
    const std::vector<StoreRef> x = a.layers()[l]->stores(), y = b.layers()[l]->stores();
    if (x.size() != y.size()) return false;
    for (size_t s = 0; s < x.size(); ++s) {
      if (x[s].sparse && (!y[s].sparse || x[s].sparse->row_start != y[s].sparse->row_start ||
                          x[s].sparse->source != y[s].sparse->source || !same_bits(x[s].sparse->theta, y[s].sparse->theta) ||
                          !same_states(x[s].sparse->states, y[s].sparse->states)))
        return false;
      if (x[s].dense && (!y[s].dense || !same_bits(x[s].dense->value, y[s].dense->value) ||
                         !same_states(x[s].dense->states, y[s].dense->states)))
        return false;
    }
  }
  return true;
}

// The paper's cnn in small on 1 x 12 x 12 images: a 5 x 5 convolution (padding 2), relu, 2 x 2
// pooling, a 3 x 3 convolution of stride 2 (padding 1), relu, overlapping 2 x 2 pooling of stride 1,
// then sparse_linear, relu, sparse_linear and the head.
constexpr uint32_t kSide = 12, kCnnClasses = 5;
NetworkSpec small_cnn(bool bias, bool momentum, bool global, GlobalShare share, uint64_t seed) {
  NetworkSpec spec;
  spec.seed = seed;
  spec.layers = {deepr_test::sparse_conv_spec({1, kSide, kSide, 4, 5, 5, 1, 2}, 30, bias),
                 {"relu", {}, {}},
                 deepr_test::max_pool_spec(4, kSide, kSide, 2, 2),
                 deepr_test::sparse_conv_spec({4, 6, 6, 6, 3, 3, 2, 1}, 60, bias),
                 {"relu", {}, {}},
                 deepr_test::max_pool_spec(6, 3, 3, 2, 1),
                 {"sparse_linear", {{"inputs", 24}, {"outputs", 16}, {"budget", 80}}, {{"bias", bias}}},
                 {"relu", {}, {}},
                 {"sparse_linear", {{"inputs", 16}, {"outputs", kCnnClasses}, {"budget", 30}}, {{"bias", bias}}},
                 {"softmax_cross_entropy", {}, {}}};
  spec.rule.optimiser = momentum ? "momentum" : "sgd";
  spec.rule.budget = global ? "global" : "layer";
  spec.rule.global_share = share == GlobalShare::kByDormant ? "dormant" : "budget";
  return spec;
}

Data cnn_data() {
  Data d{std::vector<float>(size_t(kSamples) * kSide * kSide), std::vector<int32_t>(kSamples)};
  for (size_t n = 0; n < d.inputs.size(); ++n) d.inputs[n] = uniform(7000000 + n);
  for (uint32_t s = 0; s < kSamples; ++s) d.labels[s] = int32_t(mix(2000000 + s) % kCnnClasses);
  return d;
}

struct Case {
  uint32_t batch;
  bool bias, momentum, global;
  GlobalShare share;
  bool loaded;  // through the library loaded with dlopen, else the CPU table linked in
};

// The step's hyper-parameters of a case: SGD, or momentum.
StepHyper sgd_or_momentum(const Case& c) { return StepHyper{kLr, kAlpha, kNoiseStd, c.momentum ? kMomentum : 0.0f}; }

// Trains `spec` for kSteps through the table (DeviceTrainer) into `device_net` and on the host
// (train_batches), in chunks of 1 to 3 batches, the device's invariant checked every 5th chunk; fails
// the test at the first step after which stores or statistics differ, or the device reports noise
// time of its own (it draws the noise itself). Returns the connections regrown per store.
std::vector<uint64_t> train_on_both(const NetworkSpec& spec, Network& device_net, const Data& d, const Case& c,
                                    const StepHyper& hyper, const std::string& name, uint64_t& capacity_growths) {
  Network host(spec);
  CHECK(device_unsupported(host).empty());
  DeviceTrainer trainer(c.loaded ? loaded_cpu() : cpu(), 0);
  const uint64_t per_epoch = (kSamples + c.batch - 1) / c.batch;
  std::vector<uint64_t> regrown(host.sparse_stores().size(), 0);
  bool same = true;
  for (uint64_t epoch = 0, chunk = 0; host.step() < kSteps && same; ++epoch) {
    const std::vector<uint32_t> order = epoch_order(spec.seed, epoch, kSamples);
    for (uint64_t first = 0; first < per_epoch && same; ++chunk) {
      const uint64_t batches = std::min<uint64_t>(1 + chunk % 3, per_epoch - first);
      ChunkStats expected, got;
      train_batches(host, d.view(), order, c.batch, first, batches, hyper, false, expected);
      trainer.train_batches(device_net, d.view(), order, c.batch, first, batches, hyper, chunk % 5 == 0, got);
      for (size_t s = 0; s < got.rewired.size() && s < regrown.size(); ++s) regrown[s] += got.rewired[s];
      same = same_stats(expected, got) && same_stores(host, device_net) && got.noise_seconds == 0;
      if (!same) deepr_test::fail(__FILE__, __LINE__, name + ": the device differs from the host after step " + std::to_string(host.step()));
      first += batches;
    }
  }
  CHECK(device_net.check().empty());
  capacity_growths = trainer.capacity_growths();
  return regrown;
}

}  // namespace

TEST(device_trainer_trains_the_mlp_as_train_batches_does_bit_for_bit) {
  const Data d = data();
  const std::vector<Case> cases{{40, false, false, false, GlobalShare::kByBudget, false},
                                {70, true, true, false, GlobalShare::kByBudget, true},
                                {40, true, false, true, GlobalShare::kByBudget, true},
                                {70, false, true, true, GlobalShare::kByDormant, false}};
  for (const Case& c : cases) {
    const std::string name = "batch " + std::to_string(c.batch) + (c.bias ? ", biases" : "") +
                             (c.momentum ? ", momentum" : ", sgd") + (c.global ? ", global budget" : ", per-layer budget");
    const NetworkSpec spec = deepr_test::mlp_spec(kSizes, kBudgets, c.bias, c.momentum, c.global, c.share, 11);
    Network device_net(spec);
    uint64_t growths = 0, regrown = 0;
    for (uint64_t r : train_on_both(spec, device_net, d, c, sgd_or_momentum(c), name, growths)) regrown += r;
    CHECK(regrown > kSteps);  // connections died and regrew throughout
    if (c.global) CHECK(growths > 0);  // a store outgrew its buffers and the host grew them
  }
}

TEST(device_trainer_trains_a_cnn_as_train_batches_does_bit_for_bit) {
  const Data d = cnn_data();
  const std::vector<Case> cases{{40, true, false, false, GlobalShare::kByBudget, false},
                                {70, false, true, false, GlobalShare::kByBudget, true},
                                {40, true, true, true, GlobalShare::kByDormant, false},
                                {70, true, false, true, GlobalShare::kByBudget, true}};
  for (const Case& c : cases) {
    const std::string name = "cnn, batch " + std::to_string(c.batch) + (c.bias ? ", biases" : "") +
                             (c.momentum ? ", momentum" : ", sgd") + (c.global ? ", global budget" : ", per-layer budget");
    uint64_t growths = 0;
    const NetworkSpec spec = small_cnn(c.bias, c.momentum, c.global, c.share, 13);
    Network device_net(spec);
    const std::vector<uint64_t> regrown = train_on_both(spec, device_net, d, c, sgd_or_momentum(c), name, growths);
    CHECK(regrown.size() == 4);
    for (uint64_t r : regrown) CHECK(r > 0);  // every store, the convolutions' included, rewired
    if (c.global) CHECK(growths > 0);
  }
}

// Two sparse_linear layers in a row (no relu between them): no relu_backward on the first one's output.
TEST(device_trainer_trains_sparse_linear_layers_in_a_row_bit_for_bit) {
  NetworkSpec spec = deepr_test::mlp_spec(kSizes, kBudgets, true, true, false, GlobalShare::kByBudget, 17);
  spec.layers.erase(spec.layers.begin() + 1);
  uint64_t growths = 0;
  const Case c{40, true, true, false, GlobalShare::kByBudget, false};
  Network device_net(spec);
  for (uint64_t r : train_on_both(spec, device_net, data(), c, sgd_or_momentum(c), "sparse_linear, sparse_linear, relu, sparse_linear", growths))
    CHECK(r > 0);
}

// Adam with DEEP R, and the baselines' signed priors with fixed sparsity, each optimiser somewhere.
struct RuleCase {
  const char* optimiser;
  const char* prior;
  const char* structure;
  const char* budget;
  bool loaded;
};

TEST(device_trainer_trains_adam_and_the_baseline_priors_as_train_batches_does_bit_for_bit) {
  const Data d = data();
  const std::vector<RuleCase> cases{{"adam", "deep-r", "deep-r", "layer", false},
                                    {"adam", "deep-r", "deep-r", "global", true},
                                    {"adam", "none", "fixed", "layer", true},
                                    {"sgd", "l2", "fixed", "layer", false},
                                    {"momentum", "l1-shrink", "fixed", "layer", false},
                                    {"adam", "l1-shrink", "fixed", "layer", true}};
  for (const RuleCase& c : cases) {
    const std::string name = std::string(c.optimiser) + ", prior " + c.prior + ", structure " + c.structure + ", " +
                             c.budget + " budget";
    NetworkSpec spec = deepr_test::mlp_spec(kSizes, kBudgets, true, false, false, GlobalShare::kByDormant, 13);
    spec.rule = RuleSpec{c.optimiser, c.prior, c.structure, c.budget, "dormant", {}};
    const bool adam = std::string(c.optimiser) == "adam";
    // Adam moves every weight by about lr a step: a smaller lr keeps its steps as large as SGD's,
    // and a larger alpha keeps lr * alpha (the prior's pull) as large.
    StepHyper hyper{adam ? 0.005f : kLr, adam ? 0.1f : kAlpha, kNoiseStd, kMomentum};
    hyper.weight_decay = 0.05f;
    const Network initial(spec);
    Network device_net(spec);
    uint64_t growths = 0, regrown = 0;
    for (uint64_t r : train_on_both(spec, device_net, d, Case{37, true, false, false, GlobalShare::kByDormant, c.loaded},
                                    hyper, name, growths))
      regrown += r;
    const std::vector<MlpLayer> trained = mlp_layers(device_net), start = mlp_layers(initial);
    if (std::string(c.structure) == "deep-r") {
      CHECK(regrown > kSteps);  // connections died and regrew throughout
      continue;
    }
    // Fixed sparsity: not one connection moved, and signed weights crossed zero (theta < 0 stays active).
    CHECK(regrown == 0);
    size_t negative = 0, zero = 0;
    for (size_t l = 0; l < trained.size(); ++l) {
      CHECK(trained[l].row_start == start[l].row_start && trained[l].source == start[l].source);
      for (float t : trained[l].theta) negative += t < 0.0f, zero += t == 0.0f;
    }
    CHECK(negative > 0);
    if (std::string(c.prior) == "l1-shrink") CHECK(zero > 0);  // the shrinkage zeroed weights exactly
  }
}

// cuda/test_cuda_device.cpp drives a GPU one step at a time with DeviceMlp, to read the device's
// buffers after every step: on the CPU table it must train as Network does.
TEST(device_mlp_steps_as_network_does_bit_for_bit) {
  const Data d = data();
  for (const bool momentum_and_global : {false, true}) {
    const NetworkSpec spec = deepr_test::mlp_spec(kSizes, kBudgets, true, momentum_and_global, momentum_and_global,
                                                  GlobalShare::kByDormant, 11);
    Network net(spec);
    deepr_test::DeviceMlp device(cpu(), 0, net, d.inputs, 40, momentum_and_global, momentum_and_global, GlobalShare::kByDormant);
    const StepHyper hyper{kLr, kAlpha, kNoiseStd, momentum_and_global ? kMomentum : 0.0f};
    StepStats stats;
    uint64_t regrown = 0;
    for (uint32_t step = 0; step < kSteps; ++step) {
      std::vector<uint32_t> rows(40);
      for (uint32_t b = 0; b < 40; ++b) rows[b] = uint32_t((uint64_t(step) * 40 * 7 + uint64_t(b) * 13) % kSamples);
      double loss_sum = 0;
      std::vector<uint64_t> rewired;
      net.train_step(d.inputs.data(), d.labels.data(), rows.data(), 40, hyper, stats);
      device.step(rows, d.labels, hyper, loss_sum, rewired);
      for (uint64_t r : rewired) regrown += r;
      if (loss_sum != stats.loss.loss_sum || rewired != stats.rewired || !device.same_as(net)) {
        deepr_test::fail(__FILE__, __LINE__, "DeviceMlp differs from the network after step " + std::to_string(step));
        break;
      }
    }
    CHECK(regrown > kSteps);
    if (momentum_and_global) CHECK(device.grown() > 0);
  }
}

TEST(device_trainer_stops_on_a_non_finite_update_as_the_host_does) {
  const Data d = data();
  const NetworkSpec spec = deepr_test::mlp_spec(kSizes, kBudgets, true, true, false, GlobalShare::kByBudget, 5);
  Network host(spec), device_net(spec);
  DeviceTrainer trainer(cpu(), 0);
  const std::vector<uint32_t> order = epoch_order(spec.seed, 0, kSamples);
  const StepHyper diverging{1e30f, kAlpha, 0.0f, kMomentum};
  const auto failure = [&](auto&& train) -> std::pair<std::string, int64_t> {
    try {
      ChunkStats stats;
      train(stats);
    } catch (const NonFiniteError& e) {
      return {e.what(), e.layer};
    }
    return {"", -1};
  };
  const auto expected = failure([&](ChunkStats& s) { train_batches(host, d.view(), order, 30, 0, 10, diverging, false, s); });
  const auto got =
      failure([&](ChunkStats& s) { trainer.train_batches(device_net, d.view(), order, 30, 0, 10, diverging, false, s); });
  CHECK(!expected.first.empty() && expected == got);
  CHECK(host.step() == device_net.step() && same_stores(host, device_net));  // the diverged step's biases too

  // A loss that is not finite: the batch's inputs hold NaN. Nothing of that step changed.
  Network clean_host(spec), clean_device(spec);
  Data bad = d;
  bad.inputs[size_t(order[40]) * kSizes.front()] = std::numeric_limits<float>::quiet_NaN();
  const StepHyper hyper{kLr, kAlpha, kNoiseStd, kMomentum};
  const auto loss_expected =
      failure([&](ChunkStats& s) { train_batches(clean_host, bad.view(), order, 30, 0, 3, hyper, false, s); });
  const auto loss_got =
      failure([&](ChunkStats& s) { trainer.train_batches(clean_device, bad.view(), order, 30, 0, 3, hyper, false, s); });
  CHECK(loss_expected.first.find("loss is not finite at step 1") == 0 && loss_expected == loss_got);
  CHECK(clean_device.step() == 1 && same_stores(clean_host, clean_device));

  // A cnn: the same layer named and the same stores left behind.
  const NetworkSpec cnn = small_cnn(true, true, false, GlobalShare::kByBudget, 5);
  Network cnn_host(cnn), cnn_device(cnn);
  const Data images = cnn_data();
  const DataView image_view = images.view();
  const auto cnn_expected =
      failure([&](ChunkStats& s) { train_batches(cnn_host, image_view, order, 30, 0, 10, diverging, false, s); });
  const auto cnn_got =
      failure([&](ChunkStats& s) { trainer.train_batches(cnn_device, image_view, order, 30, 0, 10, diverging, false, s); });
  CHECK(!cnn_expected.first.empty() && cnn_expected == cnn_got);
  CHECK(same_stores(cnn_host, cnn_device));
}

TEST(device_trainer_refuses_what_the_device_interface_does_not_cover) {
  const Data d = data();
  DeviceTrainer trainer(cpu(), 0);
  const std::vector<uint32_t> order = epoch_order(0, 0, kSamples);
  const auto refusal = [&](const NetworkSpec& spec, const StepHyper& hyper) -> std::string {
    Network net(spec);
    ChunkStats stats;
    try {
      trainer.train_batches(net, d.view(), order, 30, 0, 1, hyper, false, stats);
    } catch (const std::invalid_argument& e) {
      CHECK(net.step() == 0);
      return e.what();
    }
    return "";
  };
  NetworkSpec prune = deepr_test::mlp_spec(kSizes, kBudgets, true, false, false, GlobalShare::kByBudget, 1);
  prune.rule = RuleSpec{"adam", "l1-shrink", "prune", "layer", "budget",
                        {{"pruneStart", 10}, {"pruneEvery", 10}, {"pruneTimes", 2}, {"quality", 0}}};
  CHECK(refusal(prune, StepHyper{}) == "the cpu backend does not yet train the prune structure; train this model on the CPU");
  NetworkSpec soft = deepr_test::mlp_spec(kSizes, kBudgets, true, false, false, GlobalShare::kByBudget, 1);
  soft.rule = RuleSpec{"sgd", "deep-r", "soft-deep-r", "layer", "budget", {{"beta", 1}}};
  CHECK(refusal(soft, StepHyper{}).find("the soft-deep-r structure") != std::string::npos);
  NetworkSpec two_relus = deepr_test::mlp_spec(kSizes, kBudgets, false, false, false, GlobalShare::kByBudget, 1);
  two_relus.layers.insert(two_relus.layers.begin() + 1, {"relu", {}, {}});  // a relu after a relu
  CHECK(refusal(two_relus, StepHyper{}).find("layer 2 (relu): a device trains sparse_linear, sparse_conv2d and max_pool2d") !=
        std::string::npos);
  // A relu after pooling would change the maxima that pooling's backward pass compares with.
  NetworkSpec relu_after_pool = small_cnn(true, false, false, GlobalShare::kByBudget, 1);
  relu_after_pool.layers.insert(relu_after_pool.layers.begin() + 3, {"relu", {}, {}});
  CHECK(device_unsupported(Network(relu_after_pool)).find("layer 3 (relu)") == 0);
  NetworkSpec dense_conv = small_cnn(true, false, false, GlobalShare::kByBudget, 1);
  dense_conv.layers[3] = deepr_test::dense_conv_spec({4, 6, 6, 6, 3, 3, 2, 1}, true);
  CHECK(device_unsupported(Network(dense_conv)).find("layer 3 (dense_conv2d)") == 0);
  StepHyper clipped;
  clipped.clip_norm = 1.0f;
  CHECK(refusal(deepr_test::mlp_spec(kSizes, kBudgets, false, false, false, GlobalShare::kByBudget, 1), clipped)
            .find("clipNorm") != std::string::npos);
  CHECK(device_unsupported(Network(deepr_test::mlp_spec(kSizes, kBudgets, true, true, true, GlobalShare::kByDormant, 1))).empty());
  NetworkSpec adam_fixed = deepr_test::mlp_spec(kSizes, kBudgets, true, false, false, GlobalShare::kByBudget, 1);
  adam_fixed.rule = RuleSpec{"adam", "l2", "fixed", "layer", "budget", {}};
  CHECK(device_unsupported(Network(adam_fixed)).empty());
}

TEST(device_trainer_names_the_bytes_the_device_could_not_allocate) {
  // The CPU table, except that any buffer of more than 4 KiB is more than it can hand out.
  deepr_device small = cpu();
  small.alloc = [](deepr_device_context* context, uint64_t bytes, void** buffer) {
    return cpu().alloc(context, bytes > 4096 ? std::numeric_limits<uint64_t>::max() / 2 : bytes, buffer);
  };
  const Data d = data();
  const NetworkSpec spec = deepr_test::mlp_spec(kSizes, kBudgets, false, false, false, GlobalShare::kByBudget, 1);
  Network net(spec), before(spec);
  DeviceTrainer trainer(small, 0);
  ChunkStats stats;
  std::string message;
  try {  // the chunk's inputs, 60 x 24 floats, are the first buffer over 4 KiB
    trainer.train_batches(net, d.view(), epoch_order(1, 0, kSamples), 30, 0, 2, StepHyper{}, false, stats);
  } catch (const DeviceError& e) {
    message = e.what();
    CHECK(e.status == DEEPR_OUT_OF_MEMORY);
  }
  CHECK(message.find("cpu device: out of memory allocating 5760 bytes") == 0);
  CHECK(same_stores(before, net));
}

TEST(device_library_loads_a_table_or_says_why_not) {
  const DeviceLibrary loaded = load_device_library(DEEPR_TEST_DEVICE_LIBRARY);
  CHECK(loaded.table && loaded.reason.empty() && std::string(loaded.table->name) == "cpu");
  CHECK(loaded.devices == std::vector<std::string>{"{\"name\":\"cpu\",\"openContexts\":0}"});
  CHECK(loaded.table != &cpu());  // its own copy of the core, not the one linked in

  const DeviceLibrary missing = load_device_library("/nonexistent/libdeepr_cuda.so");
  CHECK(!missing.table && missing.reason == "there is no file /nonexistent/libdeepr_cuda.so");

  // A shared library that is not a device library: the C math library.
  Dl_info math{};
  CHECK(dladdr(reinterpret_cast<void*>(static_cast<double (*)(double)>(&std::cos)), &math) && math.dli_fname);
  const DeviceLibrary foreign = load_device_library(math.dli_fname);
  CHECK(!foreign.table && foreign.reason.find("is not a deepr device library (it exports no deepr_device_table)") !=
                              std::string::npos);

  // A file that is no shared library at all: dlopen's own message.
  const DeviceLibrary source = load_device_library(__FILE__);
  CHECK(!source.table && source.reason.find(" cannot be loaded: ") != std::string::npos);
}

TEST(device_trainer_reports_a_device_that_does_not_open) {
  std::string message;
  try {
    DeviceTrainer trainer(cpu(), 7);
  } catch (const DeviceError& e) {
    message = e.what();
  }
  CHECK(message.find("cannot open cpu device 7: ") == 0 && message.find("ordinal") != std::string::npos);
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
  deepr_update u{DEEPR_OPTIMISER_SGD, DEEPR_PRIOR_DEEP_R, 0.1f, 0.0f, 0.0f, 0.0f, 1, 0, 0, 0, 0, 0, 0, 0, 0};
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
  u.prior = DEEPR_PRIOR_L1_SHRINK + 1;
  refused(dev.sparse_update(c, &w, gradient.data(), &u, dying, 3, &died), DEEPR_INVALID_ARGUMENT);
  u.prior = DEEPR_PRIOR_NONE;
  u.optimiser = DEEPR_OPTIMISER_ADAM;  // without its two moment arrays
  refused(dev.sparse_update(c, &w, gradient.data(), &u, dying, 3, &died), DEEPR_INVALID_ARGUMENT);
  // Under a baseline's prior theta is a signed weight: below zero it stays active, and nothing dies.
  u.optimiser = DEEPR_OPTIMISER_SGD;
  theta = {0.5f, 0.25f, 1.0f};
  CHECK(dev.sparse_update(c, &w, gradient.data(), &u, dying, 3, &died) == DEEPR_OK && died == 0 && theta[0] < 0.0f);
  u.prior = DEEPR_PRIOR_DEEP_R;
  theta = {0.5f, 0.25f, 1.0f};

  const int32_t bad_label = 3;
  std::vector<float> logits(3 * 16, 0.0f);
  double loss_sum = 0;
  uint32_t correct = 0;
  refused(dev.softmax_cross_entropy(c, logits.data(), &bad_label, 3, 1, 16, nullptr, &loss_sum, &correct),
          DEEPR_INVALID_ARGUMENT);

  // Convolution and pooling: the store must match the geometry; pooling keeps channels, pads nothing.
  const deepr_conv_geometry conv{1, 2, 2, 2, 2, 2, 1, 0};  // 4 kernel entries to 2 channels, not the store's 3
  refused(dev.sparse_conv2d_forward(c, &conv, &w, nullptr, x.data(), y.data(), 16, 0), DEEPR_INVALID_ARGUMENT);
  deepr_conv_geometry too_wide = conv;
  too_wide.kernel_width = 3;
  refused(dev.conv2d_bias_backward(c, &too_wide, y.data(), 16, gradient.data()), DEEPR_INVALID_ARGUMENT);
  const deepr_conv_geometry padded_pool{1, 2, 2, 1, 2, 2, 1, 1}, pool{1, 2, 2, 1, 2, 2, 1, 0};
  refused(dev.max_pool2d_forward(c, &padded_pool, x.data(), y.data(), 16), DEEPR_INVALID_ARGUMENT);
  x[0] = 3.0f, x[16] = 5.0f, x[32] = 5.0f, x[48] = -1.0f;  // sample 0's window: 3, 5, 5, -1
  CHECK(dev.max_pool2d_forward(c, &pool, x.data(), y.data(), 16) == DEEPR_OK && y[0] == 5.0f && y[1] == 1.0f);
  std::vector<float> dy(16, 2.0f), dx(4 * 16, 7.0f);
  CHECK(dev.max_pool2d_backward(c, &pool, x.data(), y.data(), dy.data(), dx.data(), 16) == DEEPR_OK);
  CHECK(dx[0] == 0.0f && dx[16] == 2.0f && dx[32] == 0.0f && dx[48] == 0.0f);  // the first maximum takes it

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
