// The CUDA device: the device interface (cpp/device/device_abi.h) on an NVIDIA GPU, built as
// libdeepr_cuda.so, which exports deepr_device_table and nothing else. Each context holds a
// device ordinal, a stream that every call of the context is issued on (in order), the buffers
// it allocated and a scratch buffer for the per-call working memory (the column order of a
// backward pass, the dying list, the loss per sample, the rewired slots). The kernels are in
// kernels/; this file checks arguments (the interface's checks, device/abi_checks.hpp, and those
// that need the kernels' results), launches and turns CUDA's errors into status codes and messages:
// nothing throws across the C boundary.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <new>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "device/abi_checks.hpp"
#include "device/device_abi.h"
#include "kernels/backward.cuh"
#include "kernels/columns.cuh"
#include "kernels/conv.cuh"
#include "kernels/forward.cuh"
#include "kernels/gather.cuh"
#include "kernels/grid.cuh"
#include "kernels/loss.cuh"
#include "kernels/pool.cuh"
#include "kernels/rewire.cuh"
#include "kernels/update.cuh"

struct deepr_device_context {
  int ordinal = 0;
  cudaStream_t stream = nullptr;
  std::string error;                  // what the last failed call was about
  std::unordered_set<void*> buffers;  // every live allocation, released by close
  void* scratch = nullptr;            // per-call working memory, grown as needed
  size_t scratch_bytes = 0;
  deepr_cuda::DeviceFlags* flags = nullptr;  // the counters and flags a call reads back
  std::vector<deepr_cuda::SampleLoss> samples;  // softmax_cross_entropy's per-sample results on the host
};

namespace deepr_cuda {

namespace {

thread_local std::string open_error;  // last_error(NULL): why the last open or device_count failed

namespace abi = deepr::abi;
using abi::require;

// Any other CUDA error: DEEPR_DEVICE_FAILURE.
struct DeviceFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws DeviceFailure for a CUDA error, saying which step failed.
void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clears an error that is not sticky, so the next call starts clean
  throw DeviceFailure(std::string(what) + ": " + cudaGetErrorString(status));
}

// Whether kernel launches were accepted (a bad configuration shows here, a fault later).
void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

// Why no device can be used, in words a user can act on.
std::string no_device_reason(cudaError_t status) {
  switch (status) {
    case cudaErrorInsufficientDriver:
      return "no usable NVIDIA driver: none is installed, or it is older than this CUDA 13 library "
             "(NVIDIA driver >= 580 required)";
    case cudaErrorNoDevice:
      return "no CUDA device found";
    default:
      return std::string("CUDA cannot be used: ") + cudaGetErrorString(status);
  }
}

// Runs one call on the context's device, turning what it throws into a status code and message.
template <class F>
deepr_status guarded(deepr_device_context* context, F&& call) {
  if (!context) return DEEPR_INVALID_ARGUMENT;
  return abi::call_status(context->error, "out of host memory", [&] {
    check(cudaSetDevice(context->ordinal), "selecting the device");
    call();
  });
}

// cudaMalloc, or abi::OutOfMemory naming the bytes asked.
void* device_malloc(uint64_t bytes) {
  void* p = nullptr;
  const cudaError_t status = cudaMalloc(&p, size_t(bytes));
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw abi::OutOfMemory("out of device memory: " + std::to_string(bytes) + " bytes asked");
  }
  check(status, "cudaMalloc");
  return p;
}

// The context's scratch buffer with room for `bytes`, grown (never shrunk) as needed.
void* scratch(deepr_device_context* c, size_t bytes) {
  if (bytes <= c->scratch_bytes) return c->scratch;
  check(cudaStreamSynchronize(c->stream), "waiting for the stream");  // no kernel uses the old one
  check(cudaFree(c->scratch), "cudaFree");
  c->scratch = nullptr;
  c->scratch_bytes = 0;
  const size_t grown = std::max<size_t>(bytes, 1 << 20);
  c->scratch = device_malloc(grown);
  c->scratch_bytes = grown;
  return c->scratch;
}

// Bytes rounded up to 256, so that the parts of the scratch buffer stay aligned.
constexpr size_t aligned(size_t bytes) { return (bytes + 255) / 256 * 256; }

