#include "network.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "gradient_clipping.hpp"
#include "layers/relu.hpp"
#include "non_finite_error.hpp"
#include "simd.hpp"
#include "sparse_kernels.hpp"

namespace deepr {

namespace {

constexpr uint32_t kEvalBatch = 256;

}  // namespace

Network::Network(NetworkSpec spec) : spec_(std::move(spec)) {
  if (spec_.layers.size() < 2) throw std::invalid_argument("a network needs at least one layer and a loss head");
  LayerContext context{spec_.seed, 0, 0};
  uint32_t with_stores = 0;
  for (size_t i = 0; i < spec_.layers.size(); ++i) {
    try {
      layers_.push_back(build_layer(spec_.layers[i], context));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("layer " + std::to_string(i) + " (" + spec_.layers[i].kind + "): " + e.what());
    }
    Layer& layer = *layers_.back();
    context.inputs = layer.outputs();
    linear_.push_back(dynamic_cast<SparseLinear*>(&layer));
    relu_fused_.push_back(dynamic_cast<Relu*>(&layer) && i > 0 && linear_[i - 1]);
    parameter_layer_.push_back(with_stores);
    const std::vector<StoreRef> stores = layer.stores();
    with_stores += !stores.empty();
    for (const StoreRef& s : stores)
      if (s.sparse) sparse_stores_.push_back(s.sparse);
    const bool last = i + 1 == spec_.layers.size();
    if (dynamic_cast<const LossLayer*>(&layer) && !last)
      throw std::invalid_argument("layer " + std::to_string(i) + " (" + layer.kind() + ") is a loss head but not the last layer");
    if (last) head_ = dynamic_cast<const LossLayer*>(&layer);
  }
  if (!head_) throw std::invalid_argument("the last layer (" + std::string(layers_.back()->kind()) + ") is not a loss head");
  if (with_stores == 0) throw std::invalid_argument("a network needs a layer with parameters");
  // Buffers: the input, then one per layer output; a fused relu writes into its linear layer's.
  buffers_.resize(1);
  for (size_t i = 0; i < layers_.size(); ++i) {
    in_.push_back(i == 0 ? 0 : out_[i - 1]);
    if (relu_fused_[i]) {
      out_.push_back(in_[i]);
    } else {
      out_.push_back(buffers_.size());
      buffers_.emplace_back();
    }
  }
  grads_.resize(buffers_.size());
  went_dormant_.resize(sparse_stores_.size());
  gradients_.resize(layers_.size());
  set_rule(spec_.rule);
}

void Network::set_rule(const RuleSpec& spec) {
  const Rule rule = parse_rule(spec);
  if (rule.structure == StructureKind::kDeepR && !rule.global_budget)
    for (const SparseStore* store : sparse_stores_)
      if (store->active() != store->budget)
        throw std::invalid_argument("rule.budget is \"layer\", but sparse store " + std::to_string(store->id) + " has " +
                                    std::to_string(store->active()) + " active connections, not its budget " +
                                    std::to_string(store->budget));
  if (rule_.signed_theta && !rule.signed_theta)  // a baseline's signed weights would read as dormant
    for (const SparseStore* store : sparse_stores_)
      if (std::any_of(store->theta.begin(), store->theta.end(), [](float t) { return t < 0.0f; }))
        throw std::invalid_argument("rule.structure \"" + spec.structure + "\" reads theta below 0 as dormant, but sparse store " +
                                    std::to_string(store->id) + " holds negative weights trained by a signed-weight rule");
  std::unique_ptr<StructureRule> structure = make_structure(rule);
  // Whatever else the new structure rule keeps must hold already: a global budget needs the
  // network's connections to fill it (a prune removed some), a baseline's per-store bound each
  // store within its own budget (DEEP R's global budget moves connections between stores).
  if (const std::string problem = structure->admits(sparse_stores_); !problem.empty())
    throw std::invalid_argument("rule.structure \"" + spec.structure + "\" (rule.budget \"" + spec.budget +
                                "\") does not hold for the network as trained: " + problem);
  const std::vector<std::string> states = state_names(rule);
  for (const std::unique_ptr<Layer>& layer : layers_)
    for (const StoreRef& s : layer->stores()) {
      if (s.sparse) keep_states(s.sparse->states, states, s.sparse->active());
      if (s.dense) keep_states(s.dense->states, states, s.dense->value.size());
    }
  rule_ = rule;
  spec_.rule = spec;
  structure_ = std::move(structure);
  structure_->adopt(sparse_stores_, spec_.seed);
}

uint32_t Network::load_rows(const float* inputs, const uint32_t* rows, uint64_t first, uint32_t batch) {
  const uint32_t stride = padded_batch(batch);
  buffers_[0].resize(size_t(input_size()) * stride);
  gather_feature_major(inputs, input_size(), rows, first, batch, stride, buffers_[0].data());
  return stride;
}

BatchTargets Network::load_targets(const SampleTargets& sample, const uint32_t* rows, uint64_t first, uint32_t batch,
                                   uint32_t stride) {
  const bool labels = targets() == TargetKind::kLabels;
  if (labels ? !sample.labels : !sample.values)
    throw std::invalid_argument(std::string("the loss head (") + head_->kind() + ") takes " +
                                (labels ? "class labels" : "target values"));
  if (!labels) {
    values_.resize(size_t(classes()) * stride);
    gather_feature_major(sample.values, classes(), rows, first, batch, stride, values_.data());
    return BatchTargets{nullptr, values_.data()};
  }
  labels_.resize(batch);
  for (uint32_t b = 0; b < batch; ++b) {
    const uint64_t row = rows ? rows[b] : first + b;
    labels_[b] = sample.labels[row];
    if (labels_[b] < 0 || uint32_t(labels_[b]) >= classes())
      throw std::invalid_argument("label " + std::to_string(labels_[b]) + " of sample " + std::to_string(row) +
                                  " is outside [0, " + std::to_string(classes()) + ")");
  }
  return BatchTargets{labels_.data(), nullptr};
}

void Network::forward(uint32_t stride) {
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (relu_fused_[i]) continue;  // applied by the sparse_linear layer below
    CacheLineVector<float>& y = buffers_[out_[i]];
    y.resize(size_t(layers_[i]->outputs()) * stride);
    const float* x = buffers_[in_[i]].data();
    if (i + 1 < layers_.size() && relu_fused_[i + 1]) linear_[i]->forward_relu(x, y.data(), stride, true);
    else layers_[i]->forward(x, y.data(), stride);
  }
}

