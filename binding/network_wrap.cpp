#include "network_wrap.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>

#include "non_finite_error.hpp"
#include "promise_worker.hpp"
#include "random.hpp"
#include "training.hpp"

namespace deepr_binding {

namespace {

// ---- argument conversion: a TypeError or RangeError that names the parameter -------------------

[[noreturn]] void ThrowType(Napi::Env env, const std::string& message) { throw Napi::TypeError::New(env, message); }
[[noreturn]] void ThrowRange(Napi::Env env, const std::string& message) { throw Napi::RangeError::New(env, message); }

double Number(Napi::Env env, const Napi::Value& value, const char* name) {
  if (!value.IsNumber()) ThrowType(env, std::string(name) + " must be a number");
  const double v = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v)) ThrowRange(env, std::string(name) + " must be finite, got " + std::to_string(v));
  return v;
}

uint64_t Integer(Napi::Env env, const Napi::Value& value, const char* name, uint64_t min, uint64_t max) {
  const double v = Number(env, value, name);
  if (v != std::floor(v) || v < double(min) || v > double(max))
    ThrowRange(env, std::string(name) + " must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                        "], got " + std::to_string(v));
  return uint64_t(v);
}

// A finite float32 in [min, max]: a double such as 1e39 would otherwise become Infinity.
float Float(Napi::Env env, const Napi::Value& value, const char* name, double min, double max) {
  const double v = Number(env, value, name);
  if (v < min || v > max) {
    std::ostringstream message;
    message << name << " must be in [" << min << ", " << max << "], got " << v;
    ThrowRange(env, message.str());
  }
  return float(v);
}

bool Boolean(Napi::Env env, const Napi::Value& value, const char* name) {
  if (!value.IsBoolean()) ThrowType(env, std::string(name) + " must be a boolean");
  return value.As<Napi::Boolean>().Value();
}

template <typename T>
struct TypedArrayKind;
template <> struct TypedArrayKind<float> { static constexpr napi_typedarray_type type = napi_float32_array; static constexpr const char* name = "Float32Array"; };
template <> struct TypedArrayKind<int32_t> { static constexpr napi_typedarray_type type = napi_int32_array; static constexpr const char* name = "Int32Array"; };
template <> struct TypedArrayKind<int8_t> { static constexpr napi_typedarray_type type = napi_int8_array; static constexpr const char* name = "Int8Array"; };

// A typed array of exactly `length` elements (any length when `length` is npos).
template <typename T>
T* Array(Napi::Env env, const Napi::Value& value, const std::string& name, size_t length = std::string::npos) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != TypedArrayKind<T>::type)
    ThrowType(env, name + " must be a " + TypedArrayKind<T>::name);
  Napi::TypedArrayOf<T> array = value.As<Napi::TypedArrayOf<T>>();
  // Operations read and write the memory on a worker thread after this call returns. A resizable
  // ArrayBuffer can shrink meanwhile (V8 then unmaps the pages), so only fixed-size ones are taken.
  const Napi::Value buffer = array.Buffer();
  if (buffer.IsArrayBuffer() && buffer.As<Napi::Object>().Get("resizable").ToBoolean())
    ThrowType(env, name + " must not be backed by a resizable ArrayBuffer");
  if (length != std::string::npos && array.ElementLength() != length)
    ThrowRange(env, name + " must have " + std::to_string(length) + " elements, got " + std::to_string(array.ElementLength()));
  return array.Data();
}

size_t Length(const Napi::Value& value) { return value.As<Napi::TypedArray>().ElementLength(); }

struct Data {
  float* inputs;
  int32_t* labels;
  size_t samples;
};

// A data set: labels (Int32Array, up to 2^32 - 1 samples, at least `min_samples`) and inputs
// (Float32Array, samples x the network's input size), as train() and evaluate() take them.
Data DataArgs(Napi::Env env, const Napi::Value& inputs, const Napi::Value& labels, const deepr::Network& net,
              size_t min_samples) {
  int32_t* label_data = Array<int32_t>(env, labels, "labels");
  const size_t samples = Length(labels);
  if (samples < min_samples || samples > 0xFFFFFFFFull)
    ThrowRange(env, "labels must hold between " + std::to_string(min_samples) + " and 2^32 - 1 samples");
  return {Array<float>(env, inputs, "inputs", samples * net.input_size()), label_data, samples};
}

