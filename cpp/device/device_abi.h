/* deepr's device interface: a small, versioned C ABI for buffers and kernels. The core's CPU kernels
 * sit under it (cpu_device.cpp); a GPU library implements the same table. Plain C: it compiles as
 * C, as C++ and under nvcc, and crosses a shared-library boundary (dlopen) with no C++ types.
 *
 * Who does what (ARCHITECTURE.md, "Device interface"):
 * - The device owns every buffer it allocates; the host holds the pointers, opaque to it, and
 *   moves data with write / read / copy. Kernels take device pointers only, except where a
 *   parameter says "host": the short lists and counters that cross to the host each step.
 * - The host decides the structure: a kernel that updates a sparse store returns the SHORT list of
 *   its slots that went dormant; the host chooses the positions that regrow from those lists and
 *   its own copy of each store's row_start and source (never theta), and sends the plan back to
 *   `rewire`. So both devices share that code and draw the same positions.
 * - Capacity: a store's slot buffers (source, theta, the state arrays) hold `capacity` slots,
 *   chosen by the host. With a per-store budget a store never grows. With a global budget, before
 *   a rewire that would pass the capacity, the host allocates larger buffers, copies the slots
 *   over with `copy`, releases the old ones and passes the new capacity.
 * - Random numbers follow ARCHITECTURE.md, "Random streams": noise from (seed, step, store id,
 *   purpose 4), signs from (seed, store id, position); cpp/philox.hpp and
 *   cpp/philox_distributions.hpp compile for the device to draw the same bits.
 *
 * Calls on one context are made by one thread at a time, in order; a device may run them
 * asynchronously, but a call that returns data to host memory ("host" parameters, read) returns
 * only once that data is there. `synchronize` waits for everything issued.
 *
 * Exporting a table: a device library exports one function with C linkage,
 *
 *     const deepr_device* deepr_device_table(uint32_t abi_version);
 *
 * (type deepr_device_entry, name DEEPR_DEVICE_ENTRY_NAME for dlsym). It returns its table when it
 * implements `abi_version` (any version from 1 up to its own: later versions only append members,
 * and `struct_size` says how many the table has), or NULL when it does not. The CPU device
 * linked into the core is reached through deepr_cpu_device_table, of the same type.
 */
#ifndef DEEPR_DEVICE_ABI_H
#define DEEPR_DEVICE_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DEEPR_DEVICE_ABI_VERSION 3u
#define DEEPR_DEVICE_ENTRY_NAME "deepr_device_table"

/* Status codes; every call but close, release and last_error returns one. */
typedef int32_t deepr_status;
#define DEEPR_OK 0
#define DEEPR_INVALID_ARGUMENT 1 /* a null pointer, an unknown enum value, sizes that do not fit */
#define DEEPR_OUT_OF_MEMORY 2
#define DEEPR_NON_FINITE 3 /* an update left a parameter NaN or infinite (training diverged) */
#define DEEPR_DEVICE_FAILURE 4 /* anything else the device reports (a lost GPU, a driver error) */

/* At most this many optimiser state arrays per store (momentum keeps 1, Adam 2). */
#define DEEPR_MAX_STATE_ARRAYS 2
/* source[k] of a sparse store: the input index, with this bit set when the weight is -theta. */
#define DEEPR_SIGN_BIT 0x80000000u

/* A sparse store in CSR layout: the slots of output j are [row_start[j], row_start[j + 1]),
 * sorted by input index; per slot the input index with the sign bit, theta (>= 0 while active)
 * and the optimiser's state arrays state[0 .. states), in the order the optimiser declares them.
 * `id` keys the store's random streams and signs. The kernels only read row_start and source;
 * `rewire` writes them. All pointers are device pointers. */
typedef struct deepr_sparse_view {
  uint32_t n_in, n_out;
  uint32_t id;
  uint32_t slots; /* active connections: row_start[n_out] */
  const uint32_t* row_start;
  const uint32_t* source;
  float* theta;
  uint32_t states;
  float* state[DEEPR_MAX_STATE_ARRAYS];
} deepr_sparse_view;