// A store's slots sorted by column (an input, or an input channel; kernels/columns.cuh), in the
// context's scratch: the sorted keys, each sorted slot's row and each column's first sorted slot.
struct ColumnOrder {
  const uint64_t* keys;
  const uint32_t* row;
  const uint32_t* start;  // columns + 1 entries
};

// Sorts the keys that write_keys(keys) launches the kernel for, one per slot, by merge passes that
// alternate between two key buffers, then finds each sorted slot's row and each column's start.
template <class WriteKeys>
ColumnOrder column_order(deepr_device_context* context, const deepr_sparse_view& weight, uint32_t columns,
                         WriteKeys write_keys) {
  cudaStream_t stream = context->stream;
  const uint32_t slots = weight.slots;
  const size_t key_bytes = aligned(sizeof(uint64_t) * slots), row_bytes = aligned(sizeof(uint32_t) * slots);
  const size_t start_bytes = sizeof(uint32_t) * (uint64_t(columns) + 1);
  char* base = static_cast<char*>(scratch(context, 2 * key_bytes + row_bytes + start_bytes));
  uint64_t* keys = reinterpret_cast<uint64_t*>(base);
  uint64_t* merged = reinterpret_cast<uint64_t*>(base + key_bytes);
  uint32_t* row = reinterpret_cast<uint32_t*>(base + 2 * key_bytes);
  uint32_t* start = reinterpret_cast<uint32_t*>(base + 2 * key_bytes + row_bytes);
  if (slots) write_keys(keys);
  for (uint64_t width = 1; width < slots; width *= 2) {
    merge_pass_kernel<<<blocks_for(slots), kThreads, 0, stream>>>(keys, merged, slots, width);
    std::swap(keys, merged);
  }
  if (slots) column_row_kernel<<<blocks_for(slots), kThreads, 0, stream>>>(weight, keys, row);
  column_start_kernel<<<blocks_for(uint64_t(columns) + 1), kThreads, 0, stream>>>(keys, slots, columns, start);
  return {keys, row, start};
}

void zero_flags(deepr_device_context* c) {
  check(cudaMemsetAsync(c->flags, 0, sizeof(DeviceFlags), c->stream), "clearing the flags");
}

DeviceFlags read_flags(deepr_device_context* c) {
  DeviceFlags f;
  check(cudaMemcpyAsync(&f, c->flags, sizeof f, cudaMemcpyDeviceToHost, c->stream), "reading the flags");
  check(cudaStreamSynchronize(c->stream), "waiting for the stream");
  return f;
}

deepr_status open(int32_t ordinal, deepr_device_context** context) {
  if (!context) return DEEPR_INVALID_ARGUMENT;
  *context = nullptr;
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    open_error = no_device_reason(status);
    return DEEPR_DEVICE_FAILURE;
  }
  if (ordinal < 0 || ordinal >= count) {
    open_error = "no CUDA device has ordinal " + std::to_string(ordinal) + " (this machine has " + std::to_string(count) +
                 ", from 0)";
    return DEEPR_INVALID_ARGUMENT;
  }
  deepr_device_context* c = new (std::nothrow) deepr_device_context;
  if (!c) {
    open_error = "out of host memory";
    return DEEPR_OUT_OF_MEMORY;
  }
  c->ordinal = ordinal;
  cudaError_t step = cudaSetDevice(ordinal);
  if (step == cudaSuccess) step = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking);
  if (step == cudaSuccess) step = cudaMalloc(reinterpret_cast<void**>(&c->flags), sizeof(DeviceFlags));
  if (step != cudaSuccess) {
    cudaGetLastError();
    open_error = std::string("opening CUDA device ") + std::to_string(ordinal) + ": " + cudaGetErrorString(step);
    if (c->stream) cudaStreamDestroy(c->stream);
    delete c;
    return step == cudaErrorMemoryAllocation ? DEEPR_OUT_OF_MEMORY : DEEPR_DEVICE_FAILURE;
  }
  open_error.clear();
  *context = c;
  return DEEPR_OK;
}

