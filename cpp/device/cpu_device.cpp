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

#include "conv_kernels.hpp"
#include "layers/max_pool2d.hpp"
#include "layers/relu.hpp"
#include "loss.hpp"
#include "rules/rule.hpp"
#include "sparse_kernels.hpp"
#include "sparse_rewire.hpp"
#include "sparse_store.hpp"

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

thread_local std::string open_error;  // last_error(NULL): why the last open on this thread failed

// A refused argument: becomes DEEPR_INVALID_ARGUMENT with this message.
struct InvalidArgument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
// An update that left a parameter non-finite: DEEPR_NON_FINITE.
struct NonFinite : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void require(bool ok, const char* what) {
  if (!ok) throw InvalidArgument(what);
}

// Runs one call, turning what it throws into a status code and the context's message.
template <class F>
deepr_status guarded(deepr_device_context* context, F&& call) {
  if (!context) return DEEPR_INVALID_ARGUMENT;
  context->error.clear();
  try {
    call();
    return DEEPR_OK;
  } catch (const InvalidArgument& e) {
    context->error = e.what();
    return DEEPR_INVALID_ARGUMENT;
  } catch (const std::length_error& e) {
    context->error = e.what();
    return DEEPR_INVALID_ARGUMENT;
  } catch (const NonFinite& e) {
    context->error = e.what();
    return DEEPR_NON_FINITE;
  } catch (const std::bad_alloc&) {
    context->error = "out of memory";
    return DEEPR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    context->error = e.what();
    return DEEPR_DEVICE_FAILURE;
  }
}

void check_stride(uint32_t stride) { require(stride > 0 && stride % 16 == 0, "stride must be a positive multiple of 16"); }

void check_states(uint32_t states, float* const* state) {
  require(states <= DEEPR_MAX_STATE_ARRAYS, "a store has at most DEEPR_MAX_STATE_ARRAYS state arrays");
  for (uint32_t s = 0; s < states; ++s) require(state[s] != nullptr, "a state array is null");
}

void check_sparse(const deepr_sparse_view* w) {
  require(w != nullptr, "the sparse view is null");
  require(w->n_in > 0 && w->n_out > 0 && w->n_in <= kMaxLayerSize && w->n_out <= kMaxLayerSize,
          "a sparse store has 1 to 2^31 - 1 inputs and outputs");
  require(w->row_start && w->source && w->theta, "a sparse view's row_start, source or theta is null");
  check_states(w->states, w->state);
  require(w->row_start[0] == 0 && w->row_start[w->n_out] == w->slots, "row_start must run from 0 to slots");
}

// The bias view, or an empty one for none.
DenseView dense_or_none(const deepr_dense_view* d) {
  if (!d || d->size == 0) return DenseView{};
  require(d->value != nullptr, "a dense view's value is null");
  check_states(d->states, d->state);
  return *d;
}

// The step's hyper-parameters as the core's per-slot update reads them: every field of the
// update, the bias corrections as the host computed them.
StepHyper step_hyper(const deepr_update& u) {
  StepHyper h{u.lr, u.alpha, u.noise_std, u.momentum};
  h.weight_decay = u.weight_decay;
  h.beta1 = u.beta1;
  h.beta2 = u.beta2;
  h.epsilon = u.epsilon;
  h.correction1 = u.correction1;
  h.correction2 = u.correction2;
  return h;
}

SlotUpdate slot_update(const deepr_update* u, uint32_t states) {
  require(u != nullptr, "the update is null");
  require(u->optimiser <= DEEPR_OPTIMISER_ADAM, "unknown optimiser");
  require(u->prior <= DEEPR_PRIOR_L1_SHRINK, "unknown prior");
  Rule rule;
  rule.optimiser = OptimiserKind(u->optimiser);
  rule.prior = PriorKind(u->prior);
  rule.signed_theta = rule.prior != PriorKind::kDeepR;
  uint32_t needed = 0;
  with_update_rule(rule, [&](auto optimiser, auto) { needed = decltype(optimiser)::kStates; });
  require(states == needed, "the store's state arrays are not the optimiser's");
  return SlotUpdate{rule, step_hyper(*u), RngStream{u->seed, u->step, u->store, Purpose::kNoise}};
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
    require(buffer != nullptr, "the result pointer is null");
    *buffer = nullptr;
    require(bytes > 0, "an allocation needs at least one byte");
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
    require(bytes == 0 || (dst && src), "a null buffer");
    if (bytes) std::memcpy(dst, src, size_t(bytes));
  });
}