Napi::Object Object(Napi::Env env, const Napi::Value& value, const char* name) {
  if (!value.IsObject()) ThrowType(env, std::string(name) + " must be an object");
  return value.As<Napi::Object>();
}

// The step's hyper-parameters: a {name: number} record holding exactly the names the core declares.
deepr::StepHyper HyperArg(Napi::Env env, const Napi::Value& value) {
  Napi::Object record = Object(env, value, "hyper");
  std::string names;
  for (const deepr::StepHyperField& f : deepr::kStepHyperFields) names += std::string(names.empty() ? "" : ", ") + f.name;
  Napi::Array keys = record.GetPropertyNames();
  for (uint32_t n = 0; n < keys.Length(); ++n) {
    const std::string key = keys.Get(n).ToString();
    const auto declared = [&](const deepr::StepHyperField& f) { return key == f.name; };
    if (std::none_of(std::begin(deepr::kStepHyperFields), std::end(deepr::kStepHyperFields), declared))
      ThrowRange(env, "hyper." + key + " is not a hyper-parameter of this addon; it takes " + names);
  }
  deepr::StepHyper hyper;
  for (const deepr::StepHyperField& f : deepr::kStepHyperFields)
    hyper.*f.field = Float(env, record.Get(f.name), ("hyper." + std::string(f.name)).c_str(), f.min, f.max);
  return hyper;
}

// ---- workers ----------------------------------------------------------------------------------

// Runs a function on the pool and resolves with what `resolve` builds on the JS thread.
class TaskWorker : public PromiseWorker {
 public:
  using Task = std::function<void()>;
  using Result = std::function<Napi::Value(Napi::Env)>;
  TaskWorker(Napi::Env env, std::atomic<bool>& busy, std::vector<Napi::Value> keep, Task task, Result result)
      : PromiseWorker(env, busy, std::move(keep)), task_(std::move(task)), result_(std::move(result)) {}

 protected:
  void Execute() override {
    try {
      task_();
    } catch (const deepr::NonFiniteError& e) {
      non_finite_layer_ = e.layer;
      Fail(e.what());
    } catch (const std::exception& e) {
      Fail(e.what());
    }
  }
  Napi::Value Resolve(Napi::Env env) override { return result_ ? result_(env) : env.Undefined(); }

 private:
  Task task_;
  Result result_;
};