void close(deepr_device_context* context) {
  if (!context) return;
  cudaSetDevice(context->ordinal);
  cudaStreamSynchronize(context->stream);
  for (void* buffer : context->buffers) cudaFree(buffer);
  cudaFree(context->scratch);
  cudaFree(context->flags);
  cudaStreamDestroy(context->stream);
  cudaGetLastError();  // nothing to report from a close
  delete context;
}

const char* last_error(const deepr_device_context* context) { return context ? context->error.c_str() : open_error.c_str(); }

deepr_status alloc(deepr_device_context* context, uint64_t bytes, void** buffer) {
  return guarded(context, [&] {
    abi::check_alloc(bytes, buffer);
    void* p = device_malloc(bytes);  // 256-byte aligned
    context->buffers.insert(p);
    *buffer = p;
  });
}

void release(deepr_device_context* context, void* buffer) {
  if (!context || !context->buffers.erase(buffer)) return;
  cudaSetDevice(context->ordinal);
  cudaStreamSynchronize(context->stream);  // the context's queued work may still use the buffer
  cudaFree(buffer);
  cudaGetLastError();  // nothing to report from a release
}

// Waits for the copy: the caller may reuse or free host_src as soon as write returns (an
// asynchronous copy from pageable memory only promises that once the driver has staged it).
deepr_status write(deepr_device_context* context, void* dst, const void* src, uint64_t bytes) {
  return guarded(context, [&] {
    abi::check_transfer(dst, src, bytes);
    if (!bytes) return;
    check(cudaMemcpyAsync(dst, src, size_t(bytes), cudaMemcpyHostToDevice, context->stream), "write");
    check(cudaStreamSynchronize(context->stream), "write");
  });
}

deepr_status read(deepr_device_context* context, void* dst, const void* src, uint64_t bytes) {
  return guarded(context, [&] {
    abi::check_transfer(dst, src, bytes);
    if (!bytes) return;
    check(cudaMemcpyAsync(dst, src, size_t(bytes), cudaMemcpyDeviceToHost, context->stream), "read");
    check(cudaStreamSynchronize(context->stream), "read");
  });
}

deepr_status copy(deepr_device_context* context, void* dst, const void* src, uint64_t bytes) {
  return guarded(context, [&] {
    abi::check_transfer(dst, src, bytes);
    if (bytes) check(cudaMemcpyAsync(dst, src, size_t(bytes), cudaMemcpyDeviceToDevice, context->stream), "copy");
  });
}

deepr_status synchronize(deepr_device_context* context) {
  return guarded(context, [&] { check(cudaStreamSynchronize(context->stream), "synchronize"); });
}

deepr_status gather(deepr_device_context* context, const float* inputs, uint32_t features, const uint32_t* rows,
                    uint64_t first, uint32_t batch, uint32_t stride, float* x) {
  return guarded(context, [&] {
    abi::check_gather(inputs, features, batch, stride, x);
    const uint64_t count = uint64_t(features) * stride;
    gather_feature_major_kernel<<<blocks_for(count), kThreads, 0, context->stream>>>(inputs, features, rows, first,
                                                                                     batch, stride, x);
    check_launch("gather_feature_major");
  });
}

deepr_status forward(deepr_device_context* context, const deepr_sparse_view* weight, const deepr_dense_view* bias,
                     const float* x, float* y, uint32_t stride, uint32_t relu) {
  return guarded(context, [&] {
    abi::check_sparse_view(weight);
    const float* b = abi::check_sparse_forward(*weight, bias, x, y, stride).value;
    const uint64_t count = uint64_t(weight->n_out) * stride;
    sparse_forward_kernel<<<blocks_for(count), kThreads, 0, context->stream>>>(*weight, b, x, y, stride, relu != 0);
    check_launch("sparse_forward");
  });
}

deepr_status relu_backward(deepr_device_context* context, const float* y, const float* dy, float* dx, uint64_t count) {
  return guarded(context, [&] {
    abi::check_relu_backward(y, dy, dx);
    if (!count) return;
    relu_backward_kernel<<<blocks_for(count), kThreads, 0, context->stream>>>(y, dy, dx, count);
    check_launch("relu_backward");
  });
}

