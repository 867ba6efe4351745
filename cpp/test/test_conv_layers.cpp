// sparse_conv2d, dense_conv2d and max_pool2d against a plain float64 dense reimplementation written
// here: the forward pass, the input gradient, the gradient of every active connection (dE/dtheta,
// the sign applied) or dense weight, and the bias gradient, over shapes with stride 2 and 3,
// padding, 1 x 1 kernels, odd sizes, K = 1 and K = every kernel entry.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "conv_specs.hpp"
#include "layers/dense_conv2d.hpp"
#include "layers/max_pool2d.hpp"
#include "layers/sparse_conv2d.hpp"
#include "counter_uniform.hpp"
#include "network.hpp"
#include "refusal.hpp"
#include "simd.hpp"

using namespace deepr;
using deepr_test::refusal;
using deepr_test::uniform;

namespace {

// Feature-major values for `features` x `batch` samples padded to `stride`, zero in the padding
// samples (as the network's gather and loss leave them).
std::vector<float> activations(uint64_t features, uint32_t batch, uint32_t stride, uint64_t salt) {
  std::vector<float> v(features * stride, 0.0f);
  for (uint64_t i = 0; i < features; ++i)
    for (uint32_t b = 0; b < batch; ++b) v[i * stride + b] = uniform(salt + i * 1000 + b);
  return v;
}

// A value and the sum of the magnitudes of the terms it adds up: the float32 result may differ by a
// few ulps of that sum, never more.
struct Sum {
  double value = 0, magnitude = 0;
  void add(double term) {
    value += term;
    magnitude += std::abs(term);
  }
};

bool close(double got, const Sum& expected) {
  return std::abs(got - expected.value) <= 1e-6 + 1e-5 * expected.magnitude;
}

// A convolution in float64 from a dense kernel W[oc][entry] (conv_kernels.hpp's layout).
struct Reference {
  std::vector<Sum> y, dx, dw, db;  // y, dx: [feature][sample]; dw: [oc][entry]; db: [oc]
};

Reference reference_conv(const ConvGeometry& g, const std::vector<double>& w, const std::vector<double>& bias,
                         const std::vector<float>& x, const std::vector<float>& dy, uint32_t batch, uint32_t stride) {
  const uint32_t oh = g.out_height(), ow = g.out_width(), entries = g.kernel_entries();
  Reference r{std::vector<Sum>(g.outputs() * batch), std::vector<Sum>(g.inputs() * batch),
              std::vector<Sum>(size_t(g.out_channels) * entries), std::vector<Sum>(g.out_channels)};
  for (uint32_t oc = 0; oc < g.out_channels; ++oc)
    for (uint32_t oy = 0; oy < oh; ++oy)
      for (uint32_t ox = 0; ox < ow; ++ox)
        for (uint32_t b = 0; b < batch; ++b) {
          const size_t out = (size_t(oc) * oh + oy) * ow + ox;
          const double d = dy[out * stride + b];
          Sum& y = r.y[out * batch + b];
          if (!bias.empty()) {
            y.add(bias[oc]);
            r.db[oc].add(d);
          }
          for (uint32_t ic = 0; ic < g.in_channels; ++ic)
            for (uint32_t ky = 0; ky < g.kernel_height; ++ky)
              for (uint32_t kx = 0; kx < g.kernel_width; ++kx) {
                const int64_t iy = int64_t(oy) * g.stride + ky - g.padding, ix = int64_t(ox) * g.stride + kx - g.padding;
                if (iy < 0 || iy >= g.height || ix < 0 || ix >= g.width) continue;  // zero padding
                const size_t in = (size_t(ic) * g.height + size_t(iy)) * g.width + size_t(ix);
                const size_t e = (size_t(ic) * g.kernel_height + ky) * g.kernel_width + kx;
                const double wk = w[size_t(oc) * entries + e], xi = x[in * stride + b];
                y.add(wk * xi);
                r.dx[in * batch + b].add(wk * d);
                r.dw[size_t(oc) * entries + e].add(d * xi);
              }
        }
  return r;
}

struct Shape {
  ConvGeometry g;
  uint64_t budget;  // 0: every kernel entry
  uint32_t batch;
};

std::string describe(const Shape& s) {
  const ConvGeometry& g = s.g;
  return std::to_string(g.in_channels) + "x" + std::to_string(g.height) + "x" + std::to_string(g.width) + " -> " +
         std::to_string(g.out_channels) + ", kernel " + std::to_string(g.kernel_height) + "x" + std::to_string(g.kernel_width) +
         ", stride " + std::to_string(g.stride) + ", padding " + std::to_string(g.padding) + ", K " + std::to_string(s.budget) +
         ", batch " + std::to_string(s.batch);
}

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> all{
      {{1, 6, 6, 2, 3, 3, 1, 0}, 1, 5},     // K = 1
      {{2, 7, 5, 3, 3, 2, 2, 1}, 0, 20},    // K = all, stride 2, padding, odd sizes
      {{3, 5, 5, 4, 1, 1, 1, 0}, 5, 17},    // 1 x 1 kernels
      {{2, 9, 8, 3, 5, 5, 2, 2}, 40, 33},   // 5 x 5, stride 2, padding 2
      {{1, 4, 4, 1, 4, 4, 1, 0}, 0, 3},     // one output position, K = all
      {{2, 6, 7, 2, 3, 3, 3, 1}, 11, 70},   // stride 3, more than 64 samples
      {{4, 3, 11, 5, 3, 4, 1, 2}, 60, 16},  // padding larger than half a kernel side
  };
  return all;
}

