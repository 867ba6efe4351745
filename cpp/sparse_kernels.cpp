#include "sparse_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "non_finite_error.hpp"
#include "random.hpp"
#include "simd.hpp"
#include "thread_pool.hpp"

namespace deepr {

namespace {

inline float signed_weight(uint32_t source, float theta) { return (source & kSignBit) ? -theta : theta; }

// Noise is drawn in blocks so the normal generator runs as its own tight loop.
constexpr uint32_t kNoiseBlock = 256;

// Outputs [out_begin, out_end) of the forward pass.
DEEPR_DISPATCH
void forward_rows(const SparseLayer& layer, const float* __restrict x, float* __restrict y, uint32_t stride,
                  uint32_t out_begin, uint32_t out_end) {
  const uint32_t* src = layer.source.data();
  const float* theta = layer.theta.data();
  for (uint32_t out = out_begin; out < out_end; ++out) {
    const uint32_t first = layer.row_start[out], end = layer.row_start[out + 1];
    const float bias = layer.bias.empty() ? 0.0f : layer.bias[out];
    float* yj = y + size_t(out) * stride;
    uint32_t b = 0;
    // 64 samples at a time: four independent accumulators hide the latency of the adds.
    for (; b + 4 * kLanes <= stride; b += 4 * kLanes) {
      Lanes a0 = {}, a1 = {}, a2 = {}, a3 = {};
      for (uint32_t k = first; k < end; ++k) {
        const float w = signed_weight(src[k], theta[k]);
        const float* xi = x + size_t(src[k] & kIndexMask) * stride + b;
        a0 += w * load_lanes(xi);
        a1 += w * load_lanes(xi + kLanes);
        a2 += w * load_lanes(xi + 2 * kLanes);
        a3 += w * load_lanes(xi + 3 * kLanes);
      }
      store_lanes(yj + b, a0 + bias);
      store_lanes(yj + b + kLanes, a1 + bias);
      store_lanes(yj + b + 2 * kLanes, a2 + bias);
      store_lanes(yj + b + 3 * kLanes, a3 + bias);
    }
    for (; b < stride; b += kLanes) {
      Lanes acc = {};
      for (uint32_t k = first; k < end; ++k)
        acc += signed_weight(src[k], theta[k]) * load_lanes(x + size_t(src[k] & kIndexMask) * stride + b);
      store_lanes(yj + b, acc + bias);
    }
  }
}

struct RowsResult {
  uint64_t died = 0;
  bool finite = true;
};

// The fused backward and update of the connections of outputs [out_begin, out_end); kInputGradient
// says whether dx is computed (every layer but the first).
template <bool kInputGradient>
__attribute__((always_inline)) inline RowsResult update_rows(SparseLayer& layer, const float* __restrict x, const float* __restrict dz,
                              float* __restrict dx, uint32_t stride, const DeepRUpdate& u, uint32_t out_begin,
                              uint32_t out_end) {
  const uint32_t* src = layer.source.data();
  float* theta = layer.theta.data();
  float* velocity = layer.has_momentum() ? layer.velocity.data() : nullptr;
  const float pull = u.lr * u.alpha;
  float noise[kNoiseBlock];
  RowsResult result;

  // Slot k gets normal number k of the layer's noise stream, so the noise does not depend on how
  // the sweep is split; the normals are made a block at a time in their own tight loop.
  const uint32_t slots = uint32_t(layer.theta.size());
  uint32_t noise_first = layer.row_start[out_begin], noise_end = noise_first;
  for (uint32_t out = out_begin; out < out_end; ++out) {
    const float* __restrict dzj = dz + size_t(out) * stride;
    for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k) {
      if (k == noise_end) {
        noise_first = k;
        noise_end = std::min(slots, k + kNoiseBlock);
        if (u.noise_std != 0.0f) fill_normals(u.noise, noise_first, noise_end - noise_first, noise);
        else std::fill(noise, noise + (noise_end - noise_first), 0.0f);  // T = 0: no noise to draw
      }
      const uint32_t s = src[k];
      const float* __restrict xi = x + size_t(s & kIndexMask) * stride;
      const float w = signed_weight(s, theta[k]);  // the weight before this step's update
      Lanes grad = {};
      for (uint32_t b = 0; b < stride; b += kLanes) {
        const Lanes d = load_lanes(dzj + b);
        grad += d * load_lanes(xi + b);
        if (kInputGradient) {
          float* dxi = dx + size_t(s & kIndexMask) * stride + b;
          store_lanes(dxi, load_lanes(dxi) + w * d);
        }
      }
      const float grad_w = sum_lanes(grad);
      const float grad_theta = (s & kSignBit) ? -grad_w : grad_w;
      float step = grad_theta;
      if (velocity) step = velocity[k] = u.momentum * velocity[k] + grad_theta;
      const float t = theta[k] - u.lr * step - pull + u.noise_std * noise[k - noise_first];
      theta[k] = t;
      result.finite &= std::isfinite(t);
      result.died += t < 0.0f;
    }
  }
  return result;
}

DEEPR_DISPATCH
RowsResult update_rows_with_dx(SparseLayer& layer, const float* x, const float* dz, float* dx, uint32_t stride,
                               const DeepRUpdate& u, uint32_t out_begin, uint32_t out_end) {
  return update_rows<true>(layer, x, dz, dx, stride, u, out_begin, out_end);
}

DEEPR_DISPATCH
RowsResult update_rows_first_layer(SparseLayer& layer, const float* x, const float* dz, uint32_t stride,
                                   const DeepRUpdate& u, uint32_t out_begin, uint32_t out_end) {
  return update_rows<false>(layer, x, dz, nullptr, stride, u, out_begin, out_end);
}

// Outputs split into `parts` ranges of about equal numbers of connections.
std::vector<uint32_t> split_rows(const SparseLayer& layer, unsigned parts) {
  std::vector<uint32_t> bounds{0};
  for (unsigned p = 1; p < parts; ++p) {
    const uint64_t target = layer.active() * p / parts;
    bounds.push_back(uint32_t(std::lower_bound(layer.row_start.begin() + bounds.back(), layer.row_start.end() - 1, target) -
                              layer.row_start.begin()));
  }
  bounds.push_back(layer.n_out);
  return bounds;
}

// How many parts a sweep is worth splitting into: one per thread, once there is enough work to
// pay for waking the threads (about 2^19 multiply-adds, some 100 us, a part).
unsigned parts_for(const SparseLayer& layer, uint32_t stride) {
  const uint64_t work = layer.active() * stride;
  return unsigned(std::max<uint64_t>(1, std::min<uint64_t>(ThreadPool::shared().size(), work >> 19)));
}

}  // namespace