/* A dense store (a bias): `size` values and the optimiser's state arrays; size 0 stands for no store. */
typedef struct deepr_dense_view {
  uint32_t size;
  float* value;
  uint32_t states;
  float* state[DEEPR_MAX_STATE_ARRAYS];
} deepr_dense_view;

/* The optimiser and the prior of an update (cpp/rules/optimisers.hpp, priors.hpp). Each line is
 * one float operation after another, each rounded on its own, in the order written. */
#define DEEPR_OPTIMISER_SGD 0u      /* theta -= lr * g; no state */
#define DEEPR_OPTIMISER_MOMENTUM 1u /* v = momentum * v + g, theta -= lr * v; state[0] = v */
/* Version 3. m = beta1 * m + (1 - beta1) * g, v = beta2 * v + (1 - beta2) * (g * g),
 * theta -= (lr * (m / correction1)) / (sqrt(v / correction2) + epsilon), sqrt correctly rounded;
 * state[0] = m, state[1] = v. */
#define DEEPR_OPTIMISER_ADAM 2u
/* The priors apply to sparse stores only, after the optimiser's step. Under DEEP R's, theta >= 0
 * and theta < 0 means the connection went dormant: sparse_update lists it as dying. Under the
 * baselines' priors (version 3) w = sign * theta is an ordinary signed weight that may cross zero:
 * nothing goes dormant and the dying list is always empty. */
#define DEEPR_PRIOR_DEEP_R 0u   /* theta = (theta - lr * alpha) + noise_std * nu */
#define DEEPR_PRIOR_NONE 1u     /* theta unchanged */
#define DEEPR_PRIOR_L2 2u       /* theta -= (lr * weight_decay) * theta */
/* l1-shrink: a = theta < 0 ? -theta : theta, s = a - lr * alpha, m = s < 0 ? 0 : s (a NaN stays
 * NaN), theta = theta < 0 ? -m : m */
#define DEEPR_PRIOR_L1_SHRINK 3u

/* One store's update: the rule, the step's hyper-parameters, and the coordinates of the store's
 * noise stream (nu of slot k is normal k of stream (seed, step, store, purpose 4)). */
typedef struct deepr_update {
  uint32_t optimiser;
  uint32_t prior;
  float lr, alpha, noise_std, momentum;
  uint64_t seed;
  uint64_t step;
  uint32_t store;
  /* Version 3: read only for the optimiser and priors of version 3, which a host of version 2
   * never passes. weight_decay: the l2 prior's. beta1, beta2, epsilon: Adam's; correction1 =
   * 1 - beta1^t and correction2 = 1 - beta2^t for the step count t = step + 1, computed by the
   * host in double and rounded to float once (cpp/rules/optimisers.hpp, with_bias_corrections),
   * so that no device needs pow. */
  float weight_decay;
  float beta1, beta2, epsilon;
  float correction1, correction2;
} deepr_update;

/* The geometry of a 2-D convolution or pooling window (cpp/conv_geometry.hpp). Images are
 * feature-major like every activation: feature (c * height + y) * width + x is channel c, row y,
 * column x. Outputs are out_height = (height + 2 padding - kernel_height) / stride + 1 rows, and
 * out_width likewise. A sparse_conv2d store has n_in = in_channels * kernel_height * kernel_width
 * kernel entries (ic * kernel_height + ky) * kernel_width + kx and n_out = out_channels: its
 * position out_channel * n_in + entry. Pooling has out_channels = in_channels and no padding. */
typedef struct deepr_conv_geometry {
  uint32_t in_channels, height, width;
  uint32_t out_channels;
  uint32_t kernel_height, kernel_width;
  uint32_t stride, padding;
} deepr_conv_geometry;

typedef struct deepr_device_context deepr_device_context;

/* Activations are feature-major, x[i * stride + b] feature i of sample b, the batch padded to
 * `stride` (a multiple of 16) by zero samples, which have zero loss gradient. */