deepr_status loss(deepr_device_context* context, const float* logits, const int32_t* labels, uint32_t classes,
                  uint32_t batch, uint32_t stride, float* grad, double* host_loss_sum, uint32_t* host_correct) {
  return guarded(context, [&] {
    abi::check_softmax_cross_entropy(logits, labels, classes, batch, stride, host_loss_sum, host_correct);
    SampleLoss* samples = static_cast<SampleLoss*>(scratch(context, sizeof(SampleLoss) * batch));
    softmax_cross_entropy_kernel<<<blocks_for(stride), kThreads, 0, context->stream>>>(logits, labels, classes, batch,
                                                                                      stride, grad, samples);
    check_launch("softmax_cross_entropy");
    std::vector<SampleLoss>& host = context->samples;
    host.resize(batch);
    check(cudaMemcpyAsync(host.data(), samples, sizeof(SampleLoss) * batch, cudaMemcpyDeviceToHost, context->stream),
          "reading the loss");
    check(cudaStreamSynchronize(context->stream), "softmax_cross_entropy");
    // The CPU's sum: the samples in order, each log(sum) - (z_label - top) in double.
    double loss_sum = 0;
    uint32_t correct = 0;
    for (const SampleLoss& s : host) {
      require(s.verdict >= 0, "a label is not a class");
      loss_sum += std::log(double(s.sum)) - double(s.label_logit);
      correct += uint32_t(s.verdict);
    }
    *host_loss_sum = loss_sum;
    *host_correct = correct;
  });
}

deepr_status backward(deepr_device_context* context, const deepr_sparse_view* weight, const float* x, const float* dz,
                      float* dx, uint32_t stride, float* theta_gradient) {
  return guarded(context, [&] {
    abi::check_sparse_view(weight);
    abi::check_sparse_backward(x, dz, theta_gradient, stride);
    cudaStream_t stream = context->stream;
    const uint32_t slots = weight->slots;
    if (dx) {
      // The slots in column order, so that each input's gradient sums its connections without atomics.
      const ColumnOrder order = column_order(context, *weight, weight->n_in, [&](uint64_t* keys) {
        column_keys_kernel<<<blocks_for(slots), kThreads, 0, stream>>>(*weight, keys);
      });
      input_gradient_kernel<<<blocks_for(uint64_t(weight->n_in) * stride), kThreads, 0, stream>>>(
          *weight, order.keys, order.start, order.row, dz, dx, stride);
      check_launch("sparse_backward (dx)");
    }
    if (!slots) return;
    theta_gradient_kernel<<<blocks_for(slots, 16), kThreads, 0, stream>>>(*weight, x, dz, stride, theta_gradient);
    check_launch("sparse_backward");
  });
}

deepr_status bias_backward(deepr_device_context* context, const float* dz, uint32_t outputs, uint32_t stride,
                           float* bias_gradient) {
  return guarded(context, [&] {
    abi::check_bias_backward(dz, bias_gradient, stride);
    if (!outputs) return;
    bias_backward_kernel<<<blocks_for(outputs, 16), kThreads, 0, context->stream>>>(dz, outputs, stride, bias_gradient);
    check_launch("bias_backward");
  });
}

deepr_status update_sparse(deepr_device_context* context, const deepr_sparse_view* weight, const float* theta_gradient,
                           const deepr_update* update, uint32_t* host_dying, uint32_t dying_capacity,
                           uint32_t* host_dying_count) {
  return guarded(context, [&] {
    abi::check_sparse_view(weight);
    abi::check_sparse_update(*weight, theta_gradient, update, host_dying, dying_capacity, host_dying_count,
                             state_arrays);
    const Hyper h = hyper_of(*update);
    *host_dying_count = 0;
    if (!weight->slots) return;
    uint32_t* dying = static_cast<uint32_t*>(scratch(context, sizeof(uint32_t) * weight->slots));
    zero_flags(context);
    const deepr::RngStream noise{update->seed, update->step, update->store, deepr::Purpose::kNoise};
    with_update_kinds(*update, [&](auto kinds) {
      using Kinds = decltype(kinds);
      sparse_update_kernel<Kinds::kOptimiser, Kinds::kPrior><<<blocks_for(weight->slots), kThreads, 0, context->stream>>>(
          *weight, theta_gradient, h, noise, dying, context->flags);
    });
    check_launch("sparse_update");
    const DeviceFlags flags = read_flags(context);
    if (flags.dying_count) {
      check(cudaMemcpyAsync(host_dying, dying, sizeof(uint32_t) * flags.dying_count, cudaMemcpyDeviceToHost,
                            context->stream),
            "reading the dying list");
      check(cudaStreamSynchronize(context->stream), "sparse_update");
    }
    std::sort(host_dying, host_dying + flags.dying_count);  // the kernel appends in any order
    *host_dying_count = flags.dying_count;
    if (flags.non_finite) throw abi::sparse_store_not_finite(weight->id);
  });
}

