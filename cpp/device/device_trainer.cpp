#include "device_trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "layers/max_pool2d.hpp"
#include "layers/sparse_conv2d.hpp"
#include "layers/sparse_linear.hpp"
#include "non_finite_error.hpp"
#include "sparse_rewire.hpp"
#include "update_conversion.hpp"

namespace deepr {

namespace {

// The batch padded to a multiple of 16 samples, as the device interface takes activations.
uint32_t device_stride(uint32_t batch) { return (batch + 15) / 16 * 16; }

std::string status_name(deepr_status status) {
  switch (status) {
    case DEEPR_INVALID_ARGUMENT: return "invalid argument";
    case DEEPR_OUT_OF_MEMORY: return "out of memory";
    case DEEPR_NON_FINITE: return "non-finite value";
    case DEEPR_DEVICE_FAILURE: return "device failure";
    default: return "status " + std::to_string(status);
  }
}

bool is_sparse_layer(const std::string& kind) { return kind == "sparse_linear" || kind == "sparse_conv2d"; }

// What of the network's layers a device cannot train, or "". A relu only follows a sparse layer,
// whose output it rewrites in place: no backward pass reads that layer's output.
std::string unsupported_layers(const Network& net) {
  const std::vector<std::unique_ptr<deepr::Layer>>& layers = net.layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string kind = layers[i]->kind();
    const bool supported = i + 1 == layers.size() ? kind == "softmax_cross_entropy"
                           : kind == "relu"       ? i > 0 && is_sparse_layer(layers[i - 1]->kind())
                                                  : is_sparse_layer(kind) || kind == "max_pool2d";
    if (!supported)
      return "layer " + std::to_string(i) + " (" + kind +
             "): a device trains sparse_linear, sparse_conv2d and max_pool2d layers, a relu only after a sparse "
             "layer, and a softmax_cross_entropy head";
  }
  return "";
}

deepr_conv_geometry abi_geometry(const ConvGeometry& g) {
  return {g.in_channels, g.height, g.width, g.out_channels, g.kernel_height, g.kernel_width, g.stride, g.padding};
}

// The sparse store and the bias (null for none) of a sparse_linear or sparse_conv2d layer.
std::pair<SparseStore*, DenseStore*> sparse_layer_stores(deepr::Layer& layer) {
  if (auto* linear = dynamic_cast<SparseLinear*>(&layer)) return {&linear->weight(), linear->bias()};
  if (auto* conv = dynamic_cast<SparseConv2d*>(&layer)) return {&conv->weight(), conv->bias()};
  return {nullptr, nullptr};
}

}  // namespace

std::string device_unsupported(const Network& net) {
  if (std::string layers = unsupported_layers(net); !layers.empty()) return layers;
  // Every optimiser and prior (parse_rule pairs each prior with its structures); the structures
  // whose host-side work is DEEP R's regrowth plan or nothing. prune and soft-deep-r work on the
  // host's stores (theta of pruned or dormant connections, the pruning schedule), which the
  // device's stores do not hold.
  const StructureKind structure = net.rule().structure;
  if (structure != StructureKind::kDeepR && structure != StructureKind::kFixed)
    return "the " + net.spec().rule.structure + " structure";
  return "";
}

DeviceTrainer::DeviceTrainer(const deepr_device& device, int32_t ordinal) : device_(device) {
  const deepr_status status = device_.open(ordinal, &context_);
  if (status != DEEPR_OK || !context_)
    throw DeviceError("cannot open " + std::string(device_.name) + " device " + std::to_string(ordinal) + ": " +
                          device_.last_error(nullptr),
                      status == DEEPR_OK ? DEEPR_DEVICE_FAILURE : status);
}

DeviceTrainer::~DeviceTrainer() { device_.close(context_); }

void DeviceTrainer::ok(deepr_status status, const char* what) const {
  if (status != DEEPR_OK)
    throw DeviceError(std::string(device_.name) + " device: " + what + " failed (" + status_name(status) +
                          "): " + device_.last_error(context_),
                      status);
}

void* DeviceTrainer::alloc_bytes(uint64_t bytes) {
  void* buffer = nullptr;
  const deepr_status status = device_.alloc(context_, std::max<uint64_t>(bytes, 1), &buffer);
  if (status == DEEPR_OUT_OF_MEMORY)
    throw DeviceError(std::string(device_.name) + " device: out of memory allocating " + std::to_string(bytes) +
                          " bytes (" + device_.last_error(context_) + "); train on the CPU or with a smaller model or batch",
                      status);
  ok(status, "alloc");
  buffers_.push_back(buffer);
  return buffer;
}

