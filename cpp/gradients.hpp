// The gradients of a training step as values, between the backward pass and the update, and the
// hook that may exchange them (data-parallel training averages them over processes there).
#pragma once

#include <functional>
#include <vector>

namespace deepr {

// dE/dtheta of one layer's parameters for the step's batch: one per active slot, in slot order,
// with the connection's sign applied (theta, not the weight), and one per output bias (empty
// without biases).
struct LayerGradients {
  std::vector<float> theta;
  std::vector<float> bias;
};

// Called once per step with every layer's gradients (index l: layer l). It may change the values
// in place, never the sizes (the step then throws std::logic_error before updating anything); the
// update applies what it leaves.
using GradientExchange = std::function<void(std::vector<LayerGradients>&)>;

}  // namespace deepr