Napi::Value Queue(Napi::Env env, std::atomic<bool>& busy, std::vector<Napi::Value> keep, TaskWorker::Task task,
                  TaskWorker::Result result = nullptr) {
  auto* worker = new TaskWorker(env, busy, std::move(keep), std::move(task), std::move(result));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// One layer's state as plain arrays, in the layout of the checkpoint tensors.
struct LayerArrays {
  int32_t* positions = nullptr;  // K x 2: (input, output)
  float* theta = nullptr;
  int8_t* sign = nullptr;
  float* bias = nullptr;
  float* velocity = nullptr;
  float* bias_velocity = nullptr;
  size_t count = 0;
};

// Reads the array of per-layer objects; when exporting every K must equal the model's present
// active count, otherwise the lengths set K (import). Each property is read once, and every typed
// array goes into `keep`: the worker uses their memory after this returns, so they must stay alive
// even if the caller drops them or replaces the properties meanwhile.
std::vector<LayerArrays> LayerArgs(Napi::Env env, const Napi::Value& value, const deepr::Network& net,
                                   bool exporting, std::vector<Napi::Value>& keep) {
  if (!value.IsArray()) ThrowType(env, "layers must be an array");
  Napi::Array array = value.As<Napi::Array>();
  const auto& layers = net.layers();
  if (array.Length() != layers.size())
    ThrowRange(env, "layers must have " + std::to_string(layers.size()) + " entries, got " + std::to_string(array.Length()));
  std::vector<LayerArrays> out(layers.size());
  for (uint32_t l = 0; l < layers.size(); ++l) {
    const std::string at = "layers[" + std::to_string(l) + "].";
    Napi::Object o = Object(env, array.Get(l), ("layers[" + std::to_string(l) + "]").c_str());
    const deepr::SparseLayer& layer = layers[l];
    LayerArrays& a = out[l];
    const Napi::Value theta = o.Get("theta"), positions = o.Get("positions"), sign = o.Get("sign");
    keep.insert(keep.end(), {theta, positions, sign});
    if (!exporting) Array<float>(env, theta, at + "theta");
    a.count = exporting ? layer.active() : Length(theta);
    a.theta = Array<float>(env, theta, at + "theta", a.count);
    a.positions = Array<int32_t>(env, positions, at + "positions", 2 * a.count);
    if (exporting || !sign.IsUndefined()) a.sign = Array<int8_t>(env, sign, at + "sign", a.count);
    if (!layer.bias.empty()) {
      const Napi::Value bias = o.Get("bias");
      keep.push_back(bias);
      a.bias = Array<float>(env, bias, at + "bias", layer.n_out);
    }
    if (layer.has_momentum()) {
      const Napi::Value velocity = o.Get("velocity");
      if (exporting || !velocity.IsUndefined()) {
        keep.push_back(velocity);
        a.velocity = Array<float>(env, velocity, at + "velocity", a.count);
        if (!layer.bias.empty()) {
          const Napi::Value bias_velocity = o.Get("biasVelocity");
          keep.push_back(bias_velocity);
          a.bias_velocity = Array<float>(env, bias_velocity, at + "biasVelocity", layer.n_out);
        }
      }
    }
  }
  return out;
}

// Rebuilds one layer from imported arrays, rejecting anything that breaks an invariant.
deepr::SparseLayer ImportLayer(const deepr::SparseLayer& current, const LayerArrays& a) {
  const std::string where = "layers[" + std::to_string(current.index) + "]: ";
  deepr::SparseLayer layer = current;
  std::vector<uint64_t> position(a.count);
  for (size_t k = 0; k < a.count; ++k) {
    const int32_t in = a.positions[2 * k], out = a.positions[2 * k + 1];
    if (in < 0 || uint32_t(in) >= layer.n_in || out < 0 || uint32_t(out) >= layer.n_out)
      throw std::invalid_argument(where + "connection " + std::to_string(k) + " position (" + std::to_string(in) + ", " +
                                  std::to_string(out) + ") is outside the " + std::to_string(layer.n_in) + " x " +
                                  std::to_string(layer.n_out) + " weight matrix");
    position[k] = uint64_t(out) * layer.n_in + uint32_t(in);
    if (!(a.theta[k] >= 0.0f) || !std::isfinite(a.theta[k]))
      throw std::invalid_argument(where + "theta of connection " + std::to_string(k) + " is " + std::to_string(a.theta[k]) +
                                  "; an active connection has a finite theta >= 0");
    const bool negative = deepr::position_is_negative(layer.seed, layer.index, position[k]);
    if (a.sign && a.sign[k] != (negative ? -1 : 1))
      throw std::invalid_argument(where + "sign of connection " + std::to_string(k) +
                                  " differs from the fixed sign of its position for this seed");
  }
  std::vector<uint32_t> order(a.count);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) { return position[x] < position[y]; });
  std::vector<uint64_t> sorted(a.count);
  std::vector<float> theta(a.count);
  for (size_t k = 0; k < a.count; ++k) {
    sorted[k] = position[order[k]];
    theta[k] = a.theta[order[k]];
    if (k > 0 && sorted[k] == sorted[k - 1])
      throw std::invalid_argument(where + "connection (" + std::to_string(sorted[k] % layer.n_in) + ", " +
                                  std::to_string(sorted[k] / layer.n_in) + ") appears twice");
  }
  layer.assign(sorted, theta);
  auto finite = [&](float v, const char* what) {
    if (!std::isfinite(v)) throw std::invalid_argument(where + what + " holds a non-finite value");
    return v;
  };
  if (a.velocity)
    for (size_t k = 0; k < a.count; ++k) layer.velocity[k] = finite(a.velocity[order[k]], "velocity");
  if (a.bias)
    for (uint32_t j = 0; j < layer.n_out; ++j) layer.bias[j] = finite(a.bias[j], "bias");
  if (a.bias_velocity)
    for (uint32_t j = 0; j < layer.n_out; ++j) layer.bias_velocity[j] = finite(a.bias_velocity[j], "bias velocity");
  return layer;
}

}  // namespace