void DeviceTrainer::release(const void* buffer) {
  const auto held = std::find(buffers_.begin(), buffers_.end(), buffer);
  device_.release(context_, *held);
  buffers_.erase(held);
}

void DeviceTrainer::release_all() {
  for (void* buffer : buffers_) device_.release(context_, buffer);
  buffers_.clear();
  layers_.clear();
  stages_.clear();
  activations_.clear();
  gradients_.clear();
}

void DeviceTrainer::write(void* device, const void* host, uint64_t bytes) {
  if (bytes) ok(device_.write(context_, device, host, bytes), "write");
}

void DeviceTrainer::read(void* host, const void* device, uint64_t bytes) {
  if (bytes) ok(device_.read(context_, host, device, bytes), "read");
}

template <class T>
T* DeviceTrainer::upload_array(const std::vector<T>& host, uint64_t capacity) {
  T* buffer = alloc<T>(std::max<uint64_t>(capacity, host.size()));
  write(buffer, host.data(), host.size() * sizeof(T));
  return buffer;
}

void DeviceTrainer::upload(Network& net, uint32_t max_batch) {
  release_all();
  seed_ = net.spec().seed;
  optimiser_ = uint32_t(net.rule().optimiser);
  prior_ = uint32_t(net.rule().prior);
  regrows_ = net.rule().structure == StructureKind::kDeepR;
  features_ = net.input_size();
  classes_ = net.classes();
  const uint64_t max_stride = device_stride(max_batch);
  activations_.push_back(alloc<float>(features_ * max_stride));
  gradients_.push_back(nullptr);  // dE/d the input batch: nothing needs it
  const std::vector<std::unique_ptr<deepr::Layer>>& layers = net.layers();
  for (size_t i = 0; i + 1 < layers.size(); ++i) {  // the head works on the last stage's output
    deepr::Layer& layer = *layers[i];
    if (std::string(layer.kind()) == "relu") {
      stages_.back().relu = true;
      continue;
    }
    Stage stage;
    stage.outputs = layer.outputs();
    if (auto* pool = dynamic_cast<MaxPool2d*>(&layer)) {
      stage.kind = Stage::kPool;
      stage.geometry = abi_geometry(pool->geometry());
    } else {
      if (auto* conv = dynamic_cast<SparseConv2d*>(&layer)) {
        stage.kind = Stage::kConv;
        stage.geometry = abi_geometry(conv->geometry());
      }
      const auto [weight, bias] = sparse_layer_stores(layer);
      stage.layer = uint32_t(layers_.size());
      layers_.push_back(upload_stores(*weight, bias));
    }
    activations_.push_back(alloc<float>(uint64_t(stage.outputs) * max_stride));
    gradients_.push_back(alloc<float>(uint64_t(stage.outputs) * max_stride));
    stages_.push_back(stage);
  }
}

DeviceTrainer::Layer DeviceTrainer::upload_stores(SparseStore& w, DenseStore* b) {
  Layer d;
  d.capacity = uint32_t(w.active());
  d.budget = w.budget;
  d.row_start = w.row_start;
  d.source = w.source;
  d.weight = {w.n_in, w.n_out, w.id, d.capacity, upload_array(w.row_start), upload_array(w.source),
              upload_array(w.theta), 0, {}};
  for (const StateArray& s : w.states) d.weight.state[d.weight.states++] = upload_array(s.values);
  d.theta_gradient = alloc<float>(d.capacity);
  if (b) {
    d.bias = {uint32_t(b->value.size()), upload_array(b->value), 0, {}};
    for (const StateArray& s : b->states) d.bias.state[d.bias.states++] = upload_array(s.values);
    d.bias_gradient = alloc<float>(d.bias.size);
  }
  d.dying.resize(d.capacity);
  return d;
}