// Checks one conv layer's forward and backward (dx when `with_dx`) against the reference built from
// its dense kernel `w`; gradient(k) reads the layer's gradient of kernel weight k (oc * entries +
// entry) or NaN when it has none (a dormant connection).
template <class Gradient>
void check_conv(Layer& layer, const Shape& s, const std::vector<double>& w, const std::vector<double>& bias,
                bool with_dx, Gradient gradient_of, LayerGradients& gradients) {
  const ConvGeometry& g = s.g;
  const uint32_t stride = padded_batch(s.batch);
  const std::vector<float> x = activations(g.inputs(), s.batch, stride, 1);
  const std::vector<float> dy = activations(g.outputs(), s.batch, stride, 7000000);
  std::vector<float> y(g.outputs() * stride), dx(with_dx ? g.inputs() * stride : 0);
  layer.forward(x.data(), y.data(), stride);
  layer.backward(x.data(), y.data(), dy.data(), with_dx ? dx.data() : nullptr, stride, gradients);
  const Reference r = reference_conv(g, w, bias, x, dy, s.batch, stride);
  const std::string what = std::string(layer.kind()) + " " + describe(s);
  int wrong = 0;
  double largest = 0;
  for (uint64_t i = 0; i < g.outputs(); ++i)
    for (uint32_t b = 0; b < s.batch; ++b) {
      wrong += !close(y[i * stride + b], r.y[i * s.batch + b]);
      largest = std::max(largest, std::abs(r.y[i * s.batch + b].value));
    }
  for (uint64_t i = 0; with_dx && i < g.inputs(); ++i)
    for (uint32_t b = 0; b < s.batch; ++b) wrong += !close(dx[i * stride + b], r.dx[i * s.batch + b]);
  uint64_t compared = 0;
  for (size_t n = 0; n < r.dw.size(); ++n) {
    const double got = gradient_of(n);
    if (std::isnan(got)) continue;
    wrong += !close(got, r.dw[n]);
    ++compared;
  }
  if (!bias.empty()) {
    CHECK(gradients.stores.size() == 2 && gradients.stores[1].size() == g.out_channels);
    for (uint32_t oc = 0; oc < g.out_channels && gradients.stores.size() == 2; ++oc)
      wrong += !close(gradients.stores[1][oc], r.db[oc]);
  }
  if (wrong) deepr_test::fail(__FILE__, __LINE__, what + ": " + std::to_string(wrong) + " values differ from float64");
  CHECK(largest > 0.1);  // outputs far from zero, so the tolerance says something
  CHECK(compared > 0);
}

}  // namespace

TEST(sparse_conv2d_matches_a_float64_dense_convolution) {
  for (const Shape& s : shapes())
    for (bool bias : {false, true})
      for (bool with_dx : {false, true}) {
        const uint64_t budget = s.budget ? s.budget : uint64_t(s.g.kernel_entries()) * s.g.out_channels;
        LayerContext context{11, 0, 0, 0};
        std::unique_ptr<Layer> built = build_layer(deepr_test::sparse_conv_spec(s.g, budget, bias), context);
        auto& layer = dynamic_cast<SparseConv2d&>(*built);
        SparseStore& store = layer.weight();
        CHECK(store.n_in == s.g.kernel_entries() && store.n_out == s.g.out_channels && store.active() == budget);
        std::vector<double> bias64;
        if (bias)
          for (uint32_t oc = 0; oc < s.g.out_channels; ++oc) bias64.push_back(layer.bias()->value[oc] = uniform(500 + oc));
        // The dense kernel of the active connections, and which slot holds each kernel weight.
        std::vector<double> w(store.positions(), 0.0);
        std::vector<int64_t> slot(store.positions(), -1);
        for (uint32_t oc = 0; oc < store.n_out; ++oc)
          for (uint32_t k = store.row_start[oc]; k < store.row_start[oc + 1]; ++k) {
            const uint64_t p = store.position_of(k, oc);
            w[p] = (store.source[k] & kSignBit) ? -double(store.theta[k]) : double(store.theta[k]);
            slot[p] = k;
          }
        LayerGradients gradients;
        check_conv(layer, s, w, bias64, with_dx, [&](size_t p) {
          if (slot[p] < 0) return double(NAN);
          // dE/dtheta = sign * dE/dw: undo the sign to compare with dE/dw.
          const float g = gradients.stores[0][size_t(slot[p])];
          return (store.source[size_t(slot[p])] & kSignBit) ? -double(g) : double(g);
        }, gradients);
        CHECK(gradients.stores[0].size() == budget);
      }
}

