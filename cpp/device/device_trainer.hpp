// Training on a device through the device interface (device_abi.h): the host's Network stays the
// authoritative copy of the parameters between runs. Each run of batches uploads the network's
// stores, trains them with the table's kernels only, and downloads theta, the structure, the
// optimiser's state arrays, the biases and the step back into the Network, so that evaluate,
// predict, export, check and checkpoints keep running on the host unchanged. That costs two
// O(K) transfers per run of batches, which the runs' many steps amortise; in exchange nothing can
// get out of step between the host and the device.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "device/device_abi.h"
#include "network.hpp"
#include "rules/deep_r_structure.hpp"
#include "training.hpp"

namespace deepr {

// A device call that failed: the device's status code and its message.
class DeviceError : public std::runtime_error {
 public:
  DeviceError(const std::string& what, deepr_status status) : std::runtime_error(what), status(status) {}
  deepr_status status;
};

// What of `net` the device interface cannot train, or "" when it can train all of it: sparse_linear,
// sparse_conv2d (with a bias or not) and max_pool2d layers in any order, each sparse layer
// optionally followed by a relu, and a softmax_cross_entropy head (the paper's MLP and cnn); any
// optimiser (sgd, momentum, adam) and prior, with the deep-r structure (either budget and share)
// or the fixed one.
std::string device_unsupported(const Network& net);

class DeviceTrainer {
 public:
  // Opens device `ordinal` of the table; DeviceError with the device's reason when it cannot.
  DeviceTrainer(const deepr_device& device, int32_t ordinal);
  ~DeviceTrainer();  // closes the context, which releases every buffer still held
  DeviceTrainer(const DeviceTrainer&) = delete;
  DeviceTrainer& operator=(const DeviceTrainer&) = delete;

  // train_batches (training.hpp) on the device, with the same batches, statistics and bits:
  // ChunkStats' batch losses, correct counts and connections rewired per store (noise_seconds is
  // 0: the device draws the noise inside its update). Throws std::invalid_argument for a network
  // device_unsupported() names or gradient clipping; NonFiniteError, as the CPU does, for a
  // non-finite loss or update; DeviceError when a device call fails. Whatever it throws, the
  // network holds the steps that completed (or, if the device failed, the state it started from).
  void train_batches(Network& net, const DataView& data, const std::vector<uint32_t>& order, uint32_t batch_size,
                     uint64_t first_batch, uint64_t batches, const StepHyper& hyper, bool check, ChunkStats& stats);

  // How often a store outgrew its slot buffers under a global budget and the host grew them.
  uint64_t capacity_growths() const { return capacity_growths_; }

 private:
  // One layer with parameters (sparse_linear, sparse_conv2d): its stores' buffers on the device and
  // the host's copy of its structure.
  struct Layer {
    deepr_sparse_view weight{};  // slot buffers of `capacity` slots
    deepr_dense_view bias{};     // size 0: no bias
    uint32_t capacity = 0;
    uint64_t budget = 0;
    float* theta_gradient = nullptr;  // capacity slots
    float* bias_gradient = nullptr;
    std::vector<uint32_t> row_start, source;  // the host's copy, which regrowth reads
    std::vector<uint32_t> dying;              // the slots sparse_update reported in this step
  };

  // One pass of the device's forward sweep: a network layer (the head aside), with the relu layer
  // that follows it applied in place to its output.
  struct Stage {
    enum Kind { kLinear, kConv, kPool } kind = kLinear;
    deepr_conv_geometry geometry{};  // kConv, kPool
    uint32_t layer = 0;              // kLinear, kConv: its stores in layers_
    uint32_t outputs = 0;
    bool relu = false;
  };

  void upload(Network& net, uint32_t max_batch);
  Layer upload_stores(SparseStore& weight, DenseStore* bias);
  void forward(const Stage& stage, uint32_t s, uint32_t stride);
  // Stage s's backward pass and the update of its stores; their slots that died go to `dying`.
  void backward_update(const Stage& stage, uint32_t s, uint32_t stride, const StepHyper& hyper, uint64_t step,
                       std::vector<std::vector<uint32_t>>& dying);
  void download(Network& net, uint64_t step);
  void release_all();
  // One step on samples [first, first + batch) of the staged chunk; returns its loss sum and correct count.
  void step(uint64_t first, uint32_t batch, const StepHyper& hyper, uint64_t step, double& loss_sum, uint32_t& correct,
            std::vector<uint64_t>& rewired, double& regrowth_seconds);
  void grow(Layer& layer, uint32_t capacity);

  void* alloc_bytes(uint64_t bytes);
  // A buffer of max(capacity, host.size()) values, the first host.size() of them written from `host`.
  template <class T>
  T* upload_array(const std::vector<T>& host, uint64_t capacity = 0);
  template <class T>
  T* alloc(uint64_t count) {
    return static_cast<T*>(alloc_bytes(count * sizeof(T)));
  }
  void write(void* device, const void* host, uint64_t bytes);
  void read(void* host, const void* device, uint64_t bytes);
  void release(const void* buffer);
  // Throws DeviceError for a failed call, naming `what` and the device's message.
  void ok(deepr_status status, const char* what) const;

  const deepr_device& device_;
  deepr_device_context* context_ = nullptr;
  std::vector<void*> buffers_;  // everything this run allocated, released by release_all
  std::vector<Layer> layers_;
  std::vector<Stage> stages_;
  DeepRStructure structure_{false, GlobalShare::kByBudget};  // the run's, from the network's rule
  uint64_t seed_ = 0;
  uint32_t optimiser_ = DEEPR_OPTIMISER_SGD, prior_ = DEEPR_PRIOR_DEEP_R;  // the run's rule, as the ABI numbers it
  bool regrows_ = true;  // the deep-r structure; the fixed one never rewires
  uint32_t classes_ = 0, features_ = 0;
  float* inputs_ = nullptr;  // the chunk's samples, row-major, in training order
  std::vector<int32_t> chunk_labels_;  // the chunk's labels in training order, on the host
  int32_t* labels_ = nullptr;          // one batch of them on the device
  std::vector<float*> activations_, gradients_;  // [0]: the input batch; [s + 1]: stage s's output
  RewireScratch rewire_scratch_;
  uint64_t capacity_growths_ = 0;
};

}  // namespace deepr
