#include "layer_registry.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "layers/dense_conv2d.hpp"
#include "layers/max_pool2d.hpp"
#include "layers/dense_linear.hpp"
#include "layers/mean_squared_error.hpp"
#include "layers/relu.hpp"
#include "layers/softmax_cross_entropy.hpp"
#include "layers/sparse_conv2d.hpp"
#include "layers/sparse_linear.hpp"
#include "layers/sparse_lstm.hpp"

namespace deepr {

namespace {

// Reads a spec's fields once each; done() rejects the fields nobody read.
class SpecReader {
 public:
  explicit SpecReader(const LayerSpec& spec) : spec_(spec) {}

  uint64_t integer(const std::string& name, uint64_t min, uint64_t max) {
    read_.insert(name);
    const auto it = spec_.numbers.find(name);
    if (it == spec_.numbers.end()) fail(name + " (a number) is missing");
    const double v = it->second;
    if (!(v >= double(min) && v <= double(max)) || v != std::floor(v)) {
      std::ostringstream got;
      got << v;
      fail(name + " must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " + got.str());
    }
    return uint64_t(v);
  }

  bool boolean(const std::string& name) {
    read_.insert(name);
    const auto it = spec_.booleans.find(name);
    if (it == spec_.booleans.end()) fail(name + " (a boolean) is missing");
    return it->second;
  }

  void done() const {
    for (const auto& n : spec_.numbers)
      if (!read_.count(n.first)) fail(n.first + " is not a field of this kind");
    for (const auto& b : spec_.booleans)
      if (!read_.count(b.first)) fail(b.first + " is not a field of this kind");
  }

  [[noreturn]] void fail(const std::string& what) const { throw std::invalid_argument(what); }

