// A dense parameter store: every value kept (a layer's bias today), with the optimiser's state
// arrays beside it, one value per parameter each.
#pragma once

#include <cstdint>
#include <vector>

#include "state_arrays.hpp"
#include "store_views.hpp"

namespace deepr {

struct DenseStore {
  std::vector<float> value;
  StateArrays states;

  explicit DenseStore(uint32_t size) : value(size, 0.0f) {}

  DenseView view() {
    DenseView v{uint32_t(value.size()), value.data(), uint32_t(states.size()), {}};
    for (size_t s = 0; s < states.size(); ++s) v.state[s] = states[s].values.data();
    return v;
  }
};

}  // namespace deepr
