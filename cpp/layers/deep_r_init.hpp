// The initial state of a sparse weight store, for every layer kind that has one.
#pragma once

#include <cstdint>

#include "sparse_store.hpp"

namespace deepr {

// Initialised like the reference code (weight_sampler_strict_number in
// script_mnist_deep_rewiring.py, github.com/guillaumeBellec/deep_rewiring): store.budget distinct
// positions drawn uniformly, theta = |N(0, 1)| / sqrt(n_in) (n_in: the fan-in of an output),
// fixed random signs. The store's id keys its random streams.
void initialise_deep_r(SparseStore& store);

}  // namespace deepr
