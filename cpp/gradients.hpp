// The gradients of a training step as values, between the backward pass and the update, and the
// hook that may exchange them (data-parallel training averages them over processes there).
#pragma once

#include <functional>
#include <vector>

namespace deepr {

// dE/d(parameter) of one layer for the step's batch: one array per parameter store of the layer,
// in the order Layer::stores() lists them, one value per parameter. For a sparse store that is one
// per active slot, in slot order, with the connection's sign applied (theta, not the weight).
struct LayerGradients {
  std::vector<std::vector<float>> stores;
};

// Called once per step with every layer's gradients (index i: layer i of the network; a layer
// without stores has none). It may change the values in place, never the sizes (the step then
// throws std::logic_error before updating anything); the update applies what it leaves.
using GradientExchange = std::function<void(std::vector<LayerGradients>&)>;

}  // namespace deepr