void Network::train_step(const float* inputs, const SampleTargets& sample_targets, const uint32_t* rows, uint32_t batch,
                         const StepHyper& step_hyper, StepStats& stats) {
  if (batch == 0) throw std::invalid_argument("batch must not be empty");
  const uint32_t stride = padded_batch(batch);
  const BatchTargets targets = load_targets(sample_targets, rows, 0, batch, stride);
  load_rows(inputs, rows, 0, batch);
  const StepHyper hyper = with_bias_corrections(step_hyper, step_);
  forward(stride);

  CacheLineVector<float>& dlogits = grads_[out_.back()];
  dlogits.resize(size_t(classes()) * stride);
  stats.noise_seconds = 0;
  stats.loss = head_->loss(buffers_[out_.back()].data(), targets, batch, stride, dlogits.data());
  // With an exchange the check waits for the combined loss (backward_exchange_update), so that
  // processes sharing a batch all stop at the same step.
  if (!exchange_) throw_if_not_finite(stats.loss);

  if (exchange_ || hyper.clip_norm > 0) backward_exchange_update(stride, batch, hyper, stats);
  else backward_and_update(stride, hyper, stats);
  const auto regrowth_start = std::chrono::steady_clock::now();
  structure_->restructure(sparse_stores_, went_dormant_, spec_.seed, step_, hyper, stats.rewired);
  stats.regrowth_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - regrowth_start).count();
  ++step_;
}

SlotUpdate Network::update_for(const SparseStore* store, const StepHyper& hyper) const {
  // The noise stream of the store's id; a dense store draws no noise.
  return SlotUpdate{rule_, hyper, RngStream{spec_.seed, step_, store ? store->id : 0, Purpose::kNoise}};
}

void Network::throw_if_not_finite(const LossResult& loss) const {
  if (!std::isfinite(loss.loss_sum))
    throw NonFiniteError("loss is not finite at step " + std::to_string(step_) +
                             ": the batch holds NaN or Infinity, or training diverged (lower the learning rate)",
                         parameter_layer_.back() - 1);
}

void Network::throw_diverged(size_t i) const {
  const uint32_t layer = parameter_layer_[i];
  throw NonFiniteError("training diverged (lower the learning rate): a parameter of layer " + std::to_string(layer) +
                           " is no longer finite at step " + std::to_string(step_),
                       layer);
}

float* Network::input_gradient(size_t i, uint32_t stride) {
  if (i == 0) return nullptr;
  CacheLineVector<float>& dx = grads_[in_[i]];
  dx.resize(size_t(layers_[i]->inputs()) * stride);
  return dx.data();
}

void Network::backward_layer(size_t i, uint32_t stride) {
  float* dx = input_gradient(i, stride);
  layers_[i]->backward(buffers_[in_[i]].data(), buffers_[out_[i]].data(), grads_[out_[i]].data(), dx, stride, gradients_[i]);
}

