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
// the layer's own spec sets the network's input size), the id the next sparse store gets and the
// id the next dense weight store gets (its own numbering: it keys the dense init stream only).
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
//   sparse_conv2d  in_channels, height, width, out_channels, kernel_height, kernel_width, stride
//                  (>= 1), padding (< each kernel side), budget (K, in [1, out_channels x
//                  in_channels x kernel_height x kernel_width]), bias (boolean); input features
//                  in_channels x height x width, output out_channels x out_height x out_width with
//                  out_height = (height + 2 padding - kernel_height) / stride + 1 (the same for
//                  width), both feature-major (conv_geometry.hpp)
//   dense_conv2d   the fields of sparse_conv2d but budget
//   max_pool2d     channels, height, width, kernel_height, kernel_width (at most height and width),
//                  stride; output channels x out_height x out_width as above without padding
//   sparse_lstm    steps, features, units (integers; the input is steps x features wide),
//                  inputBudget (K of the input weights, in [1, features x 4 units]),
//                  recurrentBudget (K of the recurrent weights, in [1, units x 4 units]),
//                  sequence (boolean: output h of every step, steps x units, instead of the last)
//   dense_linear   inputs, outputs (integers, inputs x outputs at most 2^31 - 1), bias (boolean)
//   mean_squared_error  none (the width below is the number of regression outputs)
std::unique_ptr<Layer> build_layer(const LayerSpec& spec, LayerContext& context);

// The kinds build_layer knows, in a fixed order.
std::vector<std::string> layer_kinds();

}  // namespace deepr