deepr_status update_dense(deepr_device_context* context, const deepr_dense_view* store, const float* gradient,
                          const deepr_update* update) {
  return guarded(context, [&] {
    abi::check_dense_update(store, gradient, update, state_arrays);
    const Hyper h = hyper_of(*update);
    zero_flags(context);
    with_update_kinds(*update, [&](auto kinds) {  // no prior on a dense store
      dense_update_kernel<decltype(kinds)::kOptimiser><<<blocks_for(store->size), kThreads, 0, context->stream>>>(
          *store, gradient, h, context->flags);
    });
    check_launch("dense_update");
    if (read_flags(context).non_finite) throw abi::dense_store_not_finite();
  });
}

deepr_status rewire(deepr_device_context* context, deepr_sparse_view* weight, uint32_t capacity, uint64_t seed,
                    const uint32_t* host_dying, uint32_t dying_count, const uint64_t* host_born, uint32_t born_count) {
  return guarded(context, [&] {
    abi::check_sparse_view(weight);
    const uint64_t new_slots = abi::check_rewire(*weight, capacity, host_dying, dying_count, host_born, born_count);
    if (dying_count == 0 && born_count == 0) return;

    // Scratch: the two lists, then the new slot arrays (source, theta, the states).
    const size_t dying_bytes = aligned(sizeof(uint32_t) * dying_count), born_bytes = aligned(sizeof(uint64_t) * born_count);
    const size_t array_bytes = aligned(sizeof(float) * new_slots);
    char* base = static_cast<char*>(scratch(context, dying_bytes + born_bytes + (2 + weight->states) * array_bytes));
    uint32_t* dying = reinterpret_cast<uint32_t*>(base);
    uint64_t* born = reinterpret_cast<uint64_t*>(base + dying_bytes);
    SlotArrays to{};
    to.source = reinterpret_cast<uint32_t*>(base + dying_bytes + born_bytes);
    to.theta = reinterpret_cast<float*>(base + dying_bytes + born_bytes + array_bytes);
    for (uint32_t a = 0; a < weight->states; ++a)
      to.state[a] = reinterpret_cast<float*>(base + dying_bytes + born_bytes + (2 + a) * array_bytes);
    cudaStream_t stream = context->stream;
    if (dying_count)
      check(cudaMemcpyAsync(dying, host_dying, sizeof(uint32_t) * dying_count, cudaMemcpyHostToDevice, stream), "rewire");
    if (born_count)
      check(cudaMemcpyAsync(born, host_born, sizeof(uint64_t) * born_count, cudaMemcpyHostToDevice, stream), "rewire");

    zero_flags(context);
    check_row_start_kernel<<<1, 1, 0, stream>>>(*weight, context->flags);
    if (weight->slots)
      rewire_survivors_kernel<<<blocks_for(weight->slots), kThreads, 0, stream>>>(*weight, dying, dying_count, born,
                                                                                  born_count, to);
    if (born_count)
      rewire_born_kernel<<<blocks_for(born_count), kThreads, 0, stream>>>(*weight, seed, dying, dying_count, born,
                                                                          born_count, to, context->flags);
    check_launch("rewire");
    // The slots moved to scratch only: a refused plan leaves the store as it was.
    const DeviceFlags flags = read_flags(context);
    require(!flags.bad_row_start, "row_start must run from 0 to slots");
    require(!flags.born_active, "a born position is an active connection that is not dying");

    uint32_t* row_start = const_cast<uint32_t*>(weight->row_start);  // the buffers are the caller's, writable
    rewire_row_start_kernel<<<blocks_for(uint64_t(weight->n_out) + 1), kThreads, 0, stream>>>(
        row_start, weight->n_in, weight->n_out, dying, dying_count, born, born_count);
    check_launch("rewire");
    const size_t bytes = sizeof(float) * new_slots;
    if (bytes) {
      check(cudaMemcpyAsync(const_cast<uint32_t*>(weight->source), to.source, bytes, cudaMemcpyDeviceToDevice, stream),
            "rewire");
      check(cudaMemcpyAsync(weight->theta, to.theta, bytes, cudaMemcpyDeviceToDevice, stream), "rewire");
      for (uint32_t a = 0; a < weight->states; ++a)
        check(cudaMemcpyAsync(weight->state[a], to.state[a], bytes, cudaMemcpyDeviceToDevice, stream), "rewire");
    }
    weight->slots = uint32_t(new_slots);
  });
}