// ---- the class --------------------------------------------------------------------------------

Napi::Function NetworkWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeNetwork",
                     {InstanceMethod("info", &NetworkWrap::Info), InstanceMethod("train", &NetworkWrap::Train),
                      InstanceMethod("evaluate", &NetworkWrap::Evaluate), InstanceMethod("predict", &NetworkWrap::Predict),
                      InstanceMethod("exportState", &NetworkWrap::ExportState),
                      InstanceMethod("importState", &NetworkWrap::ImportState), InstanceMethod("check", &NetworkWrap::Check),
                      InstanceMethod("dispose", &NetworkWrap::Dispose)});
}

// new NativeNetwork({sizes, budgets, bias, momentum, globalBudget, share, seed}). lib/ has validated the
// spec; only what a conversion needs is checked here (types, values that fit the core's integers),
// and the core's own invariants (sizes, budgets) come back as a RangeError.
NetworkWrap::NetworkWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetworkWrap>(info) {
  Napi::Env env = info.Env();
  Napi::Object o = Object(env, info[0], "spec");
  deepr::NetworkSpec spec;
  const Napi::Value sizes_value = o.Get("sizes"), budgets_value = o.Get("budgets");
  if (!sizes_value.IsArray()) ThrowType(env, "spec.sizes must be an array");
  if (!budgets_value.IsArray()) ThrowType(env, "spec.budgets must be an array");
  Napi::Array sizes = sizes_value.As<Napi::Array>(), budgets = budgets_value.As<Napi::Array>();
  for (uint32_t n = 0, count = sizes.Length(); n < count; ++n)
    spec.sizes.push_back(uint32_t(Integer(env, sizes.Get(n), "spec.sizes[]", 1, deepr::kMaxLayerSize)));
  for (uint32_t n = 0, count = budgets.Length(); n < count; ++n)
    spec.budgets.push_back(Integer(env, budgets.Get(n), "spec.budgets[]", 1, deepr::kMaxLayerSize));
  spec.bias = Boolean(env, o.Get("bias"), "spec.bias");
  spec.momentum = Boolean(env, o.Get("momentum"), "spec.momentum");
  spec.global_budget = Boolean(env, o.Get("globalBudget"), "spec.globalBudget");
  spec.share = deepr::GlobalShare(Integer(env, o.Get("share"), "spec.share", 0, 1));
  spec.seed = Integer(env, o.Get("seed"), "spec.seed", 0, (uint64_t(1) << 53) - 1);
  try {
    net_ = std::make_unique<deepr::Network>(std::move(spec));
  } catch (const std::invalid_argument& e) {
    ThrowRange(env, std::string("spec: ") + e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "spec: not enough memory for this network");
  } catch (const std::exception& e) {  // nothing else may escape into V8: that would abort the process
    throw Napi::Error::New(env, std::string("spec: ") + e.what());
  }
}

deepr::Network& NetworkWrap::Ready(Napi::Env env) {
  if (!net_) throw Napi::Error::New(env, "this model has been disposed");
  if (busy_) throw Napi::Error::New(env, "this model is busy with another operation (training, saving or loading); await it first");
  return *net_;
}

deepr::Network& NetworkWrap::Acquire(Napi::Env env) {
  deepr::Network& net = Ready(env);
  // What info() reports while the worker runs: it must not read the network meanwhile.
  snapshot_step_ = net.step();
  snapshot_active_.resize(net.layers().size());
  for (size_t l = 0; l < net.layers().size(); ++l) snapshot_active_[l] = net.layers()[l].active();
  busy_ = true;
  return net;
}

