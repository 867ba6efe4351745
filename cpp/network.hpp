// A network built from data: a list of layer specs (layer_registry.hpp) ending in a loss head, and
// a training rule (rules/rule.hpp). It runs the training step and owns nothing of the algorithm
// but the order of its parts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cache_line_vector.hpp"
#include "gradients.hpp"
#include "layer_registry.hpp"
#include "layers/sparse_linear.hpp"
#include "loss.hpp"
#include "rules/rule.hpp"
#include "rules/structure_rule.hpp"

namespace deepr {

struct NetworkSpec {
  uint64_t seed = 0;
  std::vector<LayerSpec> layers;  // input first; the last one is the loss head
  RuleSpec rule;
};

// A data set's targets, the one the network's loss head takes (LossLayer::targets) set: labels,
// one class per sample, or values, samples x the head's outputs, row-major.
struct SampleTargets {
  const int32_t* labels = nullptr;
  const float* values = nullptr;
};

struct StepStats {
  LossResult loss;
  std::vector<uint64_t> rewired;  // connections activated per sparse store in this step
  double regrowth_seconds = 0;    // time spent choosing and inserting them (what rewiring costs)
  double noise_seconds = 0;       // time spent drawing the update's Gaussian noise (thread-seconds)
};

class Network {
 public:
  // Builds every layer (sparse stores get ids 0, 1, ... in order) and asserts the spec's
  // invariants: std::invalid_argument naming the layer and what is wrong.
  explicit Network(NetworkSpec spec);

  const NetworkSpec& spec() const { return spec_; }
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  // Every sparse store, in id order.
  const std::vector<SparseStore*>& sparse_stores() const { return sparse_stores_; }
  uint32_t input_size() const { return layers_.front()->inputs(); }
  uint32_t classes() const { return head_->inputs(); }  // the head's width: classes, or regression outputs
  TargetKind targets() const { return head_->targets(); }
  uint64_t step() const { return step_; }
  void set_step(uint64_t step) { step_ = step; }

  const Rule& rule() const { return rule_; }
  // Changes the training rule between steps: every store then keeps exactly the state arrays the
  // new optimiser declares (new ones zero). Throws std::invalid_argument, changing nothing, for an
  // unknown part, a per-store budget that the stores do not meet, or a DEEP R rule while a store
  // holds a negative theta (a signed weight of a baseline rule, which DEEP R would read as dormant).
  void set_rule(const RuleSpec& rule);

  // One training step on samples `rows` of a row-major data set: forward, backward, the gradient
  // exchange (if set), the clipping by global norm (hyper.clip_norm > 0), the rule's optimiser and
  // prior, then its structure rule. Without an exchange or clipping the backward pass and the
  // update of a sparse_linear layer run fused, one sweep per layer; with one, as two passes with
  // the gradients in between. Both give the same bits. Throws
  // NonFiniteError, before changing anything, when the loss (with an exchange: the combined loss)
  // is not finite; std::invalid_argument
  // when `targets` does not hold what the head takes.
  void train_step(const float* inputs, const SampleTargets& targets, const uint32_t* rows, uint32_t batch,
                  const StepHyper& hyper, StepStats& stats);
  void train_step(const float* inputs, const int32_t* labels, const uint32_t* rows, uint32_t batch,
                  const StepHyper& hyper, StepStats& stats) {
    train_step(inputs, SampleTargets{labels, nullptr}, rows, batch, hyper, stats);
  }

  // Sets the hook called with every layer's gradients between backward and update; an empty
  // function removes it (the fused path again).
  void set_gradient_exchange(GradientExchange exchange) { exchange_ = std::move(exchange); }

  // Loss and accuracy over `count` consecutive samples, without training.
  LossResult evaluate(const float* inputs, const SampleTargets& targets, uint64_t count);
  LossResult evaluate(const float* inputs, const int32_t* labels, uint64_t count) {
    return evaluate(inputs, SampleTargets{labels, nullptr}, count);
  }

  // Logits, row-major count x classes.
  void predict(const float* inputs, uint64_t count, float* logits);

  // Every invariant of the stores and of the rule's budget: "" or what is wrong.
  std::string check() const;

 private:
  // The batch's targets (samples `rows`, or first .. first + batch): labels, each checked to be a
  // class, or values gathered feature-major for `stride` samples.
  BatchTargets load_targets(const SampleTargets& targets, const uint32_t* rows, uint64_t first, uint32_t batch,
                            uint32_t stride);
  // Gathers a batch feature-major into the input buffer; returns its padded stride.
  uint32_t load_rows(const float* inputs, const uint32_t* rows, uint64_t first, uint32_t batch);
  void forward(uint32_t stride);
  // From the head down: backward and update of every layer, fused where a layer has a fused sweep.
  void backward_and_update(uint32_t stride, const StepHyper& hyper, StepStats& stats);
  // Backward of every layer into gradients_, the exchange, the clipping, then the update of every layer.
  void backward_exchange_update(uint32_t stride, uint32_t batch, const StepHyper& hyper, StepStats& stats);
  // The backward pass of layer i: dE/d its input from dE/d its output (grads_), and its gradients.
  void backward_layer(size_t i, uint32_t stride);
  // dE/d the input of layer i, sized for `stride` samples; null for the first layer (nothing needs it).
  float* input_gradient(size_t i, uint32_t stride);
  // The rule's update of every store of layer i from gradients_[i].
  void update_layer(size_t i, const StepHyper& hyper, StepStats& stats);
  SlotUpdate update_for(const SparseStore* store, const StepHyper& hyper) const;
  // NonFiniteError, before anything changes, when the batch's loss is not finite.
  void throw_if_not_finite(const LossResult& loss) const;
  [[noreturn]] void throw_diverged(size_t i) const;

  NetworkSpec spec_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<SparseLinear*> linear_;       // per layer: the layer if it is a sparse_linear, else null
  std::vector<bool> relu_fused_;            // per layer: a relu applied by the sparse_linear below it
  std::vector<uint32_t> parameter_layer_;   // per layer: how many layers with stores come before it
  std::vector<SparseStore*> sparse_stores_;
  const LossLayer* head_ = nullptr;
  Rule rule_;
  std::unique_ptr<StructureRule> structure_;
  uint64_t step_ = 0;
  std::vector<CacheLineVector<float>> buffers_;  // activations: buffers_[0] the input batch
  std::vector<size_t> in_, out_;             // per layer: the buffers of its input and output
  // dE/d each activation buffer, sized once per batch width: a fused relu's backward runs in place.
  std::vector<CacheLineVector<float>> grads_;
  std::vector<int32_t> labels_;              // the batch's labels
  std::vector<float> values_;                // or its target values, feature-major
  std::vector<std::vector<uint32_t>> went_dormant_;  // per sparse store: slots that died in this step
  GradientExchange exchange_;                        // empty: the fused path
  std::vector<LayerGradients> gradients_;            // per layer
};

}  // namespace deepr