typedef struct deepr_device {
  uint32_t abi_version;
  uint32_t struct_size; /* sizeof(deepr_device) of the library's version */
  const char* name;     /* "cpu", "cuda", ... */

  /* Opens device `ordinal` (0 for the CPU). On failure *context is NULL and last_error(NULL)
   * says why (per thread). */
  deepr_status (*open)(int32_t ordinal, deepr_device_context** context);
  /* Releases every buffer still allocated in the context, and the context. */
  void (*close)(deepr_device_context* context);
  /* What the last failed call on the context was about; "" when none failed. Valid until the next call. */
  const char* (*last_error)(const deepr_device_context* context);

  /* Memory: alloc gives `bytes` (> 0) bytes aligned to 64, uninitialised. write: host -> device,
   * read: device -> host, copy: device -> device (ranges must not overlap). */
  deepr_status (*alloc)(deepr_device_context* context, uint64_t bytes, void** buffer);
  void (*release)(deepr_device_context* context, void* buffer); /* a buffer from alloc on this context */
  deepr_status (*write)(deepr_device_context* context, void* device_dst, const void* host_src, uint64_t bytes);
  deepr_status (*read)(deepr_device_context* context, void* host_dst, const void* device_src, uint64_t bytes);
  deepr_status (*copy)(deepr_device_context* context, void* device_dst, const void* device_src, uint64_t bytes);
  deepr_status (*synchronize)(deepr_device_context* context);

  /* Samples rows[0 .. batch) (or first .. first + batch when rows is NULL) of a row-major data set
   * of `features` columns, written feature-major into x with zero padding samples [batch, stride). */
  deepr_status (*gather_feature_major)(deepr_device_context* context, const float* inputs, uint32_t features,
                                       const uint32_t* rows, uint64_t first, uint32_t batch, uint32_t stride, float* x);
  /* y[j] = bias[j] + sum over active (i -> j) of w x[i]; with relu != 0, max(y, 0) (NaN stays NaN).
   * bias may be NULL or of size 0 (no bias). */
  deepr_status (*sparse_forward)(deepr_device_context* context, const deepr_sparse_view* weight,
                                 const deepr_dense_view* bias, const float* x, float* y, uint32_t stride, uint32_t relu);
  /* dx[n] = y[n] > 0 ? dy[n] : 0 for n < count; dx may equal dy (in place). */
  deepr_status (*relu_backward)(deepr_device_context* context, const float* y, const float* dy, float* dx, uint64_t count);
  /* Softmax cross-entropy of feature-major logits: grad (may be NULL) = (softmax - onehot) / batch,
   * zero in the padding; the loss sum and the count of correct samples (largest logit, first on
   * ties) go to host memory. A non-finite loss is returned as it is, with DEEPR_OK. */
  deepr_status (*softmax_cross_entropy)(deepr_device_context* context, const float* logits, const int32_t* labels,
                                        uint32_t classes, uint32_t batch, uint32_t stride, float* grad,
                                        double* host_loss_sum, uint32_t* host_correct);
  /* dx[i] = sum over active (i -> j) of w dz[j] (dx may be NULL: the first layer), and
   * theta_gradient[k] = sign_k sum_b dz[j][b] x[i][b], dE/dtheta of every slot k. */
  deepr_status (*sparse_backward)(deepr_device_context* context, const deepr_sparse_view* weight, const float* x,
                                  const float* dz, float* dx, uint32_t stride, float* theta_gradient);
  /* bias_gradient[j] = sum_b dz[j][b]. */
  deepr_status (*bias_backward)(deepr_device_context* context, const float* dz, uint32_t outputs, uint32_t stride,
                                float* bias_gradient);
  /* theta = prior(optimiser(theta, g), nu) for every slot; the slots whose theta fell below zero
   * (under DEEP R's prior; none under the baselines'), ascending, go to host_dying (room for
   * dying_capacity >= weight->slots entries) and their count to *host_dying_count. The view holds
   * exactly the optimiser's state arrays. */
  deepr_status (*sparse_update)(deepr_device_context* context, const deepr_sparse_view* weight,
                                const float* theta_gradient, const deepr_update* update, uint32_t* host_dying,
                                uint32_t dying_capacity, uint32_t* host_dying_count);
  /* The optimiser's step on a dense store (no prior). */
  deepr_status (*dense_update)(deepr_device_context* context, const deepr_dense_view* store, const float* gradient,
                               const deepr_update* update);
  /* Applies the host's plan to a sparse store: drops the slots host_dying (ascending) and activates
   * host_born (positions out * n_in + in; sorted, distinct, dormant) at theta 0, zero state, and
   * the fixed sign of (seed, weight->id, position). The slot buffers must hold `capacity` >=
   * max(slots, slots - dying + born) slots; weight->slots becomes the new count. */
  deepr_status (*rewire)(deepr_device_context* context, deepr_sparse_view* weight, uint32_t capacity, uint64_t seed,
                         const uint32_t* host_dying, uint32_t dying_count, const uint64_t* host_born,
                         uint32_t born_count);

  /* Version 2. How many devices the library can open, with no context: 0 and DEEPR_DEVICE_FAILURE
   * when none can be used, last_error(NULL) then saying why (no driver, a driver too old for the
   * library, no device). */
  deepr_status (*device_count)(uint32_t* count);
  /* Device `ordinal` as one line of JSON, NUL-terminated, into `capacity` bytes of host memory:
   * {"name": string, "computeCapability": string, "memoryBytes": number, "driver": string}, the
   * members a device does not have left out. DEEPR_INVALID_ARGUMENT for an ordinal that is not a
   * device or a buffer too small. */
  deepr_status (*describe)(int32_t ordinal, char* buffer, uint32_t capacity);

  /* Version 3: convolution and pooling. */
  /* y[oc, oy, ox] = bias[oc] + sum over active (entry -> oc) of w x[ic, oy stride + ky - padding,
   * ox stride + kx - padding] (padding reads as zero), summed as the CPU does: the bias, then the
   * channel's slots in order; with relu != 0, max(y, 0) (NaN stays NaN). bias may be NULL or of
   * size 0 (no bias), else of size out_channels. */
  deepr_status (*sparse_conv2d_forward)(deepr_device_context* context, const deepr_conv_geometry* geometry,
                                        const deepr_sparse_view* weight, const deepr_dense_view* bias, const float* x,
                                        float* y, uint32_t stride, uint32_t relu);
  /* From dy: dx (may be NULL: the first layer), the sum over the connections of w dy at the inputs
   * they read, and theta_gradient[k] = sign_k sum over positions and samples of dy x, dE/dtheta of
   * every slot k. */
  deepr_status (*sparse_conv2d_backward)(deepr_device_context* context, const deepr_conv_geometry* geometry,
                                         const deepr_sparse_view* weight, const float* x, const float* dy, float* dx,
                                         uint32_t stride, float* theta_gradient);
  /* bias_gradient[oc] = the sum of dy over every position and sample of output channel oc. */
  deepr_status (*conv2d_bias_backward)(deepr_device_context* context, const deepr_conv_geometry* geometry,
                                       const float* dy, uint32_t stride, float* bias_gradient);
  /* y = the maximum of each window (a NaN in it makes it NaN). */
  deepr_status (*max_pool2d_forward)(deepr_device_context* context, const deepr_conv_geometry* geometry, const float* x,
                                     float* y, uint32_t stride);
  /* dx = 0, then each window's dy added at its first input (row, then column order) equal to its
   * maximum y; overlapping windows add up. */
  deepr_status (*max_pool2d_backward)(deepr_device_context* context, const deepr_conv_geometry* geometry,
                                      const float* x, const float* y, const float* dy, float* dx, uint32_t stride);
} deepr_device;

typedef const deepr_device* (*deepr_device_entry)(uint32_t abi_version);

/* The CPU device: the core's own kernels (cpp/device/cpu_device.cpp). */
const deepr_device* deepr_cpu_device_table(uint32_t abi_version);

#ifdef __cplusplus
}
#endif

#endif /* DEEPR_DEVICE_ABI_H */