void Network::backward_and_update(uint32_t stride, const StepHyper& hyper, StepStats& stats) {
  for (size_t i = layers_.size(); i-- > 0;) {
    SparseLinear* linear = linear_[i];
    if (!linear) {  // no fused sweep: backward, then the update of its stores (if any)
      backward_layer(i, stride);
      update_layer(i, hyper, stats);
      continue;
    }
    SparseStore& weight = linear->weight();
    const UpdateResult r = linear->backward_update(buffers_[in_[i]].data(), grads_[out_[i]].data(), input_gradient(i, stride),
                                                   stride, update_for(&weight, hyper), went_dormant_[weight.id]);
    stats.noise_seconds += r.noise_seconds;
    if (!r.finite) throw_diverged(i);
  }
}

void Network::backward_exchange_update(uint32_t stride, uint32_t batch, const StepHyper& hyper, StepStats& stats) {
  for (size_t i = layers_.size(); i-- > 0;) backward_layer(i, stride);
  if (exchange_) {
    BatchLoss combined{stats.loss, batch};
    exchange_(gradients_, combined);
    stats.loss = combined.loss;
    throw_if_not_finite(stats.loss);
  }
  for (size_t i = 0; i < layers_.size(); ++i) {  // before any update, so a refused step changes nothing
    const std::vector<StoreRef> stores = layers_[i]->stores();
    bool same = gradients_.size() == layers_.size() && gradients_[i].stores.size() == stores.size();
    for (size_t s = 0; same && s < stores.size(); ++s)
      same = gradients_[i].stores[s].size() == (stores[s].sparse ? stores[s].sparse->active() : stores[s].dense->value.size());
    if (!same)
      throw std::logic_error("the gradient exchange changed the size of the gradients of layer " + std::to_string(i) +
                             ": it may change their values only");
  }
  // After the exchange: the norm of the gradients every process applies.
  if (hyper.clip_norm > 0) clip_by_global_norm(gradients_, hyper.clip_norm);
  // From the head down, as the fused path, so a divergence reports the same layer.
  for (size_t i = layers_.size(); i-- > 0;) update_layer(i, hyper, stats);
}

void Network::update_layer(size_t i, const StepHyper& hyper, StepStats& stats) {
  const std::vector<StoreRef> stores = layers_[i]->stores();
  bool finite = true;
  for (size_t s = 0; s < stores.size(); ++s) {
    const float* g = gradients_[i].stores[s].data();
    if (stores[s].sparse) {
      SparseStore& store = *stores[s].sparse;
      const UpdateResult r = sparse_update(store.view(), g, update_for(&store, hyper), went_dormant_[store.id]);
      stats.noise_seconds += r.noise_seconds;
      finite &= r.finite;
    } else {
      finite &= dense_update(stores[s].dense->view(), g, update_for(nullptr, hyper));
    }
  }
  if (!finite) throw_diverged(i);
}

LossResult Network::evaluate(const float* inputs, const SampleTargets& sample_targets, uint64_t count) {
  LossResult total;
  for (uint64_t first = 0; first < count; first += kEvalBatch) {
    const uint32_t batch = uint32_t(std::min<uint64_t>(kEvalBatch, count - first));
    const BatchTargets targets = load_targets(sample_targets, nullptr, first, batch, padded_batch(batch));
    forward(load_rows(inputs, nullptr, first, batch));
    const LossResult part = head_->loss(buffers_[out_.back()].data(), targets, batch, padded_batch(batch), nullptr);
    total.loss_sum += part.loss_sum;
    total.correct += part.correct;
  }
  return total;
}

void Network::predict(const float* inputs, uint64_t count, float* logits) {
  for (uint64_t first = 0; first < count; first += kEvalBatch) {
    const uint32_t batch = uint32_t(std::min<uint64_t>(kEvalBatch, count - first));
    const uint32_t stride = load_rows(inputs, nullptr, first, batch);
    forward(stride);
    const float* y = buffers_[out_.back()].data();
    for (uint32_t b = 0; b < batch; ++b)
      for (uint32_t c = 0; c < classes(); ++c) logits[(first + b) * classes() + c] = y[size_t(c) * stride + b];
  }
}

std::string Network::check() const {
  for (size_t i = 0; i < layers_.size(); ++i)
    for (const StoreRef& s : layers_[i]->stores()) {
      const std::string where = "layer " + std::to_string(i) + ", " + s.name + ": ";
      const std::string problem = s.sparse ? s.sparse->check(rule_.signed_theta) : "";
      if (!problem.empty()) return where + problem;
      if (s.dense)
        for (const StateArray& a : s.dense->states)
          if (a.values.size() != s.dense->value.size()) return where + "state array " + a.name + " has the wrong length";
    }
  return structure_->check(sparse_stores_);
}

}  // namespace deepr
