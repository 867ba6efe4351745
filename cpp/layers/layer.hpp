// A layer of a network: forward, backward, and the parameter stores it owns. Layers are built from
// data by the registry (layer_registry.hpp); the network runs them in order and applies the
// training rule to their stores (rules/).
#pragma once

#include <cstdint>
#include <vector>

#include "dense_store.hpp"
#include "gradients.hpp"
#include "loss.hpp"
#include "sparse_store.hpp"

namespace deepr {

// One store of a layer under its name ("weight", "bias"): exactly one of the pointers is set.
struct StoreRef {
  const char* name;
  SparseStore* sparse;
  DenseStore* dense;
};

class Layer {
 public:
  virtual ~Layer() = default;

  virtual const char* kind() const = 0;
  virtual uint32_t inputs() const = 0;
  virtual uint32_t outputs() const = 0;
  // The parameter stores, in a fixed order (the order of LayerGradients::stores); none by default.
  virtual std::vector<StoreRef> stores() { return {}; }

  // y = f(x) for `stride` samples, feature-major (x[i * stride + b]); padding samples stay finite.
  virtual void forward(const float* x, float* y, uint32_t stride) = 0;
  // From dy = dE/dy: dx = dE/dx (not computed when dx is null: nothing below needs it) and the
  // gradient of every parameter of every store into `gradients` (resized to them). x and y are
  // this step's forward input and output.
  virtual void backward(const float* x, const float* y, const float* dy, float* dx, uint32_t stride,
                        LayerGradients& gradients) = 0;
};

// What a loss head compares the network's outputs with. Labels: one class per sample. Values:
// one float per output and sample (regression targets).
enum class TargetKind : uint32_t { kLabels, kValues };

// A batch's targets, the one the head takes set: labels[b] for samples b < batch, or values
// feature-major like the outputs (values[j * stride + b], zero in the padding samples).
struct BatchTargets {
  const int32_t* labels = nullptr;
  const float* values = nullptr;
};

// The last layer of a network: it passes the outputs through unchanged (forward and backward are
// the identity) and gives the loss and its gradient dE/doutputs for a batch's targets.
class LossLayer : public Layer {
 public:
  virtual TargetKind targets() const = 0;
  // Loss (and, for labels, accuracy) over samples [0, batch) of feature-major outputs (stride >=
  // batch); with `grad`, dE/doutputs of the batch mean loss, zero in the padding samples.
  virtual LossResult loss(const float* outputs, const BatchTargets& targets, uint32_t batch, uint32_t stride,
                          float* grad) const = 0;
};

}  // namespace deepr
