#include "sparse_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "random.hpp"

namespace deepr {

namespace {

inline float signed_weight(uint32_t source, float theta) { return (source & kSignBit) ? -theta : theta; }

// Noise is drawn in blocks so the normal generator runs as its own tight loop.
constexpr uint32_t kNoiseBlock = 256;

}  // namespace

void sparse_forward(const SparseLayer& layer, const float* __restrict x, float* __restrict y, uint32_t batch) {
  const uint32_t* src = layer.source.data();
  const float* theta = layer.theta.data();
  for (uint32_t out = 0; out < layer.n_out; ++out) {
    float* __restrict yj = y + size_t(out) * batch;
    const float b0 = layer.bias.empty() ? 0.0f : layer.bias[out];
    for (uint32_t b = 0; b < batch; ++b) yj[b] = b0;
    for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k) {
      const float w = signed_weight(src[k], theta[k]);
      const float* __restrict xi = x + size_t(src[k] & kIndexMask) * batch;
      for (uint32_t b = 0; b < batch; ++b) yj[b] += w * xi[b];
    }
  }
}

uint64_t sparse_backward_update(SparseLayer& layer, const float* __restrict x, const float* __restrict dz,
                                float* __restrict dx, uint32_t batch, const DeepRUpdate& u) {
  if (dx) std::fill(dx, dx + size_t(layer.n_in) * batch, 0.0f);
  const uint32_t* src = layer.source.data();
  float* theta = layer.theta.data();
  float* velocity = layer.has_momentum() ? layer.velocity.data() : nullptr;
  const float pull = u.lr * u.alpha;
  float noise[kNoiseBlock];
  uint64_t died = 0;
  bool finite = true;

  // Slot k gets normal number k of the layer's noise stream, so the noise does not depend on how
  // the sweep is split; the normals are made a block at a time in their own tight loop.
  const uint32_t slots = uint32_t(layer.theta.size());
  uint32_t out = 0;
  for (uint32_t first = 0; first < slots; first += kNoiseBlock) {
    const uint32_t last = std::min(slots, first + kNoiseBlock);
    fill_normals(u.noise, first, last - first, noise);
    for (uint32_t k = first; k < last; ++k) {
      while (k >= layer.row_start[out + 1]) ++out;
      const float* __restrict dzj = dz + size_t(out) * batch;
      const uint32_t s = src[k];
      const float* __restrict xi = x + size_t(s & kIndexMask) * batch;
      float grad_w = 0.0f;
      if (dx) {
        const float w = signed_weight(s, theta[k]);
        float* __restrict dxi = dx + size_t(s & kIndexMask) * batch;
        for (uint32_t b = 0; b < batch; ++b) {
          grad_w += dzj[b] * xi[b];
          dxi[b] += w * dzj[b];
        }
      } else {
        for (uint32_t b = 0; b < batch; ++b) grad_w += dzj[b] * xi[b];
      }
      const float grad_theta = (s & kSignBit) ? -grad_w : grad_w;
      float step = grad_theta;
      if (velocity) step = velocity[k] = u.momentum * velocity[k] + grad_theta;
      const float t = theta[k] - u.lr * step - pull + u.noise_std * noise[k - first];
      theta[k] = t;
      finite &= std::isfinite(t);
      died += t < 0.0f;
    }
  }

  if (!layer.bias.empty()) {
    const bool momentum = !layer.bias_velocity.empty();
    for (uint32_t out = 0; out < layer.n_out; ++out) {
      float g = 0.0f;
      for (uint32_t b = 0; b < batch; ++b) g += dz[size_t(out) * batch + b];
      if (momentum) g = layer.bias_velocity[out] = u.momentum * layer.bias_velocity[out] + g;
      layer.bias[out] -= u.lr * g;
      finite &= std::isfinite(layer.bias[out]);
    }
  }
  if (!finite)
    throw std::runtime_error("training diverged (lower the learning rate): a parameter of layer " +
                             std::to_string(layer.index) + " is no longer finite");
  return died;
}

}  // namespace deepr