// Convolution and pooling (version 3): kernels/conv.cuh and pool.cuh.

deepr_status conv_forward(deepr_device_context* context, const deepr_conv_geometry* geometry,
                          const deepr_sparse_view* weight, const deepr_dense_view* bias, const float* x, float* y,
                          uint32_t stride, uint32_t relu) {
  return guarded(context, [&] {
    const uint64_t positions = abi::check_conv_geometry(geometry);
    abi::check_sparse_view(weight);
    const float* b = abi::check_sparse_conv2d_forward(*geometry, *weight, bias, x, y, stride).value;
    const uint64_t count = geometry->out_channels * positions * stride;
    conv_forward_kernel<<<blocks_for(count), kThreads, 0, context->stream>>>(*geometry, *weight, b, x, y, stride,
                                                                             relu != 0);
    check_launch("sparse_conv2d_forward");
  });
}

deepr_status conv_backward(deepr_device_context* context, const deepr_conv_geometry* geometry,
                           const deepr_sparse_view* weight, const float* x, const float* dy, float* dx, uint32_t stride,
                           float* theta_gradient) {
  return guarded(context, [&] {
    abi::check_conv_geometry(geometry);
    abi::check_sparse_view(weight);
    abi::check_sparse_conv2d_backward(*geometry, *weight, x, dy, theta_gradient, stride);
    cudaStream_t stream = context->stream;
    const uint32_t slots = weight->slots;
    if (dx) {
      // The slots in input-channel order, as sparse_backward's column order.
      const ColumnOrder order = column_order(context, *weight, geometry->in_channels, [&](uint64_t* keys) {
        conv_channel_keys_kernel<<<blocks_for(slots), kThreads, 0, stream>>>(*geometry, *weight, keys);
      });
      const uint64_t count = uint64_t(geometry->in_channels) * geometry->height * geometry->width * stride;
      conv_input_gradient_kernel<<<blocks_for(count), kThreads, 0, stream>>>(*geometry, *weight, order.keys, order.start,
                                                                            order.row, dy, dx, stride);
      check_launch("sparse_conv2d_backward (dx)");
    }
    if (!slots) return;
    conv_theta_gradient_kernel<<<blocks_for(slots, 16), kThreads, 0, stream>>>(*geometry, *weight, x, dy, stride,
                                                                                      theta_gradient);
    check_launch("sparse_conv2d_backward");
  });
}

// A channel's dy is one run of positions x stride values: the sums of bias_backward_kernel over it.
deepr_status conv_bias_backward(deepr_device_context* context, const deepr_conv_geometry* geometry, const float* dy,
                                uint32_t stride, float* bias_gradient) {
  return guarded(context, [&] {
    const uint64_t positions = abi::check_conv_geometry(geometry);
    abi::check_bias_backward(dy, bias_gradient, stride);
    require(positions * stride <= 0xFFFFFFFFu, "a channel's positions times the stride must fit in 32 bits");
    bias_backward_kernel<<<blocks_for(geometry->out_channels, 16), kThreads, 0, context->stream>>>(
        dy, geometry->out_channels, uint32_t(positions * stride), bias_gradient);
    check_launch("conv2d_bias_backward");
  });
}