void DeviceTrainer::download(Network& net, uint64_t step) {
  // Everything is read into copies first, so that a failed read leaves the network as it was.
  std::vector<SparseStore> weights;
  std::vector<DenseStore> biases;
  std::vector<std::pair<SparseStore*, DenseStore*>> stores;  // the host's, in the order of layers_
  for (const std::unique_ptr<deepr::Layer>& layer : net.layers())
    if (const auto s = sparse_layer_stores(*layer); s.first) stores.push_back(s);
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& d = layers_[l];
    SparseStore w = *stores[l].first;
    const uint32_t slots = d.weight.slots;
    w.row_start.resize(size_t(d.weight.n_out) + 1);
    w.source.resize(slots);
    w.theta.resize(slots);
    read(w.row_start.data(), d.weight.row_start, w.row_start.size() * sizeof(uint32_t));
    read(w.source.data(), d.weight.source, slots * sizeof(uint32_t));
    read(w.theta.data(), d.weight.theta, slots * sizeof(float));
    for (uint32_t s = 0; s < d.weight.states; ++s) {
      w.states[s].values.resize(slots);
      read(w.states[s].values.data(), d.weight.state[s], slots * sizeof(float));
    }
    weights.push_back(std::move(w));
    if (d.bias.size == 0) continue;
    DenseStore b = *stores[l].second;
    read(b.value.data(), d.bias.value, d.bias.size * sizeof(float));
    for (uint32_t s = 0; s < d.bias.states; ++s) read(b.states[s].values.data(), d.bias.state[s], d.bias.size * sizeof(float));
    biases.push_back(std::move(b));
  }
  size_t b = 0;
  for (size_t l = 0; l < layers_.size(); ++l) {
    std::swap(*stores[l].first, weights[l]);
    if (layers_[l].bias.size) std::swap(*stores[l].second, biases[b++]);
  }
  net.set_step(step);
}

void DeviceTrainer::grow(Layer& d, uint32_t capacity) {
  const auto moved = [&](auto* old) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(old)>>;
    T* bigger = alloc<T>(capacity);
    ok(device_.copy(context_, bigger, old, uint64_t(d.weight.slots) * sizeof(T)), "copy");
    release(old);
    return bigger;
  };
  d.weight.source = moved(d.weight.source);
  d.weight.theta = moved(d.weight.theta);
  for (uint32_t s = 0; s < d.weight.states; ++s) d.weight.state[s] = moved(d.weight.state[s]);
  release(d.theta_gradient);
  d.theta_gradient = alloc<float>(capacity);
  d.dying.resize(capacity);
  d.capacity = capacity;
  ++capacity_growths_;
}

void DeviceTrainer::forward(const Stage& stage, uint32_t s, uint32_t stride) {
  const float* x = activations_[s];
  float* y = activations_[s + 1];
  switch (stage.kind) {
    case Stage::kLinear: {
      const Layer& d = layers_[stage.layer];
      return ok(device_.sparse_forward(context_, &d.weight, &d.bias, x, y, stride, stage.relu), "sparse_forward");
    }
    case Stage::kConv: {
      const Layer& d = layers_[stage.layer];
      return ok(device_.sparse_conv2d_forward(context_, &stage.geometry, &d.weight, &d.bias, x, y, stride, stage.relu),
                "sparse_conv2d_forward");
    }
    case Stage::kPool: return ok(device_.max_pool2d_forward(context_, &stage.geometry, x, y, stride), "max_pool2d_forward");
  }
}