deepr_status synchronize(deepr_device_context* context) {
  return guarded(context, [] {});  // every CPU call has finished when it returns
}

deepr_status gather(deepr_device_context* context, const float* inputs, uint32_t features, const uint32_t* rows,
                    uint64_t first, uint32_t batch, uint32_t stride, float* x) {
  return guarded(context, [&] {
    require(inputs && x && features > 0, "null buffers or no features");
    check_stride(stride);
    require(batch > 0 && batch <= stride, "batch must be in [1, stride]");
    gather_feature_major(inputs, features, rows, first, batch, stride, x);
  });
}

deepr_status forward(deepr_device_context* context, const deepr_sparse_view* weight, const deepr_dense_view* bias,
                     const float* x, float* y, uint32_t stride, uint32_t relu) {
  return guarded(context, [&] {
    check_sparse(weight);
    const DenseView b = dense_or_none(bias);
    require(b.size == 0 || b.size == weight->n_out, "the bias must have one value per output");
    require(x && y, "null activations");
    check_stride(stride);
    sparse_forward(*weight, b, x, y, stride, relu != 0);
  });
}

deepr_status relu_backward_call(deepr_device_context* context, const float* y, const float* dy, float* dx, uint64_t count) {
  return guarded(context, [&] {
    require(y && dy && dx, "null buffers");
    relu_backward(y, dy, dx, size_t(count));
  });
}

deepr_status loss(deepr_device_context* context, const float* logits, const int32_t* labels, uint32_t classes,
                  uint32_t batch, uint32_t stride, float* grad, double* host_loss_sum, uint32_t* host_correct) {
  return guarded(context, [&] {
    require(logits && labels && host_loss_sum && host_correct, "null buffers");
    require(classes > 0, "no classes");
    check_stride(stride);
    require(batch > 0 && batch <= stride, "batch must be in [1, stride]");
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
    require(x && dz && theta_gradient, "null buffers");
    check_stride(stride);
    sparse_backward(*weight, x, dz, dx, stride, theta_gradient);
  });
}

deepr_status bias_backward_call(deepr_device_context* context, const float* dz, uint32_t outputs, uint32_t stride,
                                float* bias_gradient) {
  return guarded(context, [&] {
    require(dz && bias_gradient, "null buffers");
    check_stride(stride);
    bias_backward(dz, outputs, stride, bias_gradient);
  });
}

deepr_status update_sparse(deepr_device_context* context, const deepr_sparse_view* weight, const float* theta_gradient,
                           const deepr_update* update, uint32_t* host_dying, uint32_t dying_capacity,
                           uint32_t* host_dying_count) {
  return guarded(context, [&] {
    check_sparse(weight);
    const SlotUpdate u = slot_update(update, weight->states);
    require(theta_gradient && host_dying && host_dying_count, "null buffers");
    require(dying_capacity >= weight->slots, "the dying list needs room for every slot");
    const UpdateResult r = sparse_update(*weight, theta_gradient, u, context->dying);
    std::copy(context->dying.begin(), context->dying.end(), host_dying);
    *host_dying_count = uint32_t(context->dying.size());
    if (!r.finite) throw NonFinite("a parameter of sparse store " + std::to_string(weight->id) + " is no longer finite");
  });
}

deepr_status update_dense(deepr_device_context* context, const deepr_dense_view* store, const float* gradient,
                          const deepr_update* update) {
  return guarded(context, [&] {
    require(store && store->size > 0, "the dense view is null or empty");
    const DenseView d = dense_or_none(store);
    const SlotUpdate u = slot_update(update, d.states);
    require(gradient != nullptr, "the gradient is null");
    if (!dense_update(d, gradient, u)) throw NonFinite("a parameter of a dense store is no longer finite");
  });
}