deepr_status pool_forward(deepr_device_context* context, const deepr_conv_geometry* geometry, const float* x, float* y,
                          uint32_t stride) {
  return guarded(context, [&] {
    const uint64_t positions = abi::check_pool_geometry(geometry);
    abi::check_max_pool2d_forward(x, y, stride);
    const uint64_t count = geometry->in_channels * positions * stride;
    pool_forward_kernel<<<blocks_for(count), kThreads, 0, context->stream>>>(*geometry, x, y, stride);
    check_launch("max_pool2d_forward");
  });
}

deepr_status pool_backward(deepr_device_context* context, const deepr_conv_geometry* geometry, const float* x,
                           const float* y, const float* dy, float* dx, uint32_t stride) {
  return guarded(context, [&] {
    abi::check_pool_geometry(geometry);
    abi::check_max_pool2d_backward(x, y, dy, dx, stride);
    const uint64_t count = uint64_t(geometry->in_channels) * geometry->height * geometry->width * stride;
    pool_backward_kernel<<<blocks_for(count), kThreads, 0, context->stream>>>(*geometry, x, y, dy, dx, stride);
    check_launch("max_pool2d_backward");
  });
}

deepr_status device_count(uint32_t* count) {
  if (!count) return DEEPR_INVALID_ARGUMENT;
  *count = 0;
  int n = 0;
  const cudaError_t status = cudaGetDeviceCount(&n);
  if (status != cudaSuccess || n == 0) {
    cudaGetLastError();
    open_error = no_device_reason(status == cudaSuccess ? cudaErrorNoDevice : status);
    return DEEPR_DEVICE_FAILURE;
  }
  open_error.clear();
  *count = uint32_t(n);
  return DEEPR_OK;
}

// A device name as a JSON string's contents: quotes, backslashes and control characters escaped.
std::string json_escaped(const char* text) {
  std::string out;
  for (const char* p = text; *p; ++p) {
    const unsigned char ch = static_cast<unsigned char>(*p);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += char(ch);
    } else if (ch < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", ch);
      out += escaped;
    } else {
      out += char(ch);
    }
  }
  return out;
}

deepr_status describe(int32_t ordinal, char* buffer, uint32_t capacity) {
  if (!buffer) return DEEPR_INVALID_ARGUMENT;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return DEEPR_INVALID_ARGUMENT;  // no device has this ordinal
  }
  if (ordinal < 0 || ordinal >= count) return DEEPR_INVALID_ARGUMENT;
  cudaDeviceProp prop;
  int driver = 0;
  if (cudaGetDeviceProperties(&prop, ordinal) != cudaSuccess || cudaDriverGetVersion(&driver) != cudaSuccess) {
    cudaGetLastError();
    return DEEPR_DEVICE_FAILURE;
  }
  const std::string json = "{\"name\":\"" + json_escaped(prop.name) + "\",\"computeCapability\":\"" +
                           std::to_string(prop.major) + "." + std::to_string(prop.minor) +
                           "\",\"memoryBytes\":" + std::to_string(uint64_t(prop.totalGlobalMem)) + ",\"driver\":\"" +
                           std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10) + "\"}";
  if (json.size() + 1 > capacity) return DEEPR_INVALID_ARGUMENT;
  std::copy(json.c_str(), json.c_str() + json.size() + 1, buffer);
  return DEEPR_OK;
}

const deepr_device kCudaDevice = {
    DEEPR_DEVICE_ABI_VERSION,
    sizeof(deepr_device),
    "cuda",
    open,
    close,
    last_error,
    alloc,
    release,
    write,
    read,
    copy,
    synchronize,
    gather,
    forward,
    relu_backward,
    loss,
    backward,
    bias_backward,
    update_sparse,
    update_dense,
    rewire,
    device_count,
    describe,
    conv_forward,
    conv_backward,
    conv_bias_backward,
    pool_forward,
    pool_backward,
};

}  // namespace

}  // namespace deepr_cuda

extern "C" __attribute__((visibility("default"))) const deepr_device* deepr_device_table(uint32_t abi_version) {
  return abi_version >= 1 && abi_version <= DEEPR_DEVICE_ABI_VERSION ? &deepr_cuda::kCudaDevice : nullptr;
}
