// Gradient clipping by global norm (Pascanu et al. 2013): when the Euclidean norm of every
// gradient of a step, all stores of all layers together, exceeds a bound, all of them are scaled
// down by the same factor so that it equals the bound. It keeps a recurrent network's rare
// exploding gradients from throwing its parameters far in one step, whatever the update rule.
#pragma once

#include <vector>

#include "gradients.hpp"

namespace deepr {

// ||g|| over every value of every store of every layer, summed in float64 in layer, store and
// value order (the same bits for any thread count).
double global_norm(const std::vector<LayerGradients>& gradients);

// Scales every gradient by max_norm / ||g|| when ||g|| > max_norm (max_norm > 0); returns ||g||
// before clipping.
double clip_by_global_norm(std::vector<LayerGradients>& gradients, float max_norm);

}  // namespace deepr
