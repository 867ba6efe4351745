// The MLP trained through a device table only (device/device_abi.h): buffers the device allocates,
// the kernels it runs, and the host choosing regrowth from the short dying lists and its own copy of
// each store's structure, as Network::train_step does the step, one step per call so that a test can
// read the device's buffers in between (DeviceTrainer, the production driver, trains whole chunks).
// test_device_abi.cpp runs it on the CPU device against Network; cuda/test_cuda_device.cpp runs it
// on the CUDA device beside the CPU device.
#pragma once

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "check.hpp"
#include "device/device_abi.h"
#include "mlp.hpp"
#include "network.hpp"
#include "sparse_rewire.hpp"

namespace deepr_test {

using namespace deepr;

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
  DeviceMlp(const deepr_device& dev, int32_t ordinal, const Network& start, const std::vector<float>& inputs,
            uint32_t max_batch, bool momentum, bool global, GlobalShare share)
      : dev_(dev), seed_(start.spec().seed), momentum_(momentum), structure_(global, share) {
    ok(nullptr, dev_.open(ordinal, &context_));
    features_ = start.input_size();
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
  ~DeviceMlp() { dev_.close(context_); }
  DeviceMlp(const DeviceMlp&) = delete;
  DeviceMlp& operator=(const DeviceMlp&) = delete;

  // One training step on samples `rows`: what Network::train_step does, as device calls.
  void step(const std::vector<uint32_t>& rows, const std::vector<int32_t>& all_labels, const StepHyper& h,
            double& loss_sum, std::vector<uint64_t>& rewired) {
    const deepr_device& dev = dev_;
    const uint32_t batch = uint32_t(rows.size()), stride = (batch + 15) / 16 * 16, n = uint32_t(layers_.size());
    std::vector<int32_t> labels(batch);
    for (uint32_t b = 0; b < batch; ++b) labels[b] = all_labels[rows[b]];
    ok(context_, dev.write(context_, rows_, rows.data(), batch * sizeof(uint32_t)));
    ok(context_, dev.write(context_, labels_, labels.data(), batch * sizeof(int32_t)));
    ok(context_, dev.gather_feature_major(context_, inputs_, features_, rows_, 0, batch, stride, activations_[0]));
    for (uint32_t l = 0; l < n; ++l)
      ok(context_, dev.sparse_forward(context_, &layers_[l].weight, &layers_[l].bias, activations_[l], activations_[l + 1],
                                      stride, l + 1 < n));
    uint32_t correct = 0;
    ok(context_, dev.softmax_cross_entropy(context_, activations_[n], labels_, layers_.back().weight.n_out, batch, stride, gradients_[n],
                                           &loss_sum, &correct));

    std::vector<std::vector<uint32_t>> dying(n);
    for (uint32_t l = n; l-- > 0;) {
      DeviceLayer& d = layers_[l];
      const deepr_update u{momentum_ ? DEEPR_OPTIMISER_MOMENTUM : DEEPR_OPTIMISER_SGD, DEEPR_PRIOR_DEEP_R, h.lr, h.alpha,
                           h.noise_std, h.momentum, seed_, step_, d.weight.id,
                           0, 0, 0, 0, 0, 0};  // version 3's fields: sgd, momentum and DEEP R's prior read none
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
  const std::vector<DeviceLayer>& layers() const { return layers_; }

  // A device buffer's first `count` values, copied to the host.
  template <class T>
  std::vector<T> download(const T* device, size_t count) {
    std::vector<T> host(count);
    ok(context_, dev_.read(context_, host.data(), device, count * sizeof(T)));
    return host;
  }

 private:
  // A call that must succeed; otherwise the test fails with the device's message.
  void ok(deepr_device_context* context, deepr_status status) const {
    if (status != DEEPR_OK)
      throw std::runtime_error(std::string(dev_.name) + " device call failed (" + std::to_string(status) +
                               "): " + dev_.last_error(context));
  }
  template <class T>
  T* alloc(size_t count) {
    void* p = nullptr;
    ok(context_, dev_.alloc(context_, std::max<size_t>(count, 1) * sizeof(T), &p));
    return static_cast<T*>(p);
  }
  template <class T>
  T* upload(const std::vector<T>& host) {
    T* p = alloc<T>(host.size());
    ok(context_, dev_.write(context_, p, host.data(), host.size() * sizeof(T)));
    return p;
  }
  static bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  }
  // The host grows a store's slot buffers: new ones, the slots copied over, the old ones released.
  void grow(DeviceLayer& d, uint32_t capacity) {
    const auto moved = [&](auto* old) {
      auto* bigger = alloc<std::remove_const_t<std::remove_pointer_t<decltype(old)>>>(capacity);
      ok(context_, dev_.copy(context_, bigger, old, size_t(d.weight.slots) * sizeof(*old)));
      dev_.release(context_, const_cast<void*>(static_cast<const void*>(old)));
      return bigger;
    };
    d.weight.source = moved(d.weight.source);
    d.weight.theta = moved(d.weight.theta);
    for (uint32_t s = 0; s < d.weight.states; ++s) d.weight.state[s] = moved(d.weight.state[s]);
    dev_.release(context_, d.theta_gradient);
    d.theta_gradient = alloc<float>(capacity);
    d.dying.resize(capacity);
    d.capacity = capacity;
    ++grown_;
  }

  const deepr_device& dev_;
  deepr_device_context* context_ = nullptr;
  uint64_t seed_, step_ = 0;
  bool momentum_;
  DeepRStructure structure_;
  RewireScratch scratch_;
  uint32_t features_ = 0;
  float* inputs_ = nullptr;
  uint32_t* rows_ = nullptr;
  int32_t* labels_ = nullptr;
  std::vector<float*> activations_, gradients_;  // [0]: the input batch; [l + 1]: layer l's output
  std::vector<DeviceLayer> layers_;
  uint32_t grown_ = 0;
};

}  // namespace deepr_test
