// The CPU device: the device interface (device_abi.h) as thin adapters onto the core's own kernels,
// the ones Network runs. Device memory is host memory, so the adapters can check what a GPU
// library could not cheaply (labels in range, row_start[n_out] = slots, a born position dormant);
// every failure is a status code and a message, never an exception across the C boundary.
#include "device_abi.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "abi_checks.hpp"
#include "conv_kernels.hpp"
#include "layers/max_pool2d.hpp"
#include "layers/relu.hpp"
#include "loss.hpp"
#include "rules/rule.hpp"
#include "sparse_kernels.hpp"
#include "sparse_rewire.hpp"
#include "sparse_store.hpp"
#include "update_conversion.hpp"

struct deepr_device_context {
  std::string error;                  // what the last failed call was about
  std::unordered_set<void*> buffers;  // every live allocation, released by close
  deepr::RewireScratch rewire_scratch;
  std::vector<uint32_t> dying;  // sparse_update's list before it goes to the host
};

namespace deepr {

namespace {

static_assert(DEEPR_OPTIMISER_SGD == uint32_t(OptimiserKind::kSgd) &&
                  DEEPR_OPTIMISER_MOMENTUM == uint32_t(OptimiserKind::kMomentum) &&
                  DEEPR_OPTIMISER_ADAM == uint32_t(OptimiserKind::kAdam),
              "the ABI's optimiser numbers are the core's");
static_assert(DEEPR_PRIOR_DEEP_R == uint32_t(PriorKind::kDeepR) && DEEPR_PRIOR_NONE == uint32_t(PriorKind::kNone) &&
                  DEEPR_PRIOR_L2 == uint32_t(PriorKind::kL2) && DEEPR_PRIOR_L1_SHRINK == uint32_t(PriorKind::kL1Shrink),
              "the ABI's prior numbers are the core's");
static_assert(abi::kMaxStoreSize == kMaxLayerSize, "the ABI's store sizes are the core's");

using abi::require;

thread_local std::string open_error;  // last_error(NULL): why the last open on this thread failed

// Runs one call, turning what it throws into a status code and the context's message (the
// device's memory is host memory: running out of it is plainly "out of memory").
template <class F>
deepr_status guarded(deepr_device_context* context, F&& call) {
  if (!context) return DEEPR_INVALID_ARGUMENT;
  return abi::call_status(context->error, "out of memory", call);
}

// The interface's checks of the view, and row_start's ends, which are host memory here.
void check_sparse(const deepr_sparse_view* w) {
  abi::check_sparse_view(w);
  require(w->row_start[0] == 0 && w->row_start[w->n_out] == w->slots, "row_start must run from 0 to slots");
}

// The state arrays the core's optimiser of ABI number `optimiser` (a known one) keeps.
uint32_t optimiser_states(uint32_t optimiser) {
  Rule rule;
  rule.optimiser = OptimiserKind(optimiser);
  uint32_t states = 0;
  with_update_rule(rule, [&](auto o, auto) { states = decltype(o)::kStates; });
  return states;
}

// A checked update (abi::check_update) as the core's per-slot update takes it.
SlotUpdate slot_update(const deepr_update& u) {
  Rule rule;
  rule.optimiser = OptimiserKind(u.optimiser);
  rule.prior = PriorKind(u.prior);
  rule.signed_theta = rule.prior != PriorKind::kDeepR;
  return SlotUpdate{rule, step_hyper(u), RngStream{u.seed, u.step, u.store, Purpose::kNoise}};
}

deepr_status open(int32_t ordinal, deepr_device_context** context) {
  if (!context) return DEEPR_INVALID_ARGUMENT;
  *context = nullptr;
  if (ordinal != 0) {
    open_error = "the CPU device has one ordinal, 0; got " + std::to_string(ordinal);
    return DEEPR_INVALID_ARGUMENT;
  }
  *context = new (std::nothrow) deepr_device_context;
  if (!*context) {
    open_error = "out of memory";
    return DEEPR_OUT_OF_MEMORY;
  }
  open_error.clear();
  return DEEPR_OK;
}

void close(deepr_device_context* context) {
  if (!context) return;
  for (void* buffer : context->buffers) std::free(buffer);
  delete context;
}

const char* last_error(const deepr_device_context* context) { return context ? context->error.c_str() : open_error.c_str(); }

deepr_status alloc(deepr_device_context* context, uint64_t bytes, void** buffer) {
  return guarded(context, [&] {
    abi::check_alloc(bytes, buffer);
    // aligned_alloc wants a multiple of the alignment; a size that cannot be rounded cannot be had.
    if (bytes > uint64_t(SIZE_MAX) - 63) throw std::bad_alloc();
    void* p = std::aligned_alloc(64, size_t((bytes + 63) / 64 * 64));
    if (!p) throw std::bad_alloc();
    context->buffers.insert(p);
    *buffer = p;
  });
}

void release(deepr_device_context* context, void* buffer) {
  if (context && context->buffers.erase(buffer)) std::free(buffer);
}

deepr_status transfer(deepr_device_context* context, void* dst, const void* src, uint64_t bytes) {
  return guarded(context, [&] {
    abi::check_transfer(dst, src, bytes);
    if (bytes) std::memcpy(dst, src, size_t(bytes));
  });
}

deepr_status synchronize(deepr_device_context* context) {
  return guarded(context, [] {});  // every CPU call has finished when it returns
}

deepr_status gather(deepr_device_context* context, const float* inputs, uint32_t features, const uint32_t* rows,
                    uint64_t first, uint32_t batch, uint32_t stride, float* x) {
  return guarded(context, [&] {
    abi::check_gather(inputs, features, batch, stride, x);
    gather_feature_major(inputs, features, rows, first, batch, stride, x);
  });
}

deepr_status forward(deepr_device_context* context, const deepr_sparse_view* weight, const deepr_dense_view* bias,
                     const float* x, float* y, uint32_t stride, uint32_t relu) {
  return guarded(context, [&] {
    check_sparse(weight);
    const DenseView b = abi::check_sparse_forward(*weight, bias, x, y, stride);
    sparse_forward(*weight, b, x, y, stride, relu != 0);
  });
}

deepr_status relu_backward_call(deepr_device_context* context, const float* y, const float* dy, float* dx, uint64_t count) {
  return guarded(context, [&] {
    abi::check_relu_backward(y, dy, dx);
    relu_backward(y, dy, dx, size_t(count));
  });
}

deepr_status loss(deepr_device_context* context, const float* logits, const int32_t* labels, uint32_t classes,
                  uint32_t batch, uint32_t stride, float* grad, double* host_loss_sum, uint32_t* host_correct) {
  return guarded(context, [&] {
    abi::check_softmax_cross_entropy(logits, labels, classes, batch, stride, host_loss_sum, host_correct);
    for (uint32_t b = 0; b < batch; ++b) require(labels[b] >= 0 && uint32_t(labels[b]) < classes, "a label is not a class");
    const LossResult r = softmax_cross_entropy(logits, labels, classes, batch, stride, grad);
    *host_loss_sum = r.loss_sum;
    *host_correct = r.correct;
  });
}

deepr_status backward(deepr_device_context* context, const deepr_sparse_view* weight, const float* x, const float* dz,
                      float* dx, uint32_t stride, float* theta_gradient) {
  return guarded(context, [&] {
    check_sparse(weight);
    abi::check_sparse_backward(x, dz, theta_gradient, stride);
    sparse_backward(*weight, x, dz, dx, stride, theta_gradient);
  });
}

deepr_status bias_backward_call(deepr_device_context* context, const float* dz, uint32_t outputs, uint32_t stride,
                                float* bias_gradient) {
  return guarded(context, [&] {
    abi::check_bias_backward(dz, bias_gradient, stride);
    bias_backward(dz, outputs, stride, bias_gradient);
  });
}

deepr_status update_sparse(deepr_device_context* context, const deepr_sparse_view* weight, const float* theta_gradient,
                           const deepr_update* update, uint32_t* host_dying, uint32_t dying_capacity,
                           uint32_t* host_dying_count) {
  return guarded(context, [&] {
    check_sparse(weight);
    abi::check_sparse_update(*weight, theta_gradient, update, host_dying, dying_capacity, host_dying_count,
                             optimiser_states);
    const UpdateResult r = sparse_update(*weight, theta_gradient, slot_update(*update), context->dying);
    std::copy(context->dying.begin(), context->dying.end(), host_dying);
    *host_dying_count = uint32_t(context->dying.size());
    if (!r.finite) throw abi::sparse_store_not_finite(weight->id);
  });
}

deepr_status update_dense(deepr_device_context* context, const deepr_dense_view* store, const float* gradient,
                          const deepr_update* update) {
  return guarded(context, [&] {
    const DenseView d = abi::check_dense_update(store, gradient, update, optimiser_states);
    if (!dense_update(d, gradient, slot_update(*update))) throw abi::dense_store_not_finite();
  });
}

deepr_status rewire(deepr_device_context* context, deepr_sparse_view* weight, uint32_t capacity, uint64_t seed,
                    const uint32_t* host_dying, uint32_t dying_count, const uint64_t* host_born, uint32_t born_count) {
  return guarded(context, [&] {
    check_sparse(weight);
    abi::check_rewire(*weight, capacity, host_dying, dying_count, host_born, born_count);
    for (uint32_t b = 0; b < born_count; ++b) {
      const uint64_t p = host_born[b];
      const uint32_t out = uint32_t(p / weight->n_in), in = uint32_t(p % weight->n_in);
      const uint32_t k = slot_for(weight->row_start, weight->source, weight->slots, out, in);
      const bool has_slot = k < weight->row_start[out + 1] && (weight->source[k] & kIndexMask) == in;
      require(!has_slot || std::binary_search(host_dying, host_dying + dying_count, k),
              "a born position is an active connection that is not dying");
    }
    weight->slots = rewire_slots(*weight, seed, host_dying, dying_count, host_born, born_count, context->rewire_scratch);
  });
}

// Convolution and pooling (version 3): the core's conv kernels and MaxPool2d.

// The core's geometry of a checked one (abi::check_conv_geometry).
ConvGeometry core_geometry(const deepr_conv_geometry& g) {
  return ConvGeometry{g.in_channels,   g.height,       g.width,  g.out_channels,
                      g.kernel_height, g.kernel_width, g.stride, g.padding};
}

deepr_status conv_forward_call(deepr_device_context* context, const deepr_conv_geometry* geometry,
                               const deepr_sparse_view* weight, const deepr_dense_view* bias, const float* x, float* y,
                               uint32_t stride, uint32_t relu) {
  return guarded(context, [&] {
    abi::check_conv_geometry(geometry);
    check_sparse(weight);
    const DenseView b = abi::check_sparse_conv2d_forward(*geometry, *weight, bias, x, y, stride);
    const ConvGeometry g = core_geometry(*geometry);
    conv_forward(g, *weight, b, x, y, stride);
    // The relu layer that follows, in place: max(y, 0) with NaN kept, as Relu::forward.
    if (relu)
      for (size_t n = 0, count = size_t(g.outputs()) * stride; n < count; ++n) y[n] = y[n] < 0.0f ? 0.0f : y[n];
  });
}

deepr_status conv_backward_call(deepr_device_context* context, const deepr_conv_geometry* geometry,
                                const deepr_sparse_view* weight, const float* x, const float* dy, float* dx,
                                uint32_t stride, float* theta_gradient) {
  return guarded(context, [&] {
    abi::check_conv_geometry(geometry);
    check_sparse(weight);
    abi::check_sparse_conv2d_backward(*geometry, *weight, x, dy, theta_gradient, stride);
    const ConvGeometry g = core_geometry(*geometry);
    conv_backward(g, *weight, x, dy, dx, stride, theta_gradient);
  });
}

deepr_status conv_bias_backward_call(deepr_device_context* context, const deepr_conv_geometry* geometry, const float* dy,
                                     uint32_t stride, float* bias_gradient) {
  return guarded(context, [&] {
    abi::check_conv_geometry(geometry);
    abi::check_bias_backward(dy, bias_gradient, stride);
    const ConvGeometry g = core_geometry(*geometry);
    conv_bias_backward(g, dy, stride, bias_gradient);
  });
}

deepr_status pool_forward_call(deepr_device_context* context, const deepr_conv_geometry* geometry, const float* x,
                               float* y, uint32_t stride) {
  return guarded(context, [&] {
    abi::check_pool_geometry(geometry);
    abi::check_max_pool2d_forward(x, y, stride);
    MaxPool2d(core_geometry(*geometry)).forward(x, y, stride);
  });
}

deepr_status pool_backward_call(deepr_device_context* context, const deepr_conv_geometry* geometry, const float* x,
                                const float* y, const float* dy, float* dx, uint32_t stride) {
  return guarded(context, [&] {
    abi::check_pool_geometry(geometry);
    abi::check_max_pool2d_backward(x, y, dy, dx, stride);
    LayerGradients none;
    MaxPool2d(core_geometry(*geometry)).backward(x, y, dy, dx, stride, none);
  });
}

deepr_status device_count(uint32_t* count) {
  if (!count) return DEEPR_INVALID_ARGUMENT;
  *count = 1;
  return DEEPR_OK;
}

deepr_status describe(int32_t ordinal, char* buffer, uint32_t capacity) {
  static const char kDescription[] = "{\"name\":\"cpu\"}";
  if (ordinal != 0 || !buffer || capacity < sizeof kDescription) return DEEPR_INVALID_ARGUMENT;
  std::memcpy(buffer, kDescription, sizeof kDescription);
  return DEEPR_OK;
}

const deepr_device kCpuDevice = {
    DEEPR_DEVICE_ABI_VERSION,
    sizeof(deepr_device),
    "cpu",
    open,
    close,
    last_error,
    alloc,
    release,
    transfer,
    transfer,
    transfer,
    synchronize,
    gather,
    forward,
    relu_backward_call,
    loss,
    backward,
    bias_backward_call,
    update_sparse,
    update_dense,
    rewire,
    device_count,
    describe,
    conv_forward_call,
    conv_backward_call,
    conv_bias_backward_call,
    pool_forward_call,
    pool_backward_call,
};

}  // namespace

}  // namespace deepr

extern "C" const deepr_device* deepr_cpu_device_table(uint32_t abi_version) {
  return abi_version >= 1 && abi_version <= DEEPR_DEVICE_ABI_VERSION ? &deepr::kCpuDevice : nullptr;
}