void DeviceTrainer::backward_update(const Stage& stage, uint32_t s, uint32_t stride, const StepHyper& hyper,
                                    uint64_t step, std::vector<std::vector<uint32_t>>& dying) {
  const float* x = activations_[s];
  float* dy = gradients_[s + 1];
  float* dx = gradients_[s];  // null for the first stage: nothing needs dE/d the input batch
  if (stage.relu)
    ok(device_.relu_backward(context_, activations_[s + 1], dy, dy, uint64_t(stage.outputs) * stride), "relu_backward");
  if (stage.kind == Stage::kPool) {
    if (dx)
      ok(device_.max_pool2d_backward(context_, &stage.geometry, x, activations_[s + 1], dy, dx, stride),
         "max_pool2d_backward");
    return;
  }
  const uint32_t l = stage.layer;
  Layer& d = layers_[l];
  const deepr_update update = device_update(optimiser_, prior_, hyper, seed_, step, d.weight.id);
  if (stage.kind == Stage::kLinear) {
    ok(device_.sparse_backward(context_, &d.weight, x, dy, dx, stride, d.theta_gradient), "sparse_backward");
    if (d.bias.size) ok(device_.bias_backward(context_, dy, d.bias.size, stride, d.bias_gradient), "bias_backward");
  } else {
    ok(device_.sparse_conv2d_backward(context_, &stage.geometry, &d.weight, x, dy, dx, stride, d.theta_gradient),
       "sparse_conv2d_backward");
    if (d.bias.size)
      ok(device_.conv2d_bias_backward(context_, &stage.geometry, dy, stride, d.bias_gradient), "conv2d_bias_backward");
  }
  // Both stores' updates, then the stop on a non-finite one, as the CPU leaves a diverged step.
  uint32_t died = 0;
  deepr_status status =
      device_.sparse_update(context_, &d.weight, d.theta_gradient, &update, d.dying.data(), d.capacity, &died);
  if ((status == DEEPR_OK || status == DEEPR_NON_FINITE) && d.bias.size) {
    const deepr_status bias_status = device_.dense_update(context_, &d.bias, d.bias_gradient, &update);
    if (status == DEEPR_OK) status = bias_status;
  }
  if (status == DEEPR_NON_FINITE)
    throw NonFiniteError("training diverged (lower the learning rate): a parameter of layer " + std::to_string(l) +
                             " is no longer finite at step " + std::to_string(step),
                         l);
  ok(status, "update");
  dying[l].assign(d.dying.begin(), d.dying.begin() + died);
}

void DeviceTrainer::step(uint64_t first, uint32_t batch, const StepHyper& hyper, uint64_t step, double& loss_sum,
                         uint32_t& correct, std::vector<uint64_t>& rewired, double& regrowth_seconds) {
  const uint32_t stride = device_stride(batch), n = uint32_t(layers_.size()), stages = uint32_t(stages_.size());
  ok(device_.gather_feature_major(context_, inputs_, features_, nullptr, first, batch, stride, activations_[0]),
     "gather_feature_major");
  for (uint32_t s = 0; s < stages; ++s) forward(stages_[s], s, stride);
  loss_sum = 0;
  correct = 0;
  // Device pointers are opaque to the host: the batch's labels go to a buffer of their own.
  write(labels_, &chunk_labels_[first], batch * sizeof(int32_t));
  ok(device_.softmax_cross_entropy(context_, activations_[stages], labels_, classes_, batch, stride, gradients_[stages],
                                   &loss_sum, &correct),
     "softmax_cross_entropy");
  // Before anything changes, as Network::train_step; the layer is the last one with parameters.
  if (!std::isfinite(loss_sum))
    throw NonFiniteError("loss is not finite at step " + std::to_string(step) +
                             ": the batch holds NaN or Infinity, or training diverged (lower the learning rate)",
                         n - 1);

  // From the head down, each stage's backward pass then its update, as the CPU's sweep.
  std::vector<std::vector<uint32_t>> dying(n);
  const StepHyper step_hyper = with_bias_corrections(hyper, step);  // as Network::train_step
  for (uint32_t s = stages; s-- > 0;) backward_update(stages_[s], s, stride, step_hyper, step, dying);

  rewired.assign(n, 0);
  if (!regrows_) return;  // fixed sparsity: signed weights, no dying list, nothing to regrow
  // Regrowth: the host decides from its copies of the structure and the dying lists alone, with
  // the code the CPU runs (DeepRStructure::plan), and keeps its copies exact with rewire_slots,
  // given the places plan found (the host searches each new connection's row once).
  const auto regrowth_start = std::chrono::steady_clock::now();
  std::vector<StoreStructure> structures;
  for (const Layer& d : layers_)
    structures.push_back(
        {d.weight.n_in, d.weight.n_out, d.weight.id, d.budget, d.weight.slots, d.row_start.data(), d.source.data()});
  std::vector<std::vector<uint64_t>> born, places;
  structure_.plan(structures, dying, seed_, step, born, &places);
  for (uint32_t l = 0; l < n; ++l) {
    Layer& d = layers_[l];
    const uint32_t slots = d.weight.slots, after = uint32_t(slots - dying[l].size() + born[l].size());
    if (after > d.capacity) grow(d, after + after / 2);  // a global budget moved connections here
    ok(device_.rewire(context_, &d.weight, d.capacity, seed_, dying[l].data(), uint32_t(dying[l].size()), born[l].data(),
                      uint32_t(born[l].size())),
       "rewire");
    d.source.resize(std::max(slots, after));
    const SparseView host_copy{d.weight.n_in, d.weight.n_out, d.weight.id, slots, d.row_start.data(), d.source.data(),
                               nullptr, 0, {}};
    rewire_slots(host_copy, seed_, dying[l].data(), uint32_t(dying[l].size()), born[l].data(), uint32_t(born[l].size()),
                 rewire_scratch_, places[l].data());
    d.source.resize(after);
    rewired[l] = born[l].size();
  }
  regrowth_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - regrowth_start).count();
}