void sparse_forward(const SparseLayer& layer, const float* x, float* y, uint32_t stride) {
  const std::vector<uint32_t> rows = split_rows(layer, parts_for(layer, stride));
  ThreadPool::shared().run(unsigned(rows.size() - 1),
                           [&](unsigned p) { forward_rows(layer, x, y, stride, rows[p], rows[p + 1]); });
}

uint64_t sparse_backward_update(SparseLayer& layer, const float* x, const float* dz, float* dx, uint32_t stride,
                                const DeepRUpdate& u) {
  if (dx) std::fill(dx, dx + size_t(layer.n_in) * stride, 0.0f);
  // Parts would race on the input gradient, so a layer that has one runs as one part.
  const std::vector<uint32_t> rows = split_rows(layer, dx ? 1 : parts_for(layer, stride));
  std::vector<RowsResult> results(rows.size() - 1);
  ThreadPool::shared().run(unsigned(results.size()), [&](unsigned p) {
    results[p] = dx ? update_rows_with_dx(layer, x, dz, dx, stride, u, rows[p], rows[p + 1])
                    : update_rows_first_layer(layer, x, dz, stride, u, rows[p], rows[p + 1]);
  });
  uint64_t died = 0;
  bool finite = true;
  for (const RowsResult& r : results) {
    died += r.died;
    finite &= r.finite;
  }

  if (!layer.bias.empty()) {
    const bool momentum = !layer.bias_velocity.empty();
    for (uint32_t out = 0; out < layer.n_out; ++out) {
      Lanes sum = {};
      for (uint32_t b = 0; b < stride; b += kLanes) sum += load_lanes(dz + size_t(out) * stride + b);
      float g = sum_lanes(sum);
      if (momentum) g = layer.bias_velocity[out] = u.momentum * layer.bias_velocity[out] + g;
      layer.bias[out] -= u.lr * g;
      finite &= std::isfinite(layer.bias[out]);
    }
  }
  if (!finite)
    throw NonFiniteError("training diverged (lower the learning rate): a parameter of layer " +
                             std::to_string(layer.index) + " is no longer finite",
                         layer.index);
  return died;
}

