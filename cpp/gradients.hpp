// The gradients of a training step as values, between the backward pass and the update, and the
// hook that may exchange them (data-parallel training averages them over processes there).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "loss.hpp"

namespace deepr {

// dE/d(parameter) of one layer for the step's batch: one array per parameter store of the layer,
// in the order Layer::stores() lists them, one value per parameter. For a sparse store that is one
// per active slot, in slot order, with the connection's sign applied (theta, not the weight).
struct LayerGradients {
  std::vector<std::vector<float>> stores;
};

// The loss of the step's batch as this process saw it: its sum and counts over `samples` rows
// (the gradients are means over those rows). An exchange that combines processes leaves the
// combined loss and row count here; the step stops on a loss that is not finite only after the
// exchange, so that every process makes that decision from the same combined value.
struct BatchLoss {
  LossResult loss;
  uint32_t samples = 0;
};

// Called once per step with every layer's gradients (index i: layer i of the network; a layer
// without stores has none) and the batch's loss. It may change the values in place, never the
// sizes (the step then throws std::logic_error before updating anything); the update applies
// what it leaves.
using GradientExchange = std::function<void(std::vector<LayerGradients>&, BatchLoss&)>;

}  // namespace deepr
