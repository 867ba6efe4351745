#include "conv_kernels.hpp"

#include <algorithm>

#include "simd.hpp"
#include "sparse_store.hpp"
#include "thread_pool.hpp"

namespace deepr {

namespace {

// The connections of output channel oc are [begin(oc), end(oc)); connection k has the kernel entry
// entry(oc, k) and the weight weight(k), and turns the gradient of its weight into that of its
// parameter with gradient(k, dE/dw). One adapter per kind of store, so the loops exist once.
struct SparseConnections {
  const SparseView& w;
  uint32_t begin(uint32_t oc) const { return w.row_start[oc]; }
  uint32_t end(uint32_t oc) const { return w.row_start[oc + 1]; }
  uint32_t entry(uint32_t, uint32_t k) const { return w.source[k] & kIndexMask; }
  float weight(uint32_t k) const { return (w.source[k] & kSignBit) ? -w.theta[k] : w.theta[k]; }
  float gradient(uint32_t k, float dw) const { return (w.source[k] & kSignBit) ? -dw : dw; }  // dE/dtheta
  uint64_t count() const { return w.slots; }
};

struct DenseConnections {
  const DenseView& w;
  uint32_t entries;  // per output channel
  uint32_t begin(uint32_t oc) const { return oc * entries; }
  uint32_t end(uint32_t oc) const { return (oc + 1) * entries; }
  uint32_t entry(uint32_t oc, uint32_t k) const { return k - oc * entries; }
  float weight(uint32_t k) const { return w.value[k]; }
  float gradient(uint32_t, float dw) const { return dw; }
  uint64_t count() const { return w.size; }
};

// A kernel entry as (in channel, ky, kx).
struct Entry {
  uint32_t channel, ky, kx;
};

inline Entry decode(const ConvGeometry& g, uint32_t entry) {
  const uint32_t area = g.kernel_height * g.kernel_width;
  return {entry / area, entry % area / g.kernel_width, entry % g.kernel_width};
}

// Input row iy of channel c and output row oy of channel oc, each `width` features of `stride` samples.
inline size_t input_row_offset(const ConvGeometry& g, uint32_t c, int64_t iy, uint32_t stride) {
  return (size_t(c) * g.height + size_t(iy)) * g.width * stride;
}
inline size_t output_row_offset(const ConvGeometry& g, uint32_t oc, uint32_t oy, uint32_t stride) {
  return (size_t(oc) * g.out_height() + oy) * g.out_width() * stride;
}
// Where output column ox reads its input through kernel column kx (ox within columns(kx)).
inline size_t input_column(const ConvGeometry& g, uint32_t ox, uint32_t kx) {
  return size_t(ox) * g.stride + kx - g.padding;
}

// Output channels [oc_begin, oc_end): each output row starts at its bias, then every connection of
// its channel adds w * x over the columns it reaches (an AXPY over the samples per column).
template <class Connections>
__attribute__((always_inline)) inline void forward_channels(const ConvGeometry& g, const Connections& w, const DenseView& bias,
                                                            const float* __restrict x, float* __restrict y,
                                                            uint32_t stride, uint32_t oc_begin, uint32_t oc_end) {
  const size_t row = size_t(g.out_width()) * stride;
  for (uint32_t oc = oc_begin; oc < oc_end; ++oc) {
    const Lanes b = Lanes{} + (bias.size == 0 ? 0.0f : bias.value[oc]);
    for (uint32_t oy = 0; oy < g.out_height(); ++oy) {
      float* yrow = y + output_row_offset(g, oc, oy, stride);
      for (size_t n = 0; n < row; n += kLanes) store_lanes(yrow + n, b);
      for (uint32_t k = w.begin(oc); k < w.end(oc); ++k) {
        const Entry e = decode(g, w.entry(oc, k));
        const int64_t iy = g.input_row(oy, e.ky);
        if (iy < 0) continue;
        uint32_t first, end;
        g.columns(e.kx, first, end);
        const float wk = w.weight(k);
        const float* xrow = x + input_row_offset(g, e.channel, iy, stride);
        for (uint32_t ox = first; ox < end; ++ox) {
          const float* xi = xrow + input_column(g, ox, e.kx) * stride;
          float* yo = yrow + size_t(ox) * stride;
          for (uint32_t n = 0; n < stride; n += kLanes) store_lanes(yo + n, load_lanes(yo + n) + wk * load_lanes(xi + n));
        }
      }
    }
  }
}

// The connections of output channels [oc_begin, oc_end): each one's gradient, the dot product of
// dy and x over its output positions and samples (lane sums, then sum_lanes), and with
// kInputGradient dx += w * dy at the inputs it reads.
template <bool kInputGradient, class Connections>
__attribute__((always_inline)) inline void backward_channels(const ConvGeometry& g, const Connections& w,
                                                             const float* __restrict x, const float* __restrict dy,
                                                             float* __restrict dx, uint32_t stride, float* gradient,
                                                             uint32_t oc_begin, uint32_t oc_end) {
  for (uint32_t oc = oc_begin; oc < oc_end; ++oc)
    for (uint32_t k = w.begin(oc); k < w.end(oc); ++k) {
      const Entry e = decode(g, w.entry(oc, k));
      uint32_t first, end;
      g.columns(e.kx, first, end);
      const float wk = w.weight(k);
      Lanes sum = {};
      for (uint32_t oy = 0; oy < g.out_height(); ++oy) {
        const int64_t iy = g.input_row(oy, e.ky);
        if (iy < 0) continue;
        const size_t in_row = input_row_offset(g, e.channel, iy, stride);
        const float* dyrow = dy + output_row_offset(g, oc, oy, stride);
        for (uint32_t ox = first; ox < end; ++ox) {
          const size_t in = in_row + input_column(g, ox, e.kx) * stride;
          const float* dyo = dyrow + size_t(ox) * stride;
          for (uint32_t n = 0; n < stride; n += kLanes) {
            const Lanes d = load_lanes(dyo + n);
            sum += d * load_lanes(x + in + n);
            if (kInputGradient) store_lanes(dx + in + n, load_lanes(dx + in + n) + wk * d);
          }
        }
      }
      gradient[k] = w.gradient(k, sum_lanes(sum));
    }
}

DEEPR_DISPATCH
void forward_sparse(const ConvGeometry& g, const SparseView& w, const DenseView& bias, const float* x, float* y,
                    uint32_t stride, uint32_t oc_begin, uint32_t oc_end) {
  forward_channels(g, SparseConnections{w}, bias, x, y, stride, oc_begin, oc_end);
}

DEEPR_DISPATCH
void forward_dense(const ConvGeometry& g, const DenseView& w, const DenseView& bias, const float* x, float* y,
                   uint32_t stride, uint32_t oc_begin, uint32_t oc_end) {
  forward_channels(g, DenseConnections{w, g.kernel_entries()}, bias, x, y, stride, oc_begin, oc_end);
}

DEEPR_DISPATCH
void backward_sparse(const ConvGeometry& g, const SparseView& w, const float* x, const float* dy, float* dx,
                     uint32_t stride, float* gradient, uint32_t oc_begin, uint32_t oc_end) {
  if (dx) backward_channels<true>(g, SparseConnections{w}, x, dy, dx, stride, gradient, oc_begin, oc_end);
  else backward_channels<false>(g, SparseConnections{w}, x, dy, nullptr, stride, gradient, oc_begin, oc_end);
}

DEEPR_DISPATCH
void backward_dense(const ConvGeometry& g, const DenseView& w, const float* x, const float* dy, float* dx,
                    uint32_t stride, float* gradient, uint32_t oc_begin, uint32_t oc_end) {
  const DenseConnections c{w, g.kernel_entries()};
  if (dx) backward_channels<true>(g, c, x, dy, dx, stride, gradient, oc_begin, oc_end);
  else backward_channels<false>(g, c, x, dy, nullptr, stride, gradient, oc_begin, oc_end);
}

// dE/dbias of each output channel: its dy summed over positions in lanes, then sum_lanes.
DEEPR_DISPATCH
void bias_rows(const ConvGeometry& g, const float* dy, uint32_t stride, float* bias_gradient) {
  const size_t channel = size_t(g.out_height()) * g.out_width() * stride;
  for (uint32_t oc = 0; oc < g.out_channels; ++oc) {
    Lanes sum = {};
    for (size_t n = 0; n < channel; n += kLanes) sum += load_lanes(dy + oc * channel + n);
    bias_gradient[oc] = sum_lanes(sum);
  }
}

// Runs part(oc_begin, oc_end) over the output channels: in one part for small layers, else one
// part per thread once there is enough work to pay for waking them (about 2^19 multiply-adds, as
// the sparse sweep). Parts hold disjoint output channels.
template <class Part>
void over_channels(const ConvGeometry& g, uint64_t connections, uint32_t stride, Part part) {
  const uint64_t work = connections * g.out_height() * g.out_width() * stride;
  const unsigned parts = unsigned(std::min<uint64_t>({ThreadPool::shared().size(), g.out_channels, work >> 19}));
  if (parts <= 1) return part(0, g.out_channels);
  ThreadPool::shared().run(parts, [&](unsigned p) {
    part(uint32_t(uint64_t(g.out_channels) * p / parts), uint32_t(uint64_t(g.out_channels) * (p + 1) / parts));
  });
}

}  // namespace

void conv_forward(const ConvGeometry& g, const SparseView& w, const DenseView& bias, const float* x, float* y,
                  uint32_t stride) {
  over_channels(g, w.slots, stride, [&](uint32_t b, uint32_t e) { forward_sparse(g, w, bias, x, y, stride, b, e); });
}

void conv_forward(const ConvGeometry& g, const DenseView& w, const DenseView& bias, const float* x, float* y,
                  uint32_t stride) {
  over_channels(g, w.size, stride, [&](uint32_t b, uint32_t e) { forward_dense(g, w, bias, x, y, stride, b, e); });
}

// With an input gradient, channels would race on dx: one part, in channel order.
void conv_backward(const ConvGeometry& g, const SparseView& w, const float* x, const float* dy, float* dx,
                   uint32_t stride, float* gradient) {
  if (dx) {
    std::fill(dx, dx + g.inputs() * stride, 0.0f);
    return backward_sparse(g, w, x, dy, dx, stride, gradient, 0, g.out_channels);
  }
  over_channels(g, w.slots, stride,
                [&](uint32_t b, uint32_t e) { backward_sparse(g, w, x, dy, nullptr, stride, gradient, b, e); });
}

void conv_backward(const ConvGeometry& g, const DenseView& w, const float* x, const float* dy, float* dx,
                   uint32_t stride, float* gradient) {
  if (dx) {
    std::fill(dx, dx + g.inputs() * stride, 0.0f);
    return backward_dense(g, w, x, dy, dx, stride, gradient, 0, g.out_channels);
  }
  over_channels(g, w.size, stride,
                [&](uint32_t b, uint32_t e) { backward_dense(g, w, x, dy, nullptr, stride, gradient, b, e); });
}

void conv_bias_backward(const ConvGeometry& g, const float* dy, uint32_t stride, float* bias_gradient) {
  bias_rows(g, dy, stride, bias_gradient);
}

}  // namespace deepr