deepr_status rewire(deepr_device_context* context, deepr_sparse_view* weight, uint32_t capacity, uint64_t seed,
                    const uint32_t* host_dying, uint32_t dying_count, const uint64_t* host_born, uint32_t born_count) {
  return guarded(context, [&] {
    check_sparse(weight);
    require((host_dying || dying_count == 0) && (host_born || born_count == 0), "a null list");
    const uint64_t new_slots = uint64_t(weight->slots) - dying_count + born_count;
    require(dying_count <= weight->slots, "more dying slots than slots");
    if (new_slots > kMaxLayerSize) throw std::length_error("too many connections in one store");
    require(capacity >= std::max<uint64_t>(weight->slots, new_slots), "the capacity is below the slots before or after");
    for (uint32_t d = 0; d < dying_count; ++d)
      require(host_dying[d] < weight->slots && (d == 0 || host_dying[d - 1] < host_dying[d]),
              "dying slots must be ascending slots of the store");
    const uint64_t positions = uint64_t(weight->n_in) * weight->n_out;
    for (uint32_t b = 0; b < born_count; ++b) {
      const uint64_t p = host_born[b];
      require(p < positions && (b == 0 || host_born[b - 1] < p), "born positions must be ascending positions of the store");
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

// The core's geometry, once it is one the core would build: positive sizes, a window that fits
// the padded image, and sizes whose products stay within 32 bits as the layers' do.
ConvGeometry conv_geometry(const deepr_conv_geometry* g) {
  require(g != nullptr, "the geometry is null");
  require(g->in_channels > 0 && g->height > 0 && g->width > 0 && g->out_channels > 0 && g->kernel_height > 0 &&
              g->kernel_width > 0 && g->stride > 0,
          "a geometry's channels, image, kernel and stride must be positive");
  require(uint64_t(g->kernel_height) <= uint64_t(g->height) + 2 * g->padding &&
              uint64_t(g->kernel_width) <= uint64_t(g->width) + 2 * g->padding,
          "the kernel is larger than the padded image");
  const ConvGeometry c{g->in_channels, g->height, g->width, g->out_channels, g->kernel_height, g->kernel_width, g->stride,
                       g->padding};
  require(c.inputs() <= kMaxLayerSize && c.outputs() <= kMaxLayerSize &&
              uint64_t(c.in_channels) * c.kernel_height * c.kernel_width <= kMaxLayerSize,
          "a geometry's inputs, outputs and kernel entries are at most 2^31 - 1");
  return c;
}

// A sparse_conv2d store: n_in kernel entries and n_out output channels.
void check_conv_weight(const ConvGeometry& g, const deepr_sparse_view* w) {
  check_sparse(w);
  require(w->n_in == g.kernel_entries() && w->n_out == g.out_channels,
          "the store must have one input per kernel entry and one output per output channel");
}

ConvGeometry pool_geometry(const deepr_conv_geometry* geometry) {
  const ConvGeometry g = conv_geometry(geometry);
  require(g.out_channels == g.in_channels && g.padding == 0, "pooling keeps its channels and has no padding");
  return g;
}

deepr_status conv_forward_call(deepr_device_context* context, const deepr_conv_geometry* geometry,
                               const deepr_sparse_view* weight, const deepr_dense_view* bias, const float* x, float* y,
                               uint32_t stride, uint32_t relu) {
  return guarded(context, [&] {
    const ConvGeometry g = conv_geometry(geometry);
    check_conv_weight(g, weight);
    const DenseView b = dense_or_none(bias);
    require(b.size == 0 || b.size == g.out_channels, "the bias must have one value per output channel");
    require(x && y, "null activations");
    check_stride(stride);
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
    const ConvGeometry g = conv_geometry(geometry);
    check_conv_weight(g, weight);
    require(x && dy && theta_gradient, "null buffers");
    check_stride(stride);
    conv_backward(g, *weight, x, dy, dx, stride, theta_gradient);
  });
}

deepr_status conv_bias_backward_call(deepr_device_context* context, const deepr_conv_geometry* geometry, const float* dy,
                                     uint32_t stride, float* bias_gradient) {
  return guarded(context, [&] {
    const ConvGeometry g = conv_geometry(geometry);
    require(dy && bias_gradient, "null buffers");
    check_stride(stride);
    conv_bias_backward(g, dy, stride, bias_gradient);
  });
}

deepr_status pool_forward_call(deepr_device_context* context, const deepr_conv_geometry* geometry, const float* x,
                               float* y, uint32_t stride) {
  return guarded(context, [&] {
    const ConvGeometry g = pool_geometry(geometry);
    require(x && y, "null activations");
    check_stride(stride);
    MaxPool2d(g).forward(x, y, stride);
  });
}

deepr_status pool_backward_call(deepr_device_context* context, const deepr_conv_geometry* geometry, const float* x,
                                const float* y, const float* dy, float* dx, uint32_t stride) {
  return guarded(context, [&] {
    const ConvGeometry g = pool_geometry(geometry);
    require(x && y && dy && dx, "null buffers");
    check_stride(stride);
    LayerGradients none;
    MaxPool2d(g).backward(x, y, dy, dx, stride, none);
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