void DeviceTrainer::train_batches(Network& net, const DataView& data, const std::vector<uint32_t>& order,
                                  uint32_t batch_size, uint64_t first_batch, uint64_t batches, const StepHyper& hyper,
                                  bool check, ChunkStats& stats) {
  if (const std::string what = device_unsupported(net); !what.empty())
    throw std::invalid_argument("the " + std::string(device_.name) + " backend does not yet train " + what +
                                "; train this model on the CPU");
  if (hyper.clip_norm > 0)
    throw std::invalid_argument("the " + std::string(device_.name) +
                                " backend does not yet clip gradients (clipNorm); train this model on the CPU");
  if (!data.labels) throw std::invalid_argument("the loss head (softmax_cross_entropy) takes class labels");
  if (batch_size == 0) throw std::invalid_argument("batch size must be at least 1");
  if (order.size() != data.count) throw std::invalid_argument("sample order does not match the data set");
  const uint64_t per_epoch = (uint64_t(data.count) + batch_size - 1) / batch_size;
  if (first_batch + batches > per_epoch) throw std::out_of_range("batch range goes past the end of the epoch");

  // The chunk's samples in training order, checked and staged on the device once.
  const uint64_t first_row = first_batch * batch_size;
  const uint64_t rows = std::min<uint64_t>((first_batch + batches) * batch_size, data.count) - first_row;
  const uint32_t features = net.input_size(), classes = net.classes();
  std::vector<float> inputs(rows * features);
  std::vector<int32_t>& labels = chunk_labels_;
  labels.resize(rows);
  for (uint64_t r = 0; r < rows; ++r) {
    const uint32_t sample = order[first_row + r];
    labels[r] = data.labels[sample];
    if (labels[r] < 0 || uint32_t(labels[r]) >= classes)
      throw std::invalid_argument("label " + std::to_string(labels[r]) + " of sample " + std::to_string(sample) +
                                  " is outside [0, " + std::to_string(classes) + ")");
    std::memcpy(&inputs[r * features], data.inputs + uint64_t(sample) * features, features * sizeof(float));
  }

  stats.batch_loss.clear();
  stats.batch_correct.clear();
  stats.rewired.assign(net.sparse_stores().size(), 0);
  stats.regrowth_seconds = stats.noise_seconds = 0;
  upload(net, uint32_t(std::min<uint64_t>(batch_size, rows)));
  inputs_ = upload_array(inputs);
  labels_ = alloc<int32_t>(std::min<uint64_t>(batch_size, rows));
  structure_ = DeepRStructure(net.rule().global_budget, net.rule().share);
  uint64_t step = net.step();
  try {
    std::vector<uint64_t> rewired;
    for (uint64_t first = 0; first < rows; first += batch_size) {
      const uint32_t batch = uint32_t(std::min<uint64_t>(batch_size, rows - first));
      double loss_sum = 0;
      uint32_t correct = 0;
      this->step(first, batch, hyper, step, loss_sum, correct, rewired, stats.regrowth_seconds);
      ++step;
      stats.batch_loss.push_back(float(loss_sum / batch));
      stats.batch_correct.push_back(correct);
      for (size_t l = 0; l < rewired.size(); ++l) stats.rewired[l] += rewired[l];
      if (check) {
        download(net, step);
        const std::string problem = net.check();
        if (!problem.empty()) throw std::logic_error("invariant violated after step " + std::to_string(step) + ": " + problem);
      }
    }
  } catch (const DeviceError&) {
    release_all();  // the device failed: the network keeps the state it started from
    throw;
  } catch (...) {
    try {
      download(net, step);  // the steps that completed, and a diverged update as the CPU leaves it
    } catch (const DeviceError&) {
      // The device failed too: the network keeps the state it started from.
    }
    release_all();
    throw;
  }
  download(net, step);
  release_all();
}

}  // namespace deepr
