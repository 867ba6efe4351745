#include "dense_kernels.hpp"

#include <algorithm>
#include <functional>

#include "simd.hpp"
#include "thread_pool.hpp"

namespace deepr {

namespace {

// Outputs (or inputs) per block: kBlock accumulators of 16 lanes each stay in registers while the
// sum runs over the other dimension, so every activation vector loaded is used kBlock times.
constexpr uint32_t kBlock = 8;

// Samples [b0, b0 + 16) of outputs [j0, j0 + J): acc[j] = sum_i w[i][j0 + j] x[i], i ascending.
template <uint32_t J>
__attribute__((always_inline)) inline void forward_block(const float* __restrict w, const float* bias, uint32_t n_in,
                                                         uint32_t n_out, const float* __restrict x, float* __restrict y,
                                                         uint32_t stride, uint32_t j0, uint32_t b0) {
  Lanes acc[J] = {};
  for (uint32_t i = 0; i < n_in; ++i) {
    const Lanes xi = load_lanes(x + size_t(i) * stride + b0);
    const float* wi = w + size_t(i) * n_out + j0;
    for (uint32_t j = 0; j < J; ++j) acc[j] += wi[j] * xi;
  }
  for (uint32_t j = 0; j < J; ++j) store_lanes(y + size_t(j0 + j) * stride + b0, acc[j] + (bias ? bias[j0 + j] : 0.0f));
}

DEEPR_DISPATCH
void forward_outputs(const float* w, const float* bias, uint32_t n_in, uint32_t n_out, const float* x, float* y,
                     uint32_t stride, uint32_t begin, uint32_t end) {
  for (uint32_t b0 = 0; b0 < stride; b0 += kLanes) {
    uint32_t j = begin;
    for (; j + kBlock <= end; j += kBlock) forward_block<kBlock>(w, bias, n_in, n_out, x, y, stride, j, b0);
    for (; j < end; ++j) forward_block<1>(w, bias, n_in, n_out, x, y, stride, j, b0);
  }
}

// Samples [b0, b0 + 16) of inputs [i0, i0 + I): dx[i] = sum_j w[i][j] dy[j], j ascending.
template <uint32_t I>
__attribute__((always_inline)) inline void input_gradient_block(const float* __restrict w, uint32_t n_out,
                                                                const float* __restrict dy, float* __restrict dx,
                                                                uint32_t stride, uint32_t i0, uint32_t b0) {
  Lanes acc[I] = {};
  for (uint32_t j = 0; j < n_out; ++j) {
    const Lanes d = load_lanes(dy + size_t(j) * stride + b0);
    for (uint32_t i = 0; i < I; ++i) acc[i] += w[size_t(i0 + i) * n_out + j] * d;
  }
  for (uint32_t i = 0; i < I; ++i) store_lanes(dx + size_t(i0 + i) * stride + b0, acc[i]);
}

// Outputs [j0, j0 + J) of row i of dw: the lanes' partial sums over the samples, then sum_lanes.
template <uint32_t J>
__attribute__((always_inline)) inline void weight_gradient_block(const float* __restrict x, const float* __restrict dy,
                                                                 float* __restrict dw, uint32_t n_out, uint32_t stride,
                                                                 uint32_t i, uint32_t j0) {
  Lanes acc[J] = {};
  for (uint32_t b0 = 0; b0 < stride; b0 += kLanes) {
    const Lanes xi = load_lanes(x + size_t(i) * stride + b0);
    for (uint32_t j = 0; j < J; ++j) acc[j] += xi * load_lanes(dy + size_t(j0 + j) * stride + b0);
  }
  for (uint32_t j = 0; j < J; ++j) dw[size_t(i) * n_out + j0 + j] = sum_lanes(acc[j]);
}

// Rows [begin, end) of dw, and of dx when it is not null.
DEEPR_DISPATCH
void backward_inputs(const float* w, uint32_t n_out, const float* x, const float* dy, float* dx, uint32_t stride,
                     float* dw, uint32_t begin, uint32_t end) {
  for (uint32_t i = begin; i < end; ++i) {
    uint32_t j = 0;
    for (; j + kBlock <= n_out; j += kBlock) weight_gradient_block<kBlock>(x, dy, dw, n_out, stride, i, j);
    for (; j < n_out; ++j) weight_gradient_block<1>(x, dy, dw, n_out, stride, i, j);
  }
  if (!dx) return;
  for (uint32_t b0 = 0; b0 < stride; b0 += kLanes) {
    uint32_t i = begin;
    for (; i + kBlock <= end; i += kBlock) input_gradient_block<kBlock>(w, n_out, dy, dx, stride, i, b0);
    for (; i < end; ++i) input_gradient_block<1>(w, n_out, dy, dx, stride, i, b0);
  }
}

// Runs f(begin, end) over [0, count) in one part per thread once the work (multiply-adds) pays for
// waking them (about 2^19 a part, as the sparse sweeps); parts are whole blocks.
void split(uint32_t count, uint64_t work, const std::function<void(uint32_t, uint32_t)>& f) {
  const uint32_t blocks = (count + kBlock - 1) / kBlock;
  const unsigned parts =
      unsigned(std::max<uint64_t>(1, std::min<uint64_t>({ThreadPool::shared().size(), work >> 19, blocks})));
  if (parts == 1) return f(0, count);
  ThreadPool::shared().run(parts, [&](unsigned p) {
    f(std::min(count, uint32_t(uint64_t(blocks) * p / parts) * kBlock),
      std::min(count, uint32_t(uint64_t(blocks) * (p + 1) / parts) * kBlock));
  });
}

}  // namespace

void dense_forward(const float* w, const float* bias, uint32_t n_in, uint32_t n_out, const float* x, float* y,
                   uint32_t stride) {
  split(n_out, uint64_t(n_in) * n_out * stride,
        [&](uint32_t begin, uint32_t end) { forward_outputs(w, bias, n_in, n_out, x, y, stride, begin, end); });
}

void dense_backward(const float* w, uint32_t n_in, uint32_t n_out, const float* x, const float* dy, float* dx,
                    uint32_t stride, float* dw) {
  split(n_in, uint64_t(n_in) * n_out * stride * (dx ? 2 : 1),
        [&](uint32_t begin, uint32_t end) { backward_inputs(w, n_out, x, dy, dx, stride, dw, begin, end); });
}

}  // namespace deepr