 private:
  const LayerSpec& spec_;
  std::set<std::string> read_;
};

using Builder = std::function<std::unique_ptr<Layer>(SpecReader&, LayerContext&)>;

std::unique_ptr<Layer> sparse_linear(SpecReader& r, LayerContext& c) {
  const uint32_t inputs = uint32_t(r.integer("inputs", 1, kMaxLayerSize));
  const uint32_t outputs = uint32_t(r.integer("outputs", 1, kMaxLayerSize));
  const uint64_t budget = r.integer("budget", 1, std::min<uint64_t>(uint64_t(inputs) * outputs, kMaxLayerSize));
  const bool bias = r.boolean("bias");
  r.done();
  if (c.inputs != 0 && inputs != c.inputs)
    r.fail("inputs is " + std::to_string(inputs) + ", but the layer below gives " + std::to_string(c.inputs));
  return std::make_unique<SparseLinear>(inputs, outputs, budget, bias, c.next_sparse_id++, c.seed);
}

std::unique_ptr<Layer> relu(SpecReader& r, LayerContext& c) {
  r.done();
  if (c.inputs == 0) r.fail("a relu needs a layer below it");
  return std::make_unique<Relu>(c.inputs);
}

std::unique_ptr<Layer> softmax_cross_entropy(SpecReader& r, LayerContext& c) {
  r.done();
  if (c.inputs < 2) r.fail("the loss head needs a layer below it with at least 2 outputs (the classes)");
  return std::make_unique<SoftmaxCrossEntropy>(c.inputs);
}

// The input shape of a convolution or pooling layer (channels under `channels`) and its window,
// checked against the layer below and the core's size limits (every count fits kMaxLayerSize).
ConvGeometry image_geometry(SpecReader& r, const LayerContext& c, const char* channels, bool padded) {
  ConvGeometry g{};
  g.in_channels = uint32_t(r.integer(channels, 1, kMaxLayerSize));
  g.height = uint32_t(r.integer("height", 1, kMaxLayerSize));
  g.width = uint32_t(r.integer("width", 1, kMaxLayerSize));
  g.kernel_height = uint32_t(r.integer("kernel_height", 1, kMaxLayerSize));
  g.kernel_width = uint32_t(r.integer("kernel_width", 1, kMaxLayerSize));
  g.stride = uint32_t(r.integer("stride", 1, kMaxLayerSize));
  g.padding = padded ? uint32_t(r.integer("padding", 0, std::min(g.kernel_height, g.kernel_width) - 1)) : 0;
  if (double(g.in_channels) * g.height * g.width > kMaxLayerSize)
    r.fail(std::string(channels) + " x height x width is more than " + std::to_string(kMaxLayerSize) + " features");
  if (uint64_t(g.kernel_height) > uint64_t(g.height) + 2 * g.padding ||
      uint64_t(g.kernel_width) > uint64_t(g.width) + 2 * g.padding)
    r.fail("the kernel (" + std::to_string(g.kernel_height) + " x " + std::to_string(g.kernel_width) +
           ") is larger than the " + (padded ? "padded " : "") + "image (" + std::to_string(g.height + 2 * g.padding) +
           " x " + std::to_string(g.width + 2 * g.padding) + ")");
  if (c.inputs != 0 && g.inputs() != c.inputs)
    r.fail(std::string(channels) + " x height x width is " + std::to_string(g.inputs()) + ", but the layer below gives " +
           std::to_string(c.inputs));
  return g;
}

// A convolution's geometry: the image's, out_channels, and the size limits of its weight.
ConvGeometry conv_geometry(SpecReader& r, const LayerContext& c) {
  ConvGeometry g = image_geometry(r, c, "in_channels", true);
  g.out_channels = uint32_t(r.integer("out_channels", 1, kMaxLayerSize));
  if (double(g.kernel_entries()) * g.out_channels > kMaxLayerSize)
    r.fail("the kernel has more than " + std::to_string(kMaxLayerSize) + " entries (out_channels x in_channels x kernel size)");
  if (double(g.out_channels) * g.out_height() * g.out_width() > kMaxLayerSize)
    r.fail("the output has more than " + std::to_string(kMaxLayerSize) + " features");
  return g;
}

std::unique_ptr<Layer> sparse_conv2d(SpecReader& r, LayerContext& c) {
  const ConvGeometry g = conv_geometry(r, c);
  const uint64_t budget = r.integer("budget", 1, uint64_t(g.kernel_entries()) * g.out_channels);
  const bool bias = r.boolean("bias");
  r.done();
  return std::make_unique<SparseConv2d>(g, budget, bias, c.next_sparse_id++, c.seed);
}

std::unique_ptr<Layer> dense_conv2d(SpecReader& r, LayerContext& c) {
  const ConvGeometry g = conv_geometry(r, c);
  const bool bias = r.boolean("bias");
  r.done();
  return std::make_unique<DenseConv2d>(g, bias, c.next_dense_id++, c.seed);
}

std::unique_ptr<Layer> max_pool2d(SpecReader& r, LayerContext& c) {
  ConvGeometry g = image_geometry(r, c, "channels", false);
  g.out_channels = g.in_channels;
  r.done();
  return std::make_unique<MaxPool2d>(g);
}

std::unique_ptr<Layer> sparse_lstm(SpecReader& r, LayerContext& c) {
  const uint32_t steps = uint32_t(r.integer("steps", 1, kMaxLayerSize));
  const uint32_t features = uint32_t(r.integer("features", 1, kMaxLayerSize / steps));
  const uint32_t units = uint32_t(r.integer("units", 1, kMaxLayerSize / 4));
  const uint64_t input_budget = r.integer("inputBudget", 1, std::min<uint64_t>(uint64_t(features) * 4 * units, kMaxLayerSize));
  const uint64_t recurrent_budget = r.integer("recurrentBudget", 1, std::min<uint64_t>(uint64_t(units) * 4 * units, kMaxLayerSize));
  const bool sequence = r.boolean("sequence");
  r.done();
  if (sequence && uint64_t(steps) * units > kMaxLayerSize)
    r.fail("steps x units is " + std::to_string(uint64_t(steps) * units) + ", more outputs than a layer can have");
  if (c.inputs != 0 && steps * features != c.inputs)
    r.fail("steps x features is " + std::to_string(steps * features) + ", but the layer below gives " + std::to_string(c.inputs));
  const uint32_t input_id = c.next_sparse_id;
  c.next_sparse_id += 2;
  return std::make_unique<SparseLstm>(steps, features, units, input_budget, recurrent_budget, sequence, input_id, c.seed);
}

std::unique_ptr<Layer> dense_linear(SpecReader& r, LayerContext& c) {
  const uint32_t inputs = uint32_t(r.integer("inputs", 1, kMaxLayerSize));
  const uint32_t outputs = uint32_t(r.integer("outputs", 1, kMaxLayerSize));
  const bool bias = r.boolean("bias");
  r.done();
  if (uint64_t(inputs) * outputs > kMaxLayerSize)
    r.fail("inputs x outputs is " + std::to_string(uint64_t(inputs) * outputs) + ", more than the " +
           std::to_string(kMaxLayerSize) + " values a dense store holds");
  if (c.inputs != 0 && inputs != c.inputs)
    r.fail("inputs is " + std::to_string(inputs) + ", but the layer below gives " + std::to_string(c.inputs));
  return std::make_unique<DenseLinear>(inputs, outputs, bias, c.next_dense_id++, c.seed);
}

std::unique_ptr<Layer> mean_squared_error(SpecReader& r, LayerContext& c) {
  r.done();
  if (c.inputs == 0) r.fail("the loss head needs a layer below it");
  return std::make_unique<MeanSquaredError>(c.inputs);
}

const std::vector<std::pair<std::string, Builder>>& registry() {
  static const std::vector<std::pair<std::string, Builder>> kinds{
      {"sparse_linear", sparse_linear}, {"relu", relu}, {"softmax_cross_entropy", softmax_cross_entropy},
      {"sparse_conv2d", sparse_conv2d}, {"dense_conv2d", dense_conv2d}, {"max_pool2d", max_pool2d},
      {"sparse_lstm", sparse_lstm},
      {"dense_linear", dense_linear}, {"mean_squared_error", mean_squared_error}};
  return kinds;
}

}  // namespace

std::unique_ptr<Layer> build_layer(const LayerSpec& spec, LayerContext& context) {
  for (const auto& kind : registry()) {
    if (kind.first != spec.kind) continue;
    SpecReader reader(spec);
    return kind.second(reader, context);
  }
  std::string known;
  for (const std::string& k : layer_kinds()) known += (known.empty() ? "" : ", ") + k;
  throw std::invalid_argument("not a layer kind of the core (it knows " + known + ")");
}

std::vector<std::string> layer_kinds() {
  std::vector<std::string> names;
  for (const auto& kind : registry()) names.push_back(kind.first);
  return names;
}

}  // namespace deepr