TEST(dense_conv2d_matches_a_float64_dense_convolution) {
  for (const Shape& s : shapes())
    for (bool bias : {false, true}) {
      LayerContext context{12, 0, 0, 0};
      std::unique_ptr<Layer> built = build_layer(deepr_test::dense_conv_spec(s.g, bias), context);
      auto& layer = dynamic_cast<DenseConv2d&>(*built);
      const std::vector<float>& value = layer.weight().value;
      CHECK(value.size() == uint64_t(s.g.kernel_entries()) * s.g.out_channels);
      std::vector<double> bias64;
      if (bias)
        for (uint32_t oc = 0; oc < s.g.out_channels; ++oc) bias64.push_back(layer.bias()->value[oc] = uniform(600 + oc));
      LayerGradients gradients;
      check_conv(layer, s, std::vector<double>(value.begin(), value.end()), bias64, true,
                 [&](size_t n) { return double(gradients.stores[0][n]); }, gradients);
    }
}

TEST(dense_conv2d_weights_start_as_scaled_normals) {
  // N(0, 1) / sqrt(fan-in): over 64 x 50 weights the mean is near 0 and the variance near 1 / 50.
  const ConvGeometry g{2, 8, 8, 64, 5, 5, 1, 2};
  LayerContext context{3, 0, 0, 0};
  std::unique_ptr<Layer> built = build_layer(deepr_test::dense_conv_spec(g, false), context);
  const std::vector<float>& w = dynamic_cast<DenseConv2d&>(*built).weight().value;
  double sum = 0, squares = 0;
  for (float v : w) {
    sum += v;
    squares += double(v) * v;
  }
  const double n = double(w.size()), mean = sum / n, variance = squares / n - mean * mean;
  CHECK_NEAR(mean, 0.0, 4 * std::sqrt(1.0 / 50 / n));
  CHECK_NEAR(variance * 50, 1.0, 0.12);
  CHECK(context.next_dense_id == 1 && context.next_sparse_id == 0);
}

TEST(max_pool2d_matches_a_float64_reference) {
  struct Pool {
    uint32_t channels, height, width, kernel, stride, batch;
  };
  for (const Pool& p : {Pool{2, 6, 6, 2, 2, 5}, Pool{1, 7, 5, 3, 2, 20}, Pool{3, 4, 4, 1, 1, 3}, Pool{2, 5, 5, 2, 1, 40},
                        Pool{1, 3, 8, 3, 3, 16}})
    for (bool ties : {false, true}) {
      LayerContext context{1, 0, 0, 0};
      std::unique_ptr<Layer> built =
          build_layer(deepr_test::max_pool_spec(p.channels, p.height, p.width, p.kernel, p.stride), context);
      const ConvGeometry& g = dynamic_cast<MaxPool2d&>(*built).geometry();
      const uint32_t stride = padded_batch(p.batch), oh = g.out_height(), ow = g.out_width();
      CHECK(oh == (p.height - p.kernel) / p.stride + 1 && ow == (p.width - p.kernel) / p.stride + 1);
      CHECK(built->outputs() == p.channels * oh * ow);
      std::vector<float> x = activations(g.inputs(), p.batch, stride, 3);
      if (ties)  // a few distinct values: windows hold equal maxima, and the first one takes the gradient
        for (float& v : x) v = std::round(v * 2.0f) / 2.0f;
      const std::vector<float> dy = activations(g.outputs(), p.batch, stride, 9000000);
      std::vector<float> y(g.outputs() * stride), dx(g.inputs() * stride);
      LayerGradients none;
      built->forward(x.data(), y.data(), stride);
      built->backward(x.data(), y.data(), dy.data(), dx.data(), stride, none);
      std::vector<double> expected_dx(g.inputs() * p.batch, 0.0);
      int wrong = 0;
      for (uint32_t c = 0; c < p.channels; ++c)
        for (uint32_t oy = 0; oy < oh; ++oy)
          for (uint32_t ox = 0; ox < ow; ++ox)
            for (uint32_t b = 0; b < p.batch; ++b) {
              size_t best = 0;
              double top = -INFINITY;
              for (uint32_t ky = 0; ky < p.kernel; ++ky)
                for (uint32_t kx = 0; kx < p.kernel; ++kx) {
                  const size_t in = (size_t(c) * p.height + oy * p.stride + ky) * p.width + ox * p.stride + kx;
                  if (x[in * stride + b] > top) {
                    top = x[in * stride + b];
                    best = in;
                  }
                }
              const size_t out = (size_t(c) * oh + oy) * ow + ox;
              wrong += y[out * stride + b] != top;
              expected_dx[best * p.batch + b] += dy[out * stride + b];
            }
      for (size_t i = 0; i < g.inputs(); ++i)
        for (uint32_t b = 0; b < p.batch; ++b)
          wrong += std::abs(dx[i * stride + b] - expected_dx[i * p.batch + b]) > 1e-6;
      if (wrong) deepr_test::fail(__FILE__, __LINE__, "max_pool2d: " + std::to_string(wrong) + " values differ");
    }
}

