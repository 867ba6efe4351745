#include "sparse_kernels.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "random.hpp"
#include "simd.hpp"
#include "thread_pool.hpp"

namespace deepr {

namespace {

inline float signed_weight(uint32_t source, float theta) { return (source & kSignBit) ? -theta : theta; }

// The sweep updates slots in blocks of kBlock (their gradients wait in a 16 KB buffer), and draws
// their noise kNoiseChunk normals at a time: few, long calls to the generator, each timed.
constexpr uint32_t kBlock = 256, kNoiseChunk = 4096;

// Samples [b0, b0 + 16 * C) of outputs [out_begin, out_end) of the forward pass: C independent
// accumulators, so C loads and multiply-adds are in flight per connection.
template <uint32_t C>
__attribute__((always_inline)) inline void forward_chunks(const SparseView& w, const DenseView& b, const float* __restrict x,
                                                          float* __restrict y, uint32_t stride, bool relu,
                                                          uint32_t out_begin, uint32_t out_end, uint32_t b0) {
  const uint32_t* src = w.source;
  const float* theta = w.theta;
  const uint32_t* row_start = w.row_start;
  for (uint32_t out = out_begin; out < out_end; ++out) {
    Lanes acc[C] = {};
    for (uint32_t k = row_start[out]; k < row_start[out + 1]; ++k) {
      const float w = signed_weight(src[k], theta[k]);
      const float* xi = x + size_t(src[k] & kIndexMask) * stride + b0;
      for (uint32_t c = 0; c < C; ++c) acc[c] += w * load_lanes(xi + c * kLanes);
    }
    const float bias = b.size == 0 ? 0.0f : b.value[out];
    for (uint32_t c = 0; c < C; ++c) {
      const Lanes z = acc[c] + bias;
      store_lanes(y + size_t(out) * stride + b0 + c * kLanes, relu ? (z < 0.0f ? 0.0f : z) : z);  // NaN stays NaN
    }
  }
}

// Outputs [out_begin, out_end) of the forward pass, 64 samples at a time, then the rest.
DEEPR_DISPATCH
void forward_rows(const SparseView& w, const DenseView& bias, const float* x, float* y, uint32_t stride, bool relu,
                  uint32_t out_begin, uint32_t out_end) {
  uint32_t b = 0;
  for (; b + 4 * kLanes <= stride; b += 4 * kLanes) forward_chunks<4>(w, bias, x, y, stride, relu, out_begin, out_end, b);
  switch ((stride - b) / kLanes) {
    case 3: return forward_chunks<3>(w, bias, x, y, stride, relu, out_begin, out_end, b);
    case 2: return forward_chunks<2>(w, bias, x, y, stride, relu, out_begin, out_end, b);
    case 1: return forward_chunks<1>(w, bias, x, y, stride, relu, out_begin, out_end, b);
  }
}

// What one part of the sweep found: the slots whose theta went below zero, ascending, whether
// every updated parameter is still finite, and the time it spent drawing noise.
struct SweepPart {
  std::vector<uint32_t> dormant;
  bool finite = true;
  double noise_seconds = 0;
};

// Adds the two halves of each of a and b (halves of h lanes, h = 8, 4, 2, 1): the result holds
// a's sums in its first half and b's in its second, each in lane order.
template <int h>
inline Lanes fold_pair(Lanes a, Lanes b);

#define DEEPR_FOLD_PAIR(h, LOW, HIGH)                                               \
  template <>                                                                       \
  __attribute__((always_inline)) inline Lanes fold_pair<h>(Lanes a, Lanes b) {      \
    return __builtin_shufflevector(a, b, LOW) + __builtin_shufflevector(a, b, HIGH); \
  }
#define DEEPR_LANES(...) __VA_ARGS__
DEEPR_FOLD_PAIR(8, DEEPR_LANES(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23),
                DEEPR_LANES(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31))
DEEPR_FOLD_PAIR(4, DEEPR_LANES(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27),
                DEEPR_LANES(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31))
DEEPR_FOLD_PAIR(2, DEEPR_LANES(0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29),
                DEEPR_LANES(2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31))
DEEPR_FOLD_PAIR(1, DEEPR_LANES(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30),
                DEEPR_LANES(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31))
#undef DEEPR_FOLD_PAIR
#undef DEEPR_LANES

// sum_lanes of 16 vectors at once: lane k of the result is sum_lanes(v[k]), bit for bit (the
// same pairwise tree: lanes l + l + 8, then + 4, + 2, + 1), in 15 folds instead of 16 x 4.
__attribute__((always_inline)) inline Lanes sum_lanes_16(const Lanes* v) {
  Lanes s8[8], s4[4], s2[2];
  for (int m = 0; m < 8; ++m) s8[m] = fold_pair<8>(v[2 * m], v[2 * m + 1]);
  for (int m = 0; m < 4; ++m) s4[m] = fold_pair<4>(s8[2 * m], s8[2 * m + 1]);
  for (int m = 0; m < 2; ++m) s2[m] = fold_pair<2>(s4[2 * m], s4[2 * m + 1]);
  return fold_pair<1>(s2[0], s2[1]);
}

// dE/dtheta of 16 slots from their dE/dw: the weight's sign applied to the gradient.
__attribute__((always_inline)) inline Lanes theta_gradient(Lanes g, Ints s) {
  return (Lanes)((Ints)g ^ (s & int32_t(kSignBit)));
}

// The update of 16 slots from their gradients dE/dtheta: the optimiser's step (with its state
// `state`), then the prior with the noise nu. The same arithmetic in the same order as one value
// at a time, on every CPU.
template <class Optimiser, class Prior>
__attribute__((always_inline)) inline Lanes update_lanes(Lanes t, Lanes g, Lanes nu, Lanes* state, const StepHyper& h) {
  return Prior::apply(Optimiser::step(t, g, state, h), nu, h);
}

// Updates slots [first, first + count); gradient(i, s) gives dE/dtheta of slots first + i ..
// first + i + 15 (lanes past count are ignored) from their sources s. Dormant slots go into
// part.dormant, ascending (none when the prior trains signed weights).
template <class Optimiser, class Prior, class Gradient>
__attribute__((always_inline)) inline void update_slots(const SparseView& w, uint32_t first, uint32_t count,
                                                        Gradient gradient, const float* noise, const StepHyper& h,
                                                        SweepPart& part) {
  constexpr uint32_t kStates = Optimiser::kStates;
  const uint32_t* src = w.source + first;
  float* theta = w.theta + first;
  float* state[kStates + 1];
  for (uint32_t a = 0; a < kStates; ++a) state[a] = w.state[a] + first;
  Lanes nonfinite = {};  // stays 0 unless some theta is infinite or NaN (then t * 0 is NaN)
  for (uint32_t i = 0; i < count; i += kLanes) {
    Lanes t, st[kStates + 1];
    if (i + kLanes <= count) {
      for (uint32_t a = 0; a < kStates; ++a) st[a] = load_lanes(state[a] + i);
      Ints s;
      std::memcpy(&s, src + i, sizeof s);
      t = update_lanes<Optimiser, Prior>(load_lanes(theta + i), gradient(i, s), load_lanes(noise + i), st, h);
      store_lanes(theta + i, t);
      for (uint32_t a = 0; a < kStates; ++a) store_lanes(state[a] + i, st[a]);
    } else {  // the last, partial vector: through zero-padded copies
      const uint32_t bytes = (count - i) * 4;
      Lanes t0 = {}, nu = {};
      Ints s = {};
      std::memcpy(&t0, theta + i, bytes);
      std::memcpy(&nu, noise + i, bytes);
      std::memcpy(&s, src + i, bytes);
      for (uint32_t a = 0; a < kStates; ++a) {
        st[a] = Lanes{};
        std::memcpy(&st[a], state[a] + i, bytes);
      }
      t = update_lanes<Optimiser, Prior>(t0, gradient(i, s), nu, st, h);
      for (uint32_t l = count - i; l < kLanes; ++l) t[l] = 0.0f;
      std::memcpy(theta + i, &t, bytes);
      for (uint32_t a = 0; a < kStates; ++a) std::memcpy(state[a] + i, &st[a], bytes);
    }
    nonfinite += t * 0.0f;
    if constexpr (!Prior::kSignedTheta) {  // theta < 0: the connection is now dormant
      uint32_t died = 0;
      for (uint32_t l = 0; l < kLanes; ++l) died |= uint32_t(t[l] < 0.0f) << l;
      for (; died; died &= died - 1) part.dormant.push_back(first + i + uint32_t(__builtin_ctz(died)));
    }
  }
  part.finite &= sum_lanes(nonfinite) == 0.0f;
}

// Updates the block of slots [first, first + count) (count <= kBlock) of the fused sweep, whose
// per-sample-lane gradient partial sums are grad[0 .. count): summed 16 slots per vector.
template <class Optimiser, class Prior>
__attribute__((always_inline)) inline void update_block(const SparseView& w, uint32_t first, uint32_t count, Lanes* grad,
                                                        const float* noise, const StepHyper& h, SweepPart& part) {
  std::fill(grad + count, grad + (count + kLanes - 1) / kLanes * kLanes, Lanes{});  // pad the last 16
  update_slots<Optimiser, Prior>(
      w, first, count,
      [grad](uint32_t i, Ints s) __attribute__((always_inline)) { return theta_gradient(sum_lanes_16(grad + i), s); }, noise, h,
      part);
}

// Normals [first, first + count) of the store's noise stream into noise (zeros when T = 0), timed.
inline void draw_noise(const SlotUpdate& u, uint32_t first, uint32_t count, float* noise, SweepPart& part) {
  const auto started = std::chrono::steady_clock::now();
  if (u.hyper.noise_std != 0.0f) fill_normals(u.noise, first, count, noise);
  else std::fill(noise, noise + count, 0.0f);  // T = 0: no noise to draw
  part.noise_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

// One connection's gradient over the samples, not yet summed over lanes: sum_b dz[j][b] x[i][b]
// per lane; with kInputGradient also dx[i] += w * dz[j]. C > 0 fixes stride = 16 * C.
template <bool kInputGradient, uint32_t C>
__attribute__((always_inline)) inline Lanes connection_gradient(const float* __restrict xi, const float* __restrict dzj,
                                                                float* __restrict dxi, float w, uint32_t stride) {
  Lanes g = {};
  for (uint32_t b = 0; b < (C ? C * kLanes : stride); b += kLanes) {
    const Lanes d = load_lanes(dzj + b);
    g += d * load_lanes(xi + b);
    if (kInputGradient) store_lanes(dxi + b, load_lanes(dxi + b) + w * d);
  }
  return g;
}

// The fused backward and update of the connections of outputs [out_begin, out_end); kInputGradient
// says whether dx is computed (every layer but the first); C > 0 fixes stride = 16 * C so the
// sample loop unrolls (C = 0: any stride). Slots go in blocks of kBlock: the block's weight
// gradients (and dx) are computed, then its thetas updated with the noise drawn for its chunk.
template <bool kInputGradient, uint32_t C, class Optimiser, class Prior>
__attribute__((always_inline)) inline void update_rows(const SparseView& w, const float* __restrict x,
                                                       const float* __restrict dz, float* __restrict dx, uint32_t stride,
                                                       const SlotUpdate& u, uint32_t out_begin, uint32_t out_end,
                                                       SweepPart& part) {
  const uint32_t* src = w.source;
  const float* theta = w.theta;
  const uint32_t* row_start = w.row_start;
  alignas(64) float noise[kNoiseChunk];  // whole cache lines: the generator stores 16 floats at a time
  Lanes grad[kBlock];  // per slot of the block: its gradient, not yet summed over lanes

  // Slot k gets normal number k of the store's noise stream, so the noise does not depend on how
  // the sweep is split. Blocks and chunks are aligned to multiples of their sizes (a part may start
  // within one), so a block never straddles two chunks.
  const uint32_t slots = row_start[out_end];
  uint32_t block = row_start[out_begin], block_end = block;  // the block [block, block_end)
  uint32_t chunk = block, chunk_end = block;                       // its noise, for [chunk, chunk_end)
  for (uint32_t out = out_begin; out < out_end; ++out) {
    const float* __restrict dzj = dz + size_t(out) * stride;
    for (uint32_t k = row_start[out]; k < row_start[out + 1]; ++k) {
      if (k == block_end) {
        if (k > block) update_block<Optimiser, Prior>(w, block, k - block, grad, noise + (block - chunk), u.hyper, part);
        block = k;
        block_end = std::min(slots, (k / kBlock + 1) * kBlock);
        if (k == chunk_end) {
          chunk = k;
          chunk_end = std::min(slots, (k / kNoiseChunk + 1) * kNoiseChunk);
          draw_noise(u, chunk, chunk_end - chunk, noise, part);
        }
      }
      const uint32_t s = src[k];
      const size_t in = size_t(s & kIndexMask) * stride;
      const float w = signed_weight(s, theta[k]);  // the weight before this step's update
      grad[k - block] = connection_gradient<kInputGradient, C>(x + in, dzj, kInputGradient ? dx + in : nullptr, w, stride);
    }
  }
  if (block_end > block) update_block<Optimiser, Prior>(w, block, block_end - block, grad, noise + (block - chunk), u.hyper, part);
}

// The sweep for the stride and the rule at hand: unrolled for up to 64 samples, a loop beyond. Only
// DEEP R's prior gets the unrolled sweeps: the baselines' priors take the loop (the same operations
// in the same order, so the same bits), which keeps the number of instantiations, and the build
// time, from growing with every rule.
template <bool kInputGradient>
__attribute__((always_inline)) inline void update_rows_for_stride(const SparseView& w, const float* x, const float* dz,
                                                                  float* dx, uint32_t stride, const SlotUpdate& u,
                                                                  uint32_t out_begin, uint32_t out_end, SweepPart& part) {
  with_update_rule(u.rule, [&](auto optimiser, auto prior) __attribute__((always_inline)) {
    using O = decltype(optimiser);
    using P = decltype(prior);
    if constexpr (!std::is_same_v<P, DeepRPrior>) {
      return update_rows<kInputGradient, 0, O, P>(w, x, dz, dx, stride, u, out_begin, out_end, part);
    } else {
      switch (stride / kLanes) {
        case 1: return update_rows<kInputGradient, 1, O, P>(w, x, dz, dx, stride, u, out_begin, out_end, part);
        case 2: return update_rows<kInputGradient, 2, O, P>(w, x, dz, dx, stride, u, out_begin, out_end, part);
        case 3: return update_rows<kInputGradient, 3, O, P>(w, x, dz, dx, stride, u, out_begin, out_end, part);
        case 4: return update_rows<kInputGradient, 4, O, P>(w, x, dz, dx, stride, u, out_begin, out_end, part);
        default: return update_rows<kInputGradient, 0, O, P>(w, x, dz, dx, stride, u, out_begin, out_end, part);
      }
    }
  });
}

DEEPR_DISPATCH
void update_rows_with_dx(const SparseView& w, const float* x, const float* dz, float* dx, uint32_t stride,
                         const SlotUpdate& u, uint32_t out_begin, uint32_t out_end, SweepPart& part) {
  update_rows_for_stride<true>(w, x, dz, dx, stride, u, out_begin, out_end, part);
}

DEEPR_DISPATCH
void update_rows_first_layer(const SparseView& w, const float* x, const float* dz, uint32_t stride,
                             const SlotUpdate& u, uint32_t out_begin, uint32_t out_end, SweepPart& part) {
  update_rows_for_stride<false>(w, x, dz, nullptr, stride, u, out_begin, out_end, part);
}

// The split path's backward pass over outputs [out_begin, out_end): each slot's dE/dtheta into g
// (the lane sum of sum_lanes, the same tree as sum_lanes_16 in the fused sweep, so the same bits),
// and dx.
template <bool kInputGradient>
__attribute__((always_inline)) inline void gradient_rows(const SparseView& w, const float* x, const float* dz,
                                                         float* dx, uint32_t stride, float* g, uint32_t out_begin,
                                                         uint32_t out_end) {
  const uint32_t* src = w.source;
  const float* theta = w.theta;
  for (uint32_t out = out_begin; out < out_end; ++out) {
    const float* dzj = dz + size_t(out) * stride;
    for (uint32_t k = w.row_start[out]; k < w.row_start[out + 1]; ++k) {
      const uint32_t s = src[k];
      const size_t in = size_t(s & kIndexMask) * stride;
      const float w = signed_weight(s, theta[k]);
      const Lanes lanes = connection_gradient<kInputGradient, 0>(x + in, dzj, kInputGradient ? dx + in : nullptr, w, stride);
      g[k] = signed_weight(s, sum_lanes(lanes));  // dE/dtheta = sign * dE/dw
    }
  }
}

DEEPR_DISPATCH
void gradient_rows_with_dx(const SparseView& w, const float* x, const float* dz, float* dx, uint32_t stride, float* g) {
  gradient_rows<true>(w, x, dz, dx, stride, g, 0, w.n_out);
}

DEEPR_DISPATCH
void gradient_rows_first_layer(const SparseView& w, const float* x, const float* dz, uint32_t stride, float* g,
                               uint32_t out_begin, uint32_t out_end) {
  gradient_rows<false>(w, x, dz, nullptr, stride, g, out_begin, out_end);
}

// The split path's update of slots [begin, end) from their dE/dtheta g, kNoiseChunk slots at a
// time.
DEEPR_DISPATCH
void update_from_gradients(const SparseView& w, const float* g, const SlotUpdate& u, uint32_t begin, uint32_t end,
                           SweepPart& part) {
  with_update_rule(u.rule, [&](auto optimiser, auto prior) __attribute__((always_inline)) {
    alignas(64) float noise[kNoiseChunk];  // whole cache lines: the generator stores 16 floats at a time
    for (uint32_t chunk = begin; chunk < end; chunk += kNoiseChunk) {
      const uint32_t count = std::min(kNoiseChunk, end - chunk);
      draw_noise(u, chunk, count, noise, part);
      const float* gc = g + chunk;
      update_slots<decltype(optimiser), decltype(prior)>(
          w, chunk, count,
          [gc, count](uint32_t i, Ints) __attribute__((always_inline)) {
            Lanes v = {};
            std::memcpy(&v, gc + i, std::min(kLanes, count - i) * sizeof(float));
            return v;
          },
          noise, u.hyper, part);
    }
  });
}

// dE/db of output `out`: the sum of its dz over the samples.
inline float bias_gradient(const float* dz, uint32_t out, uint32_t stride) {
  Lanes sum = {};
  for (uint32_t b = 0; b < stride; b += kLanes) sum += load_lanes(dz + size_t(out) * stride + b);
  return sum_lanes(sum);
}

// The optimiser's step of dense value n from its gradient g; false when it is no longer finite.
template <class Optimiser>
inline bool update_value(const DenseView& d, uint32_t n, float g, const StepHyper& h) {
  float st[Optimiser::kStates + 1];
  for (uint32_t a = 0; a < Optimiser::kStates; ++a) st[a] = d.state[a][n];
  d.value[n] = Optimiser::step(d.value[n], g, st, h);
  for (uint32_t a = 0; a < Optimiser::kStates; ++a) d.state[a][n] = st[a];
  return std::isfinite(d.value[n]);
}

// The optimiser's step of every value of a dense store, 16 at a time (a dense weight store is big)
// and the rest one by one: the same operations, so the same bits as update_value for each value.
DEEPR_DISPATCH
bool dense_update_values(const DenseView& d, const float* gradient, const SlotUpdate& u) {
  bool finite = true;
  with_update_rule(u.rule, [&](auto optimiser, auto) __attribute__((always_inline)) {
    using Optimiser = decltype(optimiser);
    Lanes nonfinite = {};  // stays 0 unless some value is infinite or NaN (then v * 0 is NaN)
    uint32_t n = 0;
    for (; n + kLanes <= d.size; n += kLanes) {
      Lanes st[Optimiser::kStates + 1];
      for (uint32_t a = 0; a < Optimiser::kStates; ++a) st[a] = load_lanes(d.state[a] + n);
      const Lanes v = Optimiser::step(load_lanes(d.value + n), load_lanes(gradient + n), st, u.hyper);
      store_lanes(d.value + n, v);
      for (uint32_t a = 0; a < Optimiser::kStates; ++a) store_lanes(d.state[a] + n, st[a]);
      nonfinite += v * 0.0f;
    }
    finite = sum_lanes(nonfinite) == 0.0f;
    for (; n < d.size; ++n) finite &= update_value<Optimiser>(d, n, gradient[n], u.hyper);
  });
  return finite;
}

// Outputs split into `parts` ranges of about equal numbers of connections.
std::vector<uint32_t> split_rows(const SparseView& w, unsigned parts) {
  std::vector<uint32_t> bounds{0};
  for (unsigned p = 1; p < parts; ++p) {
    const uint64_t target = uint64_t(w.slots) * p / parts;
    bounds.push_back(uint32_t(std::lower_bound(w.row_start + bounds.back(), w.row_start + w.n_out, target) - w.row_start));
  }
  bounds.push_back(w.n_out);
  return bounds;
}

// How many parts a sweep is worth splitting into: one per thread, once there is enough work to
// pay for waking the threads (about 2^19 multiply-adds, some 100 us, a part).
unsigned parts_for(const SparseView& w, uint32_t stride) {
  const uint64_t work = uint64_t(w.slots) * stride;
  return unsigned(std::max<uint64_t>(1, std::min<uint64_t>(ThreadPool::shared().size(), work >> 19)));
}

// The same for the split path's update, whose work is about a nanosecond a slot (its normal and
// its optimiser step): 2^17 slots, some 100 us, a part. Parts are whole noise chunks.
unsigned update_parts_for(const SparseView& w) {
  return unsigned(std::max<uint64_t>(1, std::min<uint64_t>(ThreadPool::shared().size(), w.slots >> 17)));
}

// Appends the other parts' findings to the first's, in part order: the dying slots stay ascending.
void join_parts(SweepPart& first, const std::vector<SweepPart>& rest) {
  for (const SweepPart& part : rest) {
    first.dormant.insert(first.dormant.end(), part.dormant.begin(), part.dormant.end());
    first.finite &= part.finite;
    first.noise_seconds += part.noise_seconds;
  }
}

}  // namespace

void sparse_forward(const SparseView& w, const DenseView& bias, const float* x, float* y, uint32_t stride, bool relu) {
  const unsigned parts = parts_for(w, stride);
  if (parts == 1) return forward_rows(w, bias, x, y, stride, relu, 0, w.n_out);  // small stores: no hand-off
  const std::vector<uint32_t> rows = split_rows(w, parts);
  ThreadPool::shared().run(unsigned(rows.size() - 1),
                           [&](unsigned p) { forward_rows(w, bias, x, y, stride, relu, rows[p], rows[p + 1]); });
}

UpdateResult sparse_backward_update(const SparseView& w, const DenseView& bias, const float* x, const float* dz,
                                    float* dx, uint32_t stride, const SlotUpdate& u, std::vector<uint32_t>& went_dormant) {
  if (dx) std::fill(dx, dx + size_t(w.n_in) * stride, 0.0f);
  // Parts would race on the input gradient, so a store that has one runs as one part.
  const unsigned n_parts = dx ? 1 : parts_for(w, stride);
  SweepPart first;
  first.dormant.swap(went_dormant);  // reuses the caller's buffer
  first.dormant.clear();
  if (n_parts == 1) {  // small stores: no hand-off
    if (dx) update_rows_with_dx(w, x, dz, dx, stride, u, 0, w.n_out, first);
    else update_rows_first_layer(w, x, dz, stride, u, 0, w.n_out, first);
  } else {
    const std::vector<uint32_t> rows = split_rows(w, n_parts);
    std::vector<SweepPart> rest(n_parts - 1);
    ThreadPool::shared().run(n_parts, [&](unsigned p) {
      update_rows_first_layer(w, x, dz, stride, u, rows[p], rows[p + 1], p == 0 ? first : rest[p - 1]);
    });
    join_parts(first, rest);
  }
  went_dormant.swap(first.dormant);
  UpdateResult result{first.finite, first.noise_seconds};
  with_update_rule(u.rule, [&](auto optimiser, auto) {
    for (uint32_t out = 0; out < bias.size; ++out)
      result.finite &= update_value<decltype(optimiser)>(bias, out, bias_gradient(dz, out, stride), u.hyper);
  });
  return result;
}

void sparse_backward(const SparseView& w, const float* x, const float* dz, float* dx, uint32_t stride, float* theta_gradient) {
  if (dx) {
    std::fill(dx, dx + size_t(w.n_in) * stride, 0.0f);
    gradient_rows_with_dx(w, x, dz, dx, stride, theta_gradient);
    return;
  }
  // Without an input gradient the rows are independent: big stores split over the pool, as in
  // the fused sweep.
  const unsigned parts = parts_for(w, stride);
  if (parts == 1) return gradient_rows_first_layer(w, x, dz, stride, theta_gradient, 0, w.n_out);
  const std::vector<uint32_t> rows = split_rows(w, parts);
  ThreadPool::shared().run(parts, [&](unsigned p) {
    gradient_rows_first_layer(w, x, dz, stride, theta_gradient, rows[p], rows[p + 1]);
  });
}

void bias_backward(const float* dz, uint32_t outputs, uint32_t stride, float* bias_gradient_out) {
  for (uint32_t out = 0; out < outputs; ++out) bias_gradient_out[out] = bias_gradient(dz, out, stride);
}

UpdateResult sparse_update(const SparseView& w, const float* theta_gradient, const SlotUpdate& u,
                           std::vector<uint32_t>& went_dormant) {
  SweepPart first;
  first.dormant.swap(went_dormant);  // reuses the caller's buffer
  first.dormant.clear();
  const unsigned parts = update_parts_for(w);
  if (parts == 1) {
    update_from_gradients(w, theta_gradient, u, 0, w.slots, first);
  } else {
    // Slot k gets normal k of the stream whichever part holds it: any split gives the same bits.
    const auto bound = [&](unsigned p) { return uint32_t(uint64_t(w.slots) * p / parts / kNoiseChunk * kNoiseChunk); };
    std::vector<SweepPart> rest(parts - 1);
    ThreadPool::shared().run(parts, [&](unsigned p) {
      update_from_gradients(w, theta_gradient, u, bound(p), p + 1 == parts ? w.slots : bound(p + 1),
                            p == 0 ? first : rest[p - 1]);
    });
    join_parts(first, rest);
  }
  went_dormant.swap(first.dormant);
  return {first.finite, first.noise_seconds};
}

bool dense_update(const DenseView& d, const float* gradient, const SlotUpdate& u) { return dense_update_values(d, gradient, u); }

namespace {

// Transposes a 16 x 16 tile held as 16 vectors, in four stages that each swap the off-diagonal
// blocks of size h x h (h = 8, 4, 2, 1) between rows i and i + h.
template <int h>
inline void swap_blocks(Lanes* r);

#define DEEPR_SWAP_BLOCKS(h, ...)                                                  \
  template <>                                                                      \
  __attribute__((always_inline)) inline void swap_blocks<h>(Lanes * r) {          \
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
  //
  // The samples are random rows of a data set that is rarely in cache, so each tile waits on 16
  // cache misses. A prefetch of the tile kAhead tiles further on (into the next 16 samples near
  // the end of a row) keeps about ten times as many in flight: at batch 10 and 32 on MNIST it
  // gathers in about two thirds of the time.
  constexpr uint32_t kAhead = 10;
  const uint32_t whole = features / kLanes * kLanes;
  const auto sample_row = [&](uint32_t b) {
    return b < batch ? inputs + size_t(rows ? rows[b] : first + b) * features : nullptr;
  };
  for (uint32_t i0 = 0; i0 < kAhead * kLanes && i0 < whole; i0 += kLanes)
    for (uint32_t s = 0; s < kLanes; ++s)
      if (const float* row = sample_row(s)) __builtin_prefetch(row + i0);
  for (uint32_t b0 = 0; b0 < stride; b0 += kLanes) {
    const float* sample[kLanes];
    const float* next[kLanes];  // the next 16 samples', to prefetch the start of near the end
    for (uint32_t s = 0; s < kLanes; ++s) {
      sample[s] = sample_row(b0 + s);
      next[s] = sample_row(b0 + kLanes + s);
    }
    for (uint32_t i0 = 0; i0 < whole; i0 += kLanes) {
      const uint32_t ahead = i0 + kAhead * kLanes;
      const bool same_samples = ahead < whole;
      const uint32_t at = same_samples ? ahead : ahead - whole;
      if (at < whole)
        for (uint32_t s = 0; s < kLanes; ++s)
          if (const float* row = same_samples ? sample[s] : next[s]) __builtin_prefetch(row + at);
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
