// The device interface's argument checks (device_abi.h) that every device makes alike, with the
// same messages, and the status codes a call returns: plain host C++, compiled into the core's CPU
// device and, under nvcc, into the CUDA device (cuda/cuda_device.cu). The checks read no device
// memory, so they leave out the fields of a call that live on the device (a sparse view's
// row_start, the labels, the slots a born position would take); a device whose memory the host
// can read checks those itself, after these. A refusal throws InvalidArgument; call_status turns
// it, and what else a call throws, into the status and the message for last_error.
//
// The checks of a call that takes a sparse view assume the device has checked the view
// (check_sparse_view, and what it adds) first.
#pragma once

#include <algorithm>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

#include "device_abi.h"

namespace deepr::abi {

// A refused argument: DEEPR_INVALID_ARGUMENT with this message.
struct InvalidArgument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
// An update that left a parameter non-finite: DEEPR_NON_FINITE.
struct NonFinite : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The device's memory could not hold an allocation: DEEPR_OUT_OF_MEMORY with this message.
struct OutOfMemory : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs one call of a device, returning DEEPR_OK or the status of what it threw, with the message
// in `error` ("" on success): InvalidArgument, NonFinite and OutOfMemory theirs, std::bad_alloc
// DEEPR_OUT_OF_MEMORY saying `host_out_of_memory`, any other exception DEEPR_DEVICE_FAILURE.
template <class F>
deepr_status call_status(std::string& error, const char* host_out_of_memory, F&& call) {
  error.clear();
  try {
    call();
    return DEEPR_OK;
  } catch (const InvalidArgument& e) {
    error = e.what();
    return DEEPR_INVALID_ARGUMENT;
  } catch (const NonFinite& e) {
    error = e.what();
    return DEEPR_NON_FINITE;
  } catch (const OutOfMemory& e) {
    error = e.what();
    return DEEPR_OUT_OF_MEMORY;
  } catch (const std::bad_alloc&) {
    error = host_out_of_memory;
    return DEEPR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    error = e.what();
    return DEEPR_DEVICE_FAILURE;
  }
}

inline constexpr uint32_t kMaxStoreSize = 0x7FFFFFFFu;  // inputs, outputs and slots of a store

inline void require(bool ok, const char* what) {
  if (!ok) throw InvalidArgument(what);
}

inline NonFinite sparse_store_not_finite(uint32_t id) {
  return NonFinite("a parameter of sparse store " + std::to_string(id) + " is no longer finite");
}
inline NonFinite dense_store_not_finite() { return NonFinite("a parameter of a dense store is no longer finite"); }

inline void check_stride(uint32_t stride) {
  require(stride > 0 && stride % 16 == 0, "stride must be a positive multiple of 16");
}

inline void check_states(uint32_t states, float* const* state) {
  require(states <= DEEPR_MAX_STATE_ARRAYS, "a store has at most DEEPR_MAX_STATE_ARRAYS state arrays");
  for (uint32_t s = 0; s < states; ++s) require(state[s] != nullptr, "a state array is null");
}

// The view's own fields; not row_start's entries, which live on the device.
inline void check_sparse_view(const deepr_sparse_view* w) {
  require(w != nullptr, "the sparse view is null");
  require(w->n_in > 0 && w->n_out > 0 && w->n_in <= kMaxStoreSize && w->n_out <= kMaxStoreSize,
          "a sparse store has 1 to 2^31 - 1 inputs and outputs");
  require(w->row_start && w->source && w->theta, "a sparse view's row_start, source or theta is null");
  check_states(w->states, w->state);
}

// The dense view, or an empty one (size 0, no value) for none.
inline deepr_dense_view dense_or_none(const deepr_dense_view* d) {
  if (!d || d->size == 0) return deepr_dense_view{};
  require(d->value != nullptr, "a dense view's value is null");
  check_states(d->states, d->state);
  return *d;
}

// A known optimiser and prior, and a store with exactly the optimiser's state arrays:
// states_of(optimiser) is how many the device's optimiser keeps.
template <class StatesOf>
void check_update(const deepr_update* u, uint32_t states, StatesOf&& states_of) {
  require(u != nullptr, "the update is null");
  require(u->optimiser <= DEEPR_OPTIMISER_ADAM, "unknown optimiser");
  require(u->prior <= DEEPR_PRIOR_L1_SHRINK, "unknown prior");
  require(states == states_of(u->optimiser), "the store's state arrays are not the optimiser's");
}

// The checks of each call of the table, in its order.

// alloc: *buffer is null after a refusal.
inline void check_alloc(uint64_t bytes, void** buffer) {
  require(buffer != nullptr, "the result pointer is null");
  *buffer = nullptr;
  require(bytes > 0, "an allocation needs at least one byte");
}

// write, read and copy.
inline void check_transfer(const void* dst, const void* src, uint64_t bytes) {
  require(bytes == 0 || (dst && src), "a null buffer");
}

inline void check_gather(const float* inputs, uint32_t features, uint32_t batch, uint32_t stride, const float* x) {
  require(inputs && x && features > 0, "null buffers or no features");
  check_stride(stride);
  require(batch > 0 && batch <= stride, "batch must be in [1, stride]");
}

// sparse_forward: returns the bias, empty for none.
inline deepr_dense_view check_sparse_forward(const deepr_sparse_view& weight, const deepr_dense_view* bias,
                                             const float* x, const float* y, uint32_t stride) {
  const deepr_dense_view b = dense_or_none(bias);
  require(b.size == 0 || b.size == weight.n_out, "the bias must have one value per output");
  require(x && y, "null activations");
  check_stride(stride);
  return b;
}

inline void check_relu_backward(const float* y, const float* dy, const float* dx) {
  require(y && dy && dx, "null buffers");
}

// softmax_cross_entropy, all but the labels' range (the labels are device memory).
inline void check_softmax_cross_entropy(const float* logits, const int32_t* labels, uint32_t classes, uint32_t batch,
                                        uint32_t stride, const double* host_loss_sum, const uint32_t* host_correct) {
  require(logits && labels && host_loss_sum && host_correct, "null buffers");
  require(classes > 0, "no classes");
  check_stride(stride);
  require(batch > 0 && batch <= stride, "batch must be in [1, stride]");
}

// sparse_backward and sparse_conv2d_backward, after their view's checks.
inline void check_sparse_backward(const float* x, const float* dy, const float* theta_gradient, uint32_t stride) {
  require(x && dy && theta_gradient, "null buffers");
  check_stride(stride);
}

// bias_backward and conv2d_bias_backward.
inline void check_bias_backward(const float* dy, const float* bias_gradient, uint32_t stride) {
  require(dy && bias_gradient, "null buffers");
  check_stride(stride);
}

template <class StatesOf>
void check_sparse_update(const deepr_sparse_view& weight, const float* theta_gradient, const deepr_update* update,
                         const uint32_t* host_dying, uint32_t dying_capacity, const uint32_t* host_dying_count,
                         StatesOf&& states_of) {
  check_update(update, weight.states, states_of);
  require(theta_gradient && host_dying && host_dying_count, "null buffers");
  require(dying_capacity >= weight.slots, "the dying list needs room for every slot");
}

// dense_update: returns the store.
template <class StatesOf>
deepr_dense_view check_dense_update(const deepr_dense_view* store, const float* gradient, const deepr_update* update,
                                    StatesOf&& states_of) {
  require(store && store->size > 0, "the dense view is null or empty");
  const deepr_dense_view d = dense_or_none(store);
  check_update(update, d.states, states_of);
  require(gradient != nullptr, "the gradient is null");
  return d;
}

// rewire, all but whether a born position is dormant (that reads the store's slots): the lists
// ascending and in range, and the slots after it within 2^31 - 1 and the capacity. Returns that
// number of slots.
inline uint64_t check_rewire(const deepr_sparse_view& weight, uint32_t capacity, const uint32_t* host_dying,
                             uint32_t dying_count, const uint64_t* host_born, uint32_t born_count) {
  require((host_dying || dying_count == 0) && (host_born || born_count == 0), "a null list");
  require(dying_count <= weight.slots, "more dying slots than slots");
  const uint64_t new_slots = uint64_t(weight.slots) - dying_count + born_count;
  require(new_slots <= kMaxStoreSize, "too many connections in one store");
  require(capacity >= std::max<uint64_t>(weight.slots, new_slots), "the capacity is below the slots before or after");
  for (uint32_t d = 0; d < dying_count; ++d)
    require(host_dying[d] < weight.slots && (d == 0 || host_dying[d - 1] < host_dying[d]),
            "dying slots must be ascending slots of the store");
  const uint64_t positions = uint64_t(weight.n_in) * weight.n_out;
  for (uint32_t b = 0; b < born_count; ++b)
    require(host_born[b] < positions && (b == 0 || host_born[b - 1] < host_born[b]),
            "born positions must be ascending positions of the store");
  return new_slots;
}

// A geometry the core would build: positive sizes, a window inside the padded image, and inputs,
// outputs and kernel entries within 2^31 - 1. Returns its output positions per channel.
inline uint64_t check_conv_geometry(const deepr_conv_geometry* g) {
  require(g != nullptr, "the geometry is null");
  require(g->in_channels > 0 && g->height > 0 && g->width > 0 && g->out_channels > 0 && g->kernel_height > 0 &&
              g->kernel_width > 0 && g->stride > 0,
          "a geometry's channels, image, kernel and stride must be positive");
  require(uint64_t(g->kernel_height) <= uint64_t(g->height) + 2 * g->padding &&
              uint64_t(g->kernel_width) <= uint64_t(g->width) + 2 * g->padding,
          "the kernel is larger than the padded image");
  const uint64_t positions = ((uint64_t(g->height) + 2 * g->padding - g->kernel_height) / g->stride + 1) *
                             ((uint64_t(g->width) + 2 * g->padding - g->kernel_width) / g->stride + 1);
  require(uint64_t(g->in_channels) * g->height * g->width <= kMaxStoreSize &&
              uint64_t(g->out_channels) * positions <= kMaxStoreSize &&
              uint64_t(g->in_channels) * g->kernel_height * g->kernel_width <= kMaxStoreSize,
          "a geometry's inputs, outputs and kernel entries are at most 2^31 - 1");
  return positions;
}

// A pooling geometry: check_conv_geometry's, keeping its channels, with no padding.
inline uint64_t check_pool_geometry(const deepr_conv_geometry* g) {
  const uint64_t positions = check_conv_geometry(g);
  require(g->out_channels == g->in_channels && g->padding == 0, "pooling keeps its channels and has no padding");
  return positions;
}

// A sparse_conv2d store: n_in kernel entries and n_out output channels.
inline void check_conv_weight(const deepr_conv_geometry& g, const deepr_sparse_view& w) {
  require(w.n_in == g.in_channels * g.kernel_height * g.kernel_width && w.n_out == g.out_channels,
          "the store must have one input per kernel entry and one output per output channel");
}

// sparse_conv2d_forward, after the geometry's and the view's checks: returns the bias, empty for none.
inline deepr_dense_view check_sparse_conv2d_forward(const deepr_conv_geometry& g, const deepr_sparse_view& weight,
                                                    const deepr_dense_view* bias, const float* x, const float* y,
                                                    uint32_t stride) {
  check_conv_weight(g, weight);
  const deepr_dense_view b = dense_or_none(bias);
  require(b.size == 0 || b.size == g.out_channels, "the bias must have one value per output channel");
  require(x && y, "null activations");
  check_stride(stride);
  return b;
}

// sparse_conv2d_backward, after the geometry's and the view's checks.
inline void check_sparse_conv2d_backward(const deepr_conv_geometry& g, const deepr_sparse_view& weight, const float* x,
                                         const float* dy, const float* theta_gradient, uint32_t stride) {
  check_conv_weight(g, weight);
  check_sparse_backward(x, dy, theta_gradient, stride);
}

// max_pool2d_forward, after check_pool_geometry.
inline void check_max_pool2d_forward(const float* x, const float* y, uint32_t stride) {
  require(x && y, "null activations");
  check_stride(stride);
}

// max_pool2d_backward, after check_pool_geometry.
inline void check_max_pool2d_backward(const float* x, const float* y, const float* dy, const float* dx,
                                      uint32_t stride) {
  require(x && y && dy && dx, "null buffers");
  check_stride(stride);
}

}  // namespace deepr::abi
