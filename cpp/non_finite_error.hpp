// Thrown when training meets a value that is not finite: a loss (before anything changed) or a
// parameter after an update (training diverged). Carries the layer so callers need not parse text:
// its index among the network's layers that have parameters (for the MLP, sparse linear layer n;
// the last of them for the loss).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace deepr {

class NonFiniteError : public std::runtime_error {
 public:
  NonFiniteError(const std::string& what, uint32_t layer) : std::runtime_error(what), layer(layer) {}
  uint32_t layer;
};

}  // namespace deepr
