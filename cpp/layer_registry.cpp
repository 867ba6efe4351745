#include "layer_registry.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "layers/dense_linear.hpp"
#include "layers/mean_squared_error.hpp"
#include "layers/relu.hpp"
#include "layers/softmax_cross_entropy.hpp"
#include "layers/sparse_linear.hpp"

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
