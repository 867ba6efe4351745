// What the kernels see of a parameter store: pointers and sizes only, no std::vector and no class
// with behaviour, so that a device library (a CUDA one) can run the same kernels on raw buffers.
// They are the device interface's C structs (device/device_abi.h), not copies of them.
#pragma once

#include <cstdint>

#include "device/device_abi.h"

namespace deepr {

// At most this many optimiser state arrays per store (momentum keeps 1, Adam 2).
constexpr uint32_t kMaxStateArrays = DEEPR_MAX_STATE_ARRAYS;

constexpr uint32_t kSignBit = DEEPR_SIGN_BIT;  // set in source[k]: the connection's weight is -theta
constexpr uint32_t kIndexMask = ~kSignBit;     // the input index

// A sparse store in CSR layout (sparse_store.hpp): the slots of output j are
// [row_start[j], row_start[j + 1]); per slot the input index with the sign bit, theta, and the
// optimiser's state arrays state[0 .. states), in the order the optimiser declares them; `id` keys
// the store's random streams.
using SparseView = deepr_sparse_view;

// A dense store: `size` values and the optimiser's state arrays; size 0 stands for no store.
using DenseView = deepr_dense_view;

}  // namespace deepr