// info() -> {step, layers: [{inputs, outputs, active, budget, bias, momentum}]}
Napi::Value NetworkWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!net_) throw Napi::Error::New(env, "this model has been disposed");
  // busy_ only changes on this thread, so while it is set a worker may be changing the network:
  // report the state it had when that operation started instead of reading it.
  const bool busy = busy_;
  Napi::Object result = Napi::Object::New(env);
  result.Set("step", double(busy ? snapshot_step_ : net_->step()));
  result.Set("busy", busy);
  const deepr::NetworkSpec& spec = net_->spec();  // never changes
  Napi::Array layers = Napi::Array::New(env, spec.budgets.size());
  for (size_t l = 0; l < spec.budgets.size(); ++l) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("inputs", spec.sizes[l]);
    o.Set("outputs", spec.sizes[l + 1]);
    o.Set("active", double(busy ? snapshot_active_[l] : net_->layers()[l].active()));
    o.Set("budget", double(spec.budgets[l]));
    layers.Set(uint32_t(l), o);
  }
  result.Set("layers", layers);
  return result;
}

// train(inputs, labels, epoch, firstBatch, batches, batchSize, hyper: {name: number}, check)
//   -> Promise<{loss: Float32Array, correct: Uint32Array, rewired: number[], regrowthSeconds: number,
//                noiseSeconds: number, step: number}>
Napi::Value NetworkWrap::Train(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  deepr::Network& net = Ready(env);
  const Data data = DataArgs(env, info[0], info[1], net, 1);
  const uint64_t epoch = Integer(env, info[2], "epoch", 0, (uint64_t(1) << 53) - 1);
  const uint64_t batch_size = Integer(env, info[5], "batchSize", 1, 1u << 20);
  const uint64_t per_epoch = (data.samples + batch_size - 1) / batch_size;
  const uint64_t first = Integer(env, info[3], "firstBatch", 0, per_epoch - 1);
  const uint64_t batches = Integer(env, info[4], "batches", 1, per_epoch - first);
  const deepr::StepHyper hyper = HyperArg(env, info[6]);
  const bool check = Boolean(env, info[7], "check");
  Acquire(env);

  auto stats = std::make_shared<deepr::ChunkStats>();
  return Queue(
      env, busy_, {info[0], info[1], Value()},
      [this, &net, data, epoch, batch_size, first, batches, hyper, check, stats] {
        if (order_epoch_ != epoch || order_.size() != data.samples) {
          order_ = deepr::epoch_order(net.spec().seed, epoch, uint32_t(data.samples));
          order_epoch_ = epoch;
        }
        deepr::train_batches(net, deepr::DataView{data.inputs, data.labels, uint32_t(data.samples)}, order_, uint32_t(batch_size), first,
                             batches, hyper, check, *stats);
      },
      [stats, &net](Napi::Env env) -> Napi::Value {
        Napi::Object result = Napi::Object::New(env);
        Napi::Float32Array loss = Napi::Float32Array::New(env, stats->batch_loss.size());
        std::copy(stats->batch_loss.begin(), stats->batch_loss.end(), loss.Data());
        Napi::Uint32Array correct = Napi::Uint32Array::New(env, stats->batch_correct.size());
        std::copy(stats->batch_correct.begin(), stats->batch_correct.end(), correct.Data());
        Napi::Array rewired = Napi::Array::New(env, stats->rewired.size());
        for (uint32_t l = 0; l < stats->rewired.size(); ++l) rewired.Set(l, double(stats->rewired[l]));
        result.Set("loss", loss);
        result.Set("correct", correct);
        result.Set("rewired", rewired);
        result.Set("regrowthSeconds", stats->regrowth_seconds);
        result.Set("noiseSeconds", stats->noise_seconds);
        result.Set("step", double(net.step()));
        return result;
      });
}

// evaluate(inputs, labels) -> Promise<{lossSum, correct}>
Napi::Value NetworkWrap::Evaluate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  deepr::Network& net = Ready(env);
  const Data data = DataArgs(env, info[0], info[1], net, 0);
  Acquire(env);
  auto result = std::make_shared<deepr::LossResult>();
  return Queue(
      env, busy_, {info[0], info[1], Value()}, [&net, data, result] { *result = net.evaluate(data.inputs, data.labels, data.samples); },
      [result](Napi::Env env) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("lossSum", result->loss_sum);
        o.Set("correct", double(result->correct));
        return o;
      });
}