TEST(max_pool2d_propagates_nan) {
  LayerContext context{1, 0, 0, 0};
  std::unique_ptr<Layer> pool = build_layer(deepr_test::max_pool_spec(1, 2, 2, 2, 2), context);
  std::vector<float> x(4 * kLanes, 1.0f), y(kLanes);
  x[2 * kLanes + 3] = NAN;  // feature 2, sample 3
  pool->forward(x.data(), y.data(), kLanes);
  CHECK(std::isnan(y[3]) && y[0] == 1.0f);
}

TEST(registry_builds_conv_layers_and_refuses_bad_ones_by_name) {
  // 1 x 9 x 9 -> sparse_conv2d 3 x 3, stride 2, padding 1 -> 4 x 5 x 5 -> max_pool2d 2 -> 4 x 2 x 2 -> dense_conv2d 1 x 1.
  const ConvGeometry conv{1, 9, 9, 4, 3, 3, 2, 1}, head{4, 2, 2, 3, 1, 1, 1, 0};
  NetworkSpec good;
  good.layers = {deepr_test::sparse_conv_spec(conv, 12, true), deepr_test::max_pool_spec(4, 5, 5, 2, 2),
                 deepr_test::dense_conv_spec(head, false), {"softmax_cross_entropy", {}, {}}};
  Network net(good);
  CHECK(net.input_size() == 81 && net.layers()[0]->outputs() == 100 && net.layers()[1]->outputs() == 16 && net.classes() == 12);
  CHECK(net.sparse_stores().size() == 1 && net.sparse_stores()[0]->n_in == 9 && net.sparse_stores()[0]->n_out == 4);
  CHECK(net.layers()[2]->stores().size() == 1 && net.layers()[2]->stores()[0].dense->value.size() == 12);
  const auto edited = [&](size_t layer, const std::string& field, double value) {
    NetworkSpec spec = good;
    spec.layers[layer].numbers[field] = value;
    return refusal(spec);
  };
  const auto says = [](const std::string& got, const std::string& expected) {
    if (got == expected) return true;
    deepr_test::fail(__FILE__, __LINE__, "refused with \"" + got + "\", expected \"" + expected + "\"");
    return false;
  };
  CHECK(says(edited(0, "padding", 3), "layer 0 (sparse_conv2d): padding must be an integer in [0, 2], got 3"));
  CHECK(says(edited(0, "budget", 37), "layer 0 (sparse_conv2d): budget must be an integer in [1, 36], got 37"));
  CHECK(says(edited(0, "kernel_height", 12),
             "layer 0 (sparse_conv2d): the kernel (12 x 3) is larger than the padded image (11 x 11)"));
  CHECK(says(edited(0, "stride", 0), "layer 0 (sparse_conv2d): stride must be an integer in [1, 2147483647], got 0"));
  CHECK(says(edited(0, "dilation", 2), "layer 0 (sparse_conv2d): dilation is not a field of this kind"));
  CHECK(says(edited(1, "channels", 3), "layer 1 (max_pool2d): channels x height x width is 75, but the layer below gives 100"));
  CHECK(says(edited(1, "kernel_width", 6), "layer 1 (max_pool2d): the kernel (2 x 6) is larger than the image (5 x 5)"));
  CHECK(says(edited(1, "padding", 1), "layer 1 (max_pool2d): padding is not a field of this kind"));
  CHECK(says(edited(2, "in_channels", 2), "layer 2 (dense_conv2d): in_channels x height x width is 8, but the layer below gives 16"));
  CHECK(says(edited(2, "budget", 4), "layer 2 (dense_conv2d): budget is not a field of this kind"));
  CHECK(says(edited(0, "out_channels", 300000000),
             "layer 0 (sparse_conv2d): the kernel has more than 2147483647 entries (out_channels x in_channels x kernel size)"));
}
