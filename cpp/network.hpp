// A feed-forward network of DEEP R layers: ReLU between layers, softmax cross-entropy on top.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gradients.hpp"
#include "loss.hpp"
#include "rewiring.hpp"
#include "sparse_layer.hpp"

namespace deepr {

struct DeepRUpdate;

struct NetworkSpec {
  std::vector<uint32_t> sizes;    // widths, input first: {784, 300, 100, 10}
  std::vector<uint64_t> budgets;  // active connections K_l per layer, sizes.size() - 1 of them
  bool bias = false;              // the reference network has none
  bool momentum = false;          // keep a velocity per connection (reset to 0 on regrowth)
  bool global_budget = false;     // one budget, sum of K_l, shared by all layers
  GlobalShare share = GlobalShare::kByBudget;
  uint64_t seed = 0;
};

struct StepHyper {
  float lr = 0.5f;
  float alpha = 1e-5f;
  float noise_std = 0.0f;  // sqrt(2 eta T)
  float momentum = 0.0f;
};

// The step's hyper-parameters by name, as the binding receives them, each with the range the update
// needs (finite float32 values; momentum at most 1). Values outside it break an invariant of the
// update: lib/ validates the user's options long before they get here.
struct StepHyperField {
  const char* name;
  float StepHyper::*field;
  double min, max;
};
inline constexpr double kFloatMax = 3.4e38;
inline constexpr StepHyperField kStepHyperFields[] = {
    {"lr", &StepHyper::lr, 0, kFloatMax},
    {"alpha", &StepHyper::alpha, 0, kFloatMax},
    {"noiseStd", &StepHyper::noise_std, 0, kFloatMax},
    {"momentum", &StepHyper::momentum, 0, 1},
};

struct StepStats {
  LossResult loss;
  std::vector<uint64_t> rewired;  // connections activated per layer in this step
  double regrowth_seconds = 0;    // time spent choosing and inserting them (what rewiring costs)
  double noise_seconds = 0;       // time spent drawing the update's Gaussian noise (thread-seconds)
};

class Network {
 public:
  // Validates the spec and initialises like the reference code (weight_sampler_strict_number in
  // script_mnist_deep_rewiring.py, github.com/guillaumeBellec/deep_rewiring): K_l distinct
  // positions drawn uniformly, theta = |N(0, 1)| / sqrt(n_in), fixed random signs.
  explicit Network(NetworkSpec spec);

  const NetworkSpec& spec() const { return spec_; }
  std::vector<SparseLayer>& layers() { return layers_; }
  const std::vector<SparseLayer>& layers() const { return layers_; }
  uint32_t input_size() const { return spec_.sizes.front(); }
  uint32_t classes() const { return spec_.sizes.back(); }
  uint64_t step() const { return step_; }
  void set_step(uint64_t step) { step_ = step; }

  // One iteration of Algorithm 1 on samples `rows` of a row-major data set: forward, backward,
  // the gradient exchange (if set), the update, then regrowth so that exactly K connections are
  // active again. Without an exchange the backward pass and the update run fused, one sweep per
  // layer; with one, as two passes with the gradients in between. Both give the same bits.
  // Throws NonFiniteError, before changing anything, when the loss is not finite.
  void train_step(const float* inputs, const int32_t* labels, const uint32_t* rows, uint32_t batch,
                  const StepHyper& hyper, StepStats& stats);

  // Sets the hook called with every layer's gradients between backward and update; an empty
  // function removes it (the fused path again).
  void set_gradient_exchange(GradientExchange exchange) { exchange_ = std::move(exchange); }

  // Loss and accuracy over `count` consecutive samples, without training.
  LossResult evaluate(const float* inputs, const int32_t* labels, uint64_t count);

  // Logits, row-major count x classes.
  void predict(const float* inputs, uint64_t count, float* logits);

  // Every invariant of the strict bound: "" or what is wrong.
  std::string check() const;

 private:
  // The batch's labels (samples `rows`, or first .. first + batch), each checked to be a class.
  const int32_t* load_labels(const int32_t* labels, const uint32_t* rows, uint64_t first, uint32_t batch);
  // Gathers a batch feature-major; returns its padded stride.
  uint32_t load_rows(const float* inputs, const uint32_t* rows, uint64_t first, uint32_t batch);
  void forward(uint32_t stride);
  // Backward and update of every layer, from the last down, fused per layer.
  void backward_and_update(uint32_t stride, const StepHyper& hyper, StepStats& stats);
  // Backward of every layer into gradients_, the exchange, then the update of every layer.
  void backward_exchange_update(uint32_t stride, const StepHyper& hyper, StepStats& stats);
  // Dz of layer l - 1's output from dx of layer l's input (grad_in_): through the ReLU, into grad_.
  void through_relu(size_t l);
  DeepRUpdate update_of(size_t l, const StepHyper& hyper) const;
  void regrow(std::vector<uint64_t>& rewired);

  NetworkSpec spec_;
  std::vector<SparseLayer> layers_;
  uint64_t step_ = 0;
  std::vector<std::vector<float>> act_;  // act_[0]: the input batch; act_[l + 1]: output of layer l
  std::vector<float> grad_, grad_in_;    // dE/dz of the layer being updated, and of its input
  std::vector<int32_t> labels_;          // the batch's labels
  std::vector<std::vector<uint32_t>> went_dormant_;  // per layer: slots that died in this step
  std::vector<uint64_t> dying_counts_;               // per layer: how many of those
  std::vector<uint64_t> picks_;                      // positions being regrown in one layer
  GradientExchange exchange_;                        // empty: the fused path
  std::vector<LayerGradients> gradients_;            // per layer, on the split path
};

}  // namespace deepr
