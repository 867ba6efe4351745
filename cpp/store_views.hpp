// What the kernels see of a parameter store: pointers and sizes only, no std::vector and no class
// with behaviour, so that a device library (a CUDA one) can run the same kernels on raw buffers.
#pragma once

#include <cstdint>

namespace deepr {

// At most this many optimiser state arrays per store (momentum keeps 1, Adam 2).
constexpr uint32_t kMaxStateArrays = 2;

// A sparse store in CSR layout (sparse_store.hpp): the slots of output j are
// [row_start[j], row_start[j + 1]); per slot the input index with the sign bit, theta, and the
// optimiser's state arrays state[0 .. states), in the order the optimiser declares them.
struct SparseView {
  uint32_t n_in, n_out;
  uint32_t id;     // keys the store's random streams
  uint32_t slots;  // active connections: row_start[n_out]
  const uint32_t* row_start;
  const uint32_t* source;
  float* theta;
  uint32_t states;
  float* state[kMaxStateArrays];
};

// A dense store: `size` values and the optimiser's state arrays; size 0 stands for no store.
struct DenseView {
  uint32_t size;
  float* value;
  uint32_t states;
  float* state[kMaxStateArrays];
};

}  // namespace deepr