// predict(inputs, logits) -> Promise<void>; logits (count x classes) is filled in place.
Napi::Value NetworkWrap::Predict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  deepr::Network& net = Ready(env);
  float* inputs = Array<float>(env, info[0], "inputs");
  const size_t values = Length(info[0]);
  if (values == 0) ThrowRange(env, "inputs must hold at least one sample");
  if (values % net.input_size() != 0)
    ThrowRange(env, "inputs length " + std::to_string(values) + " is not a multiple of " + std::to_string(net.input_size()));
  const size_t samples = values / net.input_size();
  float* logits = Array<float>(env, info[1], "logits", samples * net.classes());
  Acquire(env);
  return Queue(env, busy_, {info[0], info[1], Value()}, [&net, inputs, logits, samples] { net.predict(inputs, samples, logits); });
}

// exportState(layers: [{positions, theta, sign, bias?, velocity?, biasVelocity?}]) fills the arrays.
Napi::Value NetworkWrap::ExportState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  deepr::Network& net = Ready(env);
  std::vector<Napi::Value> keep{Value()};
  std::vector<LayerArrays> arrays = LayerArgs(env, info[0], net, true, keep);
  Acquire(env);
  return Queue(env, busy_, keep, [&net, arrays] {
    for (size_t l = 0; l < arrays.size(); ++l) {
      const deepr::SparseLayer& layer = net.layers()[l];
      const LayerArrays& a = arrays[l];
      for (uint32_t out = 0; out < layer.n_out; ++out)
        for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k) {
          a.positions[2 * k] = int32_t(layer.source[k] & deepr::kIndexMask);
          a.positions[2 * k + 1] = int32_t(out);
          a.sign[k] = (layer.source[k] & deepr::kSignBit) ? -1 : 1;
        }
      std::copy(layer.theta.begin(), layer.theta.end(), a.theta);
      if (a.bias) std::copy(layer.bias.begin(), layer.bias.end(), a.bias);
      if (a.velocity) std::copy(layer.velocity.begin(), layer.velocity.end(), a.velocity);
      if (a.bias_velocity) std::copy(layer.bias_velocity.begin(), layer.bias_velocity.end(), a.bias_velocity);
    }
  });
}

// importState(layers, step): replaces all parameters at once, or changes nothing and rejects.
Napi::Value NetworkWrap::ImportState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  deepr::Network& net = Ready(env);
  std::vector<Napi::Value> keep{Value()};
  std::vector<LayerArrays> arrays = LayerArgs(env, info[0], net, false, keep);
  const uint64_t step = Integer(env, info[1], "step", 0, (uint64_t(1) << 53) - 1);
  Acquire(env);
  return Queue(env, busy_, keep, [&net, arrays, step] {
    std::vector<deepr::SparseLayer> layers;
    for (size_t l = 0; l < arrays.size(); ++l) layers.push_back(ImportLayer(net.layers()[l], arrays[l]));
    layers.swap(net.layers());  // `layers` now holds the previous state
    const std::string problem = net.check();
    if (!problem.empty()) {
      layers.swap(net.layers());
      throw std::invalid_argument("layers: " + problem);
    }
    net.set_step(step);
  });
}

// check() -> Promise<string>: "" when every invariant holds.
Napi::Value NetworkWrap::Check(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  deepr::Network& net = Acquire(env);
  auto problem = std::make_shared<std::string>();
  return Queue(env, busy_, {Value()}, [&net, problem] { *problem = net.check(); },
               [problem](Napi::Env env) -> Napi::Value { return Napi::String::New(env, *problem); });
}

// dispose(): frees the native memory now rather than at garbage collection.
Napi::Value NetworkWrap::Dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (busy_) throw Napi::Error::New(env, "cannot dispose a model while an operation is running; await it first");
  net_.reset();
  return env.Undefined();
}

}  // namespace deepr_binding
