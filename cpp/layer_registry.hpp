// Builds a layer from data: a kind name and a record of named numbers and booleans, as a network
// spec declares it (JSON-able). The one place that knows every layer kind; the binding passes
// records through without looking at the kind.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "layers/layer.hpp"

namespace deepr {

struct LayerSpec {
  std::string kind;
  std::map<std::string, double> numbers;
  std::map<std::string, bool> booleans;
};

// What a layer is built in: the run's seed, the width of the layer below (0 for the first layer:
// the layer's own spec sets the network's input size) and the id the next sparse store gets.
// Dense weight stores are numbered apart (next_dense_id): their ids key the dense init stream only.
struct LayerContext {
  uint64_t seed = 0;
  uint32_t inputs = 0;
  uint32_t next_sparse_id = 0;
  uint32_t next_dense_id = 0;
};

// Throws std::invalid_argument naming the field that is missing, unknown or out of range (or
// saying that the kind is unknown).
// Kinds and their fields:
//   sparse_linear  inputs, outputs (integers in [1, 2^31 - 1]), budget (K, in [1, inputs x outputs]),
//                  bias (boolean)
//   relu           none (its size is the width below)
//   softmax_cross_entropy  none (the width below is the number of classes, at least 2)
//   dense_linear   inputs, outputs (integers, inputs x outputs at most 2^31 - 1), bias (boolean)
//   mean_squared_error  none (the width below is the number of regression outputs)
std::unique_ptr<Layer> build_layer(const LayerSpec& spec, LayerContext& context);

// The kinds build_layer knows, in a fixed order.
std::vector<std::string> layer_kinds();

}  // namespace deepr