namespace {

// Transposes a 16 x 16 tile held as 16 vectors, in four stages that each swap the off-diagonal
// blocks of size h x h (h = 8, 4, 2, 1) between rows i and i + h.
template <int h>
inline void swap_blocks(Lanes* r);

#define DEEPR_SWAP_BLOCKS(h, ...)                                                  \
  template <>                                                                      \
  inline void swap_blocks<h>(Lanes * r) {                                          \
    for (int i = 0; i < 16; ++i) {                                                 \
      if (i & h) continue;                                                         \
      const Lanes a = r[i], b = r[i + h];                                          \
      r[i] = __builtin_shufflevector(a, b, __VA_ARGS__);                           \
      r[i + h] = __builtin_shufflevector(a, b, DEEPR_HIGH_##h);                    \
    }                                                                              \
  }
#define DEEPR_HIGH_8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define DEEPR_HIGH_4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define DEEPR_HIGH_2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define DEEPR_HIGH_1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
DEEPR_SWAP_BLOCKS(8, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23)
DEEPR_SWAP_BLOCKS(4, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27)
DEEPR_SWAP_BLOCKS(2, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29)
DEEPR_SWAP_BLOCKS(1, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30)
#undef DEEPR_SWAP_BLOCKS

}  // namespace

DEEPR_DISPATCH
void gather_feature_major(const float* __restrict inputs, uint32_t features, const uint32_t* rows, uint64_t first,
                          uint32_t batch, uint32_t stride, float* __restrict x) {
  // 16 samples x 16 features at a time: load a row of features per sample, transpose the tile in
  // registers, store a row of samples per feature. Padding samples are zero.
  const uint32_t whole = features / kLanes * kLanes;
  for (uint32_t b0 = 0; b0 < stride; b0 += kLanes) {
    const float* sample[kLanes];
    for (uint32_t s = 0; s < kLanes; ++s)
      sample[s] = b0 + s < batch ? inputs + size_t(rows ? rows[b0 + s] : first + b0 + s) * features : nullptr;
    for (uint32_t i0 = 0; i0 < whole; i0 += kLanes) {
      Lanes tile[kLanes];
      for (uint32_t s = 0; s < kLanes; ++s) tile[s] = sample[s] ? load_lanes(sample[s] + i0) : Lanes{};
      swap_blocks<8>(tile);
      swap_blocks<4>(tile);
      swap_blocks<2>(tile);
      swap_blocks<1>(tile);
      for (uint32_t f = 0; f < kLanes; ++f) store_lanes(x + size_t(i0 + f) * stride + b0, tile[f]);
    }
    for (uint32_t i = whole; i < features; ++i)
      for (uint32_t s = 0; s < kLanes; ++s) x[size_t(i) * stride + b0 + s] = sample[s] ? sample[s][i] : 0.0f;
  }
}

}  // namespace deepr
