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

#include "device/device_library.hpp"
#include "distributed/data_parallel_exchange.hpp"
#include "distributed/mpi_collective.hpp"
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
    message.precision(9);  // a float's digits: Adam's betas stop at 0.99999994, not 1
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
  int32_t* labels;  // for a loss head that takes labels
  float* values;    // for one that takes values
  size_t samples;
};

// A data set: its targets as the network's loss head takes them, labels (Int32Array, one per
// sample) or values (Float32Array, samples x the head's outputs), for at least `min_samples` and
// at most 2^32 - 1 samples, and inputs (Float32Array, samples x the network's input size), as
// train() and evaluate() take them.
Data DataArgs(Napi::Env env, const Napi::Value& inputs, const Napi::Value& targets, const deepr::Network& net,
              size_t min_samples) {
  Data data{nullptr, nullptr, nullptr, 0};
  const std::string name = net.targets() == deepr::TargetKind::kLabels ? "labels" : "targets";
  if (net.targets() == deepr::TargetKind::kLabels) {
    data.labels = Array<int32_t>(env, targets, "labels");
    data.samples = Length(targets);
  } else {
    data.values = Array<float>(env, targets, "targets");
    const size_t width = net.classes();
    if (Length(targets) % width != 0)
      ThrowRange(env, "targets must hold " + std::to_string(width) + " values per sample (samples x outputs), got " +
                          std::to_string(Length(targets)) + " values");
    data.samples = Length(targets) / width;
  }
  if (data.samples < min_samples || data.samples > 0xFFFFFFFFull)
    ThrowRange(env, name + " must hold between " + std::to_string(min_samples) + " and 2^32 - 1 samples");
  data.inputs = Array<float>(env, inputs, "inputs", data.samples * net.input_size());
  return data;
}

Napi::Object Object(Napi::Env env, const Napi::Value& value, const char* name) {
  if (!value.IsObject()) ThrowType(env, std::string(name) + " must be an object");
  return value.As<Napi::Object>();
}

// The step's hyper-parameters: a {name: number} record holding exactly the names the network's
// rule declares, and any of the step's own settings (deepr::kStepFields; one left out stays off).
deepr::StepHyper HyperArg(Napi::Env env, const Napi::Value& value, const deepr::Rule& rule) {
  Napi::Object record = Object(env, value, "hyper");
  const std::vector<deepr::HyperField> fields = deepr::hyper_fields(rule);
  std::string names;
  for (const deepr::HyperField& f : fields) names += std::string(names.empty() ? "" : ", ") + f.name;
  const auto step_field = [](const std::string& key) {
    return std::any_of(std::begin(deepr::kStepFields), std::end(deepr::kStepFields),
                       [&](const deepr::HyperField& f) { return key == f.name; });
  };
  Napi::Array keys = record.GetPropertyNames();
  for (uint32_t n = 0; n < keys.Length(); ++n) {
    const std::string key = keys.Get(n).ToString();
    const auto declared = [&](const deepr::HyperField& f) { return key == f.name; };
    if (std::none_of(fields.begin(), fields.end(), declared) && !step_field(key))
      ThrowRange(env, "hyper." + key + " is not a hyper-parameter of this network's rule; it takes " + names);
  }
  deepr::StepHyper hyper;
  for (const deepr::HyperField& f : fields)
    hyper.*f.field = Float(env, record.Get(f.name), ("hyper." + std::string(f.name)).c_str(), f.min, f.max);
  for (const deepr::HyperField& f : deepr::kStepFields)
    if (record.Has(f.name))
      hyper.*f.field = Float(env, record.Get(f.name), ("hyper." + std::string(f.name)).c_str(), f.min, f.max);
  return hyper;
}

std::string String(Napi::Env env, const Napi::Value& value, const std::string& name) {
  if (!value.IsString()) ThrowType(env, name + " must be a string");
  return value.As<Napi::String>().Utf8Value();
}

// A layer record: its kind and every other own enumerable property, a number or a boolean, by name.
deepr::LayerSpec LayerSpecArg(Napi::Env env, const Napi::Value& value, const std::string& name) {
  Napi::Object o = Object(env, value, name.c_str());
  deepr::LayerSpec spec;
  spec.kind = String(env, o.Get("kind"), name + ".kind");
  Napi::Array keys = o.GetPropertyNames();
  for (uint32_t n = 0; n < keys.Length(); ++n) {
    const std::string key = keys.Get(n).ToString();
    if (key == "kind") continue;
    const Napi::Value v = o.Get(key);
    if (v.IsBoolean()) spec.booleans[key] = v.As<Napi::Boolean>().Value();
    else if (v.IsNumber()) spec.numbers[key] = Number(env, v, (name + "." + key).c_str());
    else ThrowType(env, name + "." + key + " must be a number or a boolean");
  }
  return spec;
}

// The rule record: each part by name, and every other own enumerable property, a number, as a
// setting of the structure rule (the core checks their names and ranges).
deepr::RuleSpec RuleArg(Napi::Env env, const Napi::Value& value, const std::string& name) {
  Napi::Object o = Object(env, value, name.c_str());
  deepr::RuleSpec rule;
  rule.optimiser = String(env, o.Get("optimiser"), name + ".optimiser");
  rule.prior = String(env, o.Get("prior"), name + ".prior");
  rule.structure = String(env, o.Get("structure"), name + ".structure");
  rule.budget = String(env, o.Get("budget"), name + ".budget");
  rule.global_share = String(env, o.Get("globalShare"), name + ".globalShare");
  Napi::Array keys = o.GetPropertyNames();
  for (uint32_t n = 0; n < keys.Length(); ++n) {
    const std::string key = keys.Get(n).ToString();
    if (key == "optimiser" || key == "prior" || key == "structure" || key == "budget" || key == "globalShare") continue;
    rule.settings[key] = Number(env, o.Get(key), (name + "." + key).c_str());
  }
  return rule;
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

// One store's state as plain arrays, in the layout of the checkpoint tensors
// layers.{l}.{store}.{field}: a sparse store's positions (K x 2: input, output), theta and sign
// (and, while the rule keeps one, the dormant theta of every position), a dense store's value, and
// either's state arrays by name.
struct StoreArrays {
  size_t layer;
  deepr::StoreRef store;
  size_t count = 0;  // K for a sparse store, the size of a dense one
  int32_t* positions = nullptr;
  float* theta = nullptr;
  int8_t* sign = nullptr;
  float* dormant_theta = nullptr;  // positions() values, for a store that keeps them (soft-DEEP R)
  float* value = nullptr;
  std::vector<std::pair<std::string, float*>> states;  // null: not given (import), zeros
};

// Reads the per-layer array of {store: {field: typed array}} objects, one entry per layer of the
// network (those of layers without stores are not read). When exporting every K must equal the
// store's present active count and every field is required; on import the lengths set K and sign
// and the state arrays are optional. Each property is read once, and every typed array goes into
// `keep`: the worker uses their memory after this returns, so they must stay alive even if the
// caller drops them or replaces the properties meanwhile.
std::vector<StoreArrays> StoreArgs(Napi::Env env, const Napi::Value& value, const deepr::Network& net, bool exporting,
                                   std::vector<Napi::Value>& keep) {
  if (!value.IsArray()) ThrowType(env, "layers must be an array");
  Napi::Array array = value.As<Napi::Array>();
  const auto& layers = net.layers();
  if (array.Length() != layers.size())
    ThrowRange(env, "layers must have " + std::to_string(layers.size()) + " entries, got " + std::to_string(array.Length()));
  const std::vector<std::string> state_names = deepr::state_names(net.rule());
  std::vector<StoreArrays> out;
  for (uint32_t l = 0; l < layers.size(); ++l) {
    const std::vector<deepr::StoreRef> stores = layers[l]->stores();
    if (stores.empty()) continue;
    const std::string at = "layers[" + std::to_string(l) + "]";
    Napi::Object o = Object(env, array.Get(l), at.c_str());
    for (const deepr::StoreRef& store : stores) {
      const std::string where = at + "." + store.name;
      Napi::Object fields = Object(env, o.Get(store.name), where.c_str());
      StoreArrays a{l, store};
      const auto field = [&](const char* name) {
        const Napi::Value v = fields.Get(name);
        keep.push_back(v);
        return v;
      };
      if (store.sparse) {
        const Napi::Value theta = field("theta"), positions = field("positions"), sign = field("sign");
        if (!exporting) Array<float>(env, theta, where + ".theta");
        a.count = exporting ? store.sparse->active() : Length(theta);
        a.theta = Array<float>(env, theta, where + ".theta", a.count);
        a.positions = Array<int32_t>(env, positions, where + ".positions", 2 * a.count);
        if (exporting || !sign.IsUndefined()) a.sign = Array<int8_t>(env, sign, where + ".sign", a.count);
        // Present exactly while the rule keeps a theta per position; an import needs it then.
        if (!store.sparse->dormant_theta.empty())
          a.dormant_theta = Array<float>(env, field("dormant_theta"), where + ".dormant_theta", store.sparse->positions());
      } else {
        a.count = store.dense->value.size();
        a.value = Array<float>(env, field("value"), where + ".value", a.count);
      }
      for (const std::string& name : state_names) {
        const Napi::Value v = field(name.c_str());
        a.states.emplace_back(name, exporting || !v.IsUndefined() ? Array<float>(env, v, where + "." + name, a.count) : nullptr);
      }
      out.push_back(std::move(a));
    }
  }
  return out;
}

float Finite(float v, const std::string& where, const std::string& what) {
  if (!std::isfinite(v)) throw std::invalid_argument(where + what + " holds a non-finite value");
  return v;
}

// A sparse store rebuilt from imported arrays, rejecting anything that breaks an invariant.
deepr::SparseStore ImportSparse(const deepr::SparseStore& current, const StoreArrays& a, bool signed_theta) {
  const std::string where = "layers[" + std::to_string(a.layer) + "]." + a.store.name + ": ";
  deepr::SparseStore store = current;
  std::vector<uint64_t> position(a.count);
  for (size_t k = 0; k < a.count; ++k) {
    const int32_t in = a.positions[2 * k], out = a.positions[2 * k + 1];
    if (in < 0 || uint32_t(in) >= store.n_in || out < 0 || uint32_t(out) >= store.n_out)
      throw std::invalid_argument(where + "connection " + std::to_string(k) + " position (" + std::to_string(in) + ", " +
                                  std::to_string(out) + ") is outside the " + std::to_string(store.n_in) + " x " +
                                  std::to_string(store.n_out) + " weight matrix");
    position[k] = uint64_t(out) * store.n_in + uint32_t(in);
    // Under a baseline rule theta is a signed weight; under DEEP R's, theta < 0 would be dormant.
    if (!(a.theta[k] >= 0.0f || signed_theta) || !std::isfinite(a.theta[k]))
      throw std::invalid_argument(where + "theta of connection " + std::to_string(k) + " is " + std::to_string(a.theta[k]) +
                                  (signed_theta ? "; an active connection has a finite theta" : "; an active connection has a finite theta >= 0"));
    const bool negative = deepr::position_is_negative(store.seed, store.id, position[k]);
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
      throw std::invalid_argument(where + "connection (" + std::to_string(sorted[k] % store.n_in) + ", " +
                                  std::to_string(sorted[k] / store.n_in) + ") appears twice");
  }
  store.assign(sorted, theta);
  if (a.dormant_theta)  // its invariants against the positions: the rule's check() after the swap
    store.dormant_theta.assign(a.dormant_theta, a.dormant_theta + store.positions());
  for (size_t s = 0; s < a.states.size(); ++s)
    if (a.states[s].second)
      for (size_t k = 0; k < a.count; ++k) store.states[s].values[k] = Finite(a.states[s].second[order[k]], where, a.states[s].first);
  return store;
}

// A dense store from imported arrays: every value finite.
deepr::DenseStore ImportDense(const deepr::DenseStore& current, const StoreArrays& a) {
  const std::string where = "layers[" + std::to_string(a.layer) + "]." + a.store.name + ": ";
  deepr::DenseStore store = current;
  for (size_t n = 0; n < a.count; ++n) store.value[n] = Finite(a.value[n], where, "value");
  for (size_t s = 0; s < a.states.size(); ++s)
    for (size_t n = 0; n < a.count; ++n)
      store.states[s].values[n] = a.states[s].second ? Finite(a.states[s].second[n], where, a.states[s].first) : 0.0f;
  return store;
}

}  // namespace

// ---- the class --------------------------------------------------------------------------------

Napi::Function NetworkWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeNetwork",
                     {InstanceMethod("info", &NetworkWrap::Info), InstanceMethod("train", &NetworkWrap::Train),
                      InstanceMethod("evaluate", &NetworkWrap::Evaluate), InstanceMethod("predict", &NetworkWrap::Predict),
                      InstanceMethod("exportState", &NetworkWrap::ExportState),
                      InstanceMethod("importState", &NetworkWrap::ImportState), InstanceMethod("check", &NetworkWrap::Check),
                      InstanceMethod("setRule", &NetworkWrap::SetRule), InstanceMethod("distribute", &NetworkWrap::Distribute),
                      InstanceMethod("deviceSupport", &NetworkWrap::DeviceSupport),
                      InstanceMethod("useDevice", &NetworkWrap::UseDevice),
                      InstanceMethod("releaseDevice", &NetworkWrap::ReleaseDevice),
                      InstanceMethod("dispose", &NetworkWrap::Dispose)});
}

// new NativeNetwork({seed, layers: [{kind, ...numbers and booleans}], rule: {optimiser, prior,
// structure, budget, globalShare}}). lib/ has validated the spec; only what a conversion needs is
// checked here (types, values that fit the core's integers), and the core's own invariants come
// back as a RangeError that names the layer.
NetworkWrap::NetworkWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetworkWrap>(info) {
  Napi::Env env = info.Env();
  Napi::Object o = Object(env, info[0], "spec");
  deepr::NetworkSpec spec;
  spec.seed = Integer(env, o.Get("seed"), "spec.seed", 0, (uint64_t(1) << 53) - 1);
  const Napi::Value layers_value = o.Get("layers");
  if (!layers_value.IsArray()) ThrowType(env, "spec.layers must be an array");
  Napi::Array layers = layers_value.As<Napi::Array>();
  for (uint32_t n = 0, count = layers.Length(); n < count; ++n)
    spec.layers.push_back(LayerSpecArg(env, layers.Get(n), "spec.layers[" + std::to_string(n) + "]"));
  spec.rule = RuleArg(env, o.Get("rule"), "spec.rule");
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
  snapshot_active_.resize(net.sparse_stores().size());
  for (size_t s = 0; s < net.sparse_stores().size(); ++s) snapshot_active_[s] = net.sparse_stores()[s]->active();
  busy_ = true;
  return net;
}

// info() -> {step, busy, layers: [{inputs, outputs, active, budget}] (one per sparse store, in id
// order), hyper: the names of the rule's hyper-parameters, targets: what the loss head takes,
// "labels" or "values"}
Napi::Value NetworkWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!net_) throw Napi::Error::New(env, "this model has been disposed");
  // busy_ only changes on this thread, so while it is set a worker may be changing the network:
  // report the state it had when that operation started instead of reading it. The sizes, the
  // budgets and the rule never change while it runs.
  const bool busy = busy_;
  Napi::Object result = Napi::Object::New(env);
  result.Set("step", double(busy ? snapshot_step_ : net_->step()));
  result.Set("busy", busy);
  const std::vector<deepr::SparseStore*>& stores = net_->sparse_stores();
  Napi::Array layers = Napi::Array::New(env, stores.size());
  for (size_t s = 0; s < stores.size(); ++s) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("inputs", stores[s]->n_in);
    o.Set("outputs", stores[s]->n_out);
    o.Set("active", double(busy ? snapshot_active_[s] : stores[s]->active()));
    o.Set("budget", double(stores[s]->budget));
    layers.Set(uint32_t(s), o);
  }
  result.Set("layers", layers);
  const std::vector<deepr::HyperField> fields = deepr::hyper_fields(net_->rule());
  Napi::Array hyper = Napi::Array::New(env, fields.size());
  for (uint32_t n = 0; n < fields.size(); ++n) hyper.Set(n, fields[n].name);
  result.Set("hyper", hyper);
  result.Set("targets", net_->targets() == deepr::TargetKind::kLabels ? "labels" : "values");
  return result;
}

// setRule(rule): the rule of the next train() calls; switching to momentum adds zeroed velocities.
Napi::Value NetworkWrap::SetRule(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  deepr::Network& net = Ready(env);
  const deepr::RuleSpec rule = RuleArg(env, info[0], "rule");
  try {
    net.set_rule(rule);
  } catch (const std::invalid_argument& e) {
    ThrowRange(env, e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "setRule: not enough memory for the optimiser's state");
  }
  return env.Undefined();
}

// distribute("mpi", agreeEvery) -> {rank, ranks}: from now on every train() trains this process's
// share of each batch and sums the gradients with the other processes over MPI (loaded now, so
// that a missing MPI fails here with what to install), comparing the processes' states every
// agreeEvery steps.
Napi::Value NetworkWrap::Distribute(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  deepr::Network& net = Ready(env);
  if (!info[0].IsString() || info[0].As<Napi::String>().Utf8Value() != "mpi") ThrowType(env, "engine must be \"mpi\"");
  if (device_) throw Napi::Error::New(env, "distributed training runs on the CPU only; create the model with backend \"cpu\"");
  const uint64_t agree_every = Integer(env, info[1], "agreeEvery", 0, (uint64_t(1) << 53) - 1);
  deepr::Collective* collective = nullptr;
  try {
    collective = &deepr::MpiCollective::instance();
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  net.set_gradient_exchange(deepr::data_parallel_exchange(*collective, net, agree_every, &exchange_meter_));
  shard_ = deepr::BatchShard{collective->rank(), collective->ranks()};
  Napi::Object result = Napi::Object::New(env);
  result.Set("rank", shard_.rank);
  result.Set("ranks", shard_.ranks);
  return result;
}

// deviceSupport() -> "" when a device can train this network, else what of it no device trains
// yet (deepr::device_unsupported), for lib/ to choose the backend.
Napi::Value NetworkWrap::DeviceSupport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Napi::String::New(env, deepr::device_unsupported(Ready(env)));
}

// useDevice(path, ordinal): from now on train() runs on device `ordinal` of the device library at
// `path` (deepr::DeviceTrainer), and everything else on the host network it keeps up to date.
// Throws an Error with the reason when the library or the device cannot be used.
Napi::Value NetworkWrap::UseDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Ready(env);
  const std::string path = String(env, info[0], "path");
  const int32_t ordinal = int32_t(Integer(env, info[1], "ordinal", 0, 0x7FFFFFFF));
  if (shard_.ranks > 1) throw Napi::Error::New(env, "distributed training runs on the CPU only");
  const deepr::DeviceLibrary library = deepr::load_device_library(path);
  if (!library.table) throw Napi::Error::New(env, library.reason);
  if (size_t(ordinal) >= library.devices.size())
    ThrowRange(env, "device " + std::to_string(ordinal) + " does not exist: " + path + " has " +
                        std::to_string(library.devices.size()) + " device" + (library.devices.size() == 1 ? "" : "s"));
  try {
    device_ = std::make_unique<deepr::DeviceTrainer>(*library.table, ordinal);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  return env.Undefined();
}

// releaseDevice(): train() runs on the CPU again, and the device context is closed.
Napi::Value NetworkWrap::ReleaseDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Ready(env);
  device_.reset();
  return env.Undefined();
}

// train(inputs, labels or targets (DataArgs), epoch, firstBatch, batches, batchSize, hyper: {name: number}, check)
//   -> Promise<{loss: Float32Array, correct: Uint32Array, rewired: number[], regrowthSeconds: number,
//                noiseSeconds: number, allReduceSeconds: number, allReduceBytes: number, step: number}>
Napi::Value NetworkWrap::Train(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  deepr::Network& net = Ready(env);
  const Data data = DataArgs(env, info[0], info[1], net, 1);
  const uint64_t epoch = Integer(env, info[2], "epoch", 0, (uint64_t(1) << 53) - 1);
  const uint64_t batch_size = Integer(env, info[5], "batchSize", 1, 1u << 20);
  const uint64_t per_epoch = (data.samples + batch_size - 1) / batch_size;
  const uint64_t first = Integer(env, info[3], "firstBatch", 0, per_epoch - 1);
  const uint64_t batches = Integer(env, info[4], "batches", 1, per_epoch - first);
  const deepr::StepHyper hyper = HyperArg(env, info[6], net.rule());
  const bool check = Boolean(env, info[7], "check");
  Acquire(env);

  auto stats = std::make_shared<deepr::ChunkStats>();
  auto exchanged = std::make_shared<deepr::ExchangeMeter>();  // the chunk's share of exchange_meter_
  return Queue(
      env, busy_, {info[0], info[1], Value()},
      [this, &net, data, epoch, batch_size, first, batches, hyper, check, stats, exchanged, shard = shard_] {
        if (order_epoch_ != epoch || order_.size() != data.samples) {
          order_ = deepr::epoch_order(net.spec().seed, epoch, uint32_t(data.samples));
          order_epoch_ = epoch;
        }
        const deepr::ExchangeMeter before = exchange_meter_;
        const deepr::DataView view{data.inputs, data.labels, uint32_t(data.samples), data.values};
        if (device_) device_->train_batches(net, view, order_, uint32_t(batch_size), first, batches, hyper, check, *stats);
        else deepr::train_batches(net, view, order_, uint32_t(batch_size), first, batches, hyper, check, *stats, shard);
        *exchanged = {exchange_meter_.all_reduces - before.all_reduces, exchange_meter_.bytes - before.bytes,
                      exchange_meter_.seconds - before.seconds};
      },
      [stats, exchanged, &net](Napi::Env env) -> Napi::Value {
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
        result.Set("allReduceSeconds", exchanged->seconds);
        result.Set("allReduceBytes", double(exchanged->bytes));
        result.Set("step", double(net.step()));
        return result;
      });
}

// evaluate(inputs, labels or targets) -> Promise<{lossSum, correct}> (correct: 0 for target values)
Napi::Value NetworkWrap::Evaluate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  deepr::Network& net = Ready(env);
  const Data data = DataArgs(env, info[0], info[1], net, 0);
  Acquire(env);
  auto result = std::make_shared<deepr::LossResult>();
  return Queue(
      env, busy_, {info[0], info[1], Value()}, [&net, data, result] {
        *result = net.evaluate(data.inputs, deepr::SampleTargets{data.labels, data.values}, data.samples);
      },
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

// exportState(layers: [{[store]: {[field]: typed array}}]) fills the arrays (layout: StoreArgs).
Napi::Value NetworkWrap::ExportState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  deepr::Network& net = Ready(env);
  std::vector<Napi::Value> keep{Value()};
  std::vector<StoreArrays> arrays = StoreArgs(env, info[0], net, true, keep);
  Acquire(env);
  return Queue(env, busy_, keep, [arrays] {
    for (const StoreArrays& a : arrays) {
      const deepr::StateArrays& states = a.store.sparse ? a.store.sparse->states : a.store.dense->states;
      for (size_t s = 0; s < a.states.size(); ++s) std::copy(states[s].values.begin(), states[s].values.end(), a.states[s].second);
      if (a.store.dense) {
        std::copy(a.store.dense->value.begin(), a.store.dense->value.end(), a.value);
        continue;
      }
      const deepr::SparseStore& store = *a.store.sparse;
      for (uint32_t out = 0; out < store.n_out; ++out)
        for (uint32_t k = store.row_start[out]; k < store.row_start[out + 1]; ++k) {
          a.positions[2 * k] = int32_t(store.source[k] & deepr::kIndexMask);
          a.positions[2 * k + 1] = int32_t(out);
          a.sign[k] = (store.source[k] & deepr::kSignBit) ? -1 : 1;
        }
      std::copy(store.theta.begin(), store.theta.end(), a.theta);
      std::copy(store.dormant_theta.begin(), store.dormant_theta.end(), a.dormant_theta);
    }
  });
}

// importState(layers, step): replaces all parameters at once, or changes nothing and rejects.
Napi::Value NetworkWrap::ImportState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  deepr::Network& net = Ready(env);
  std::vector<Napi::Value> keep{Value()};
  std::vector<StoreArrays> arrays = StoreArgs(env, info[0], net, false, keep);
  const uint64_t step = Integer(env, info[1], "step", 0, (uint64_t(1) << 53) - 1);
  Acquire(env);
  return Queue(env, busy_, keep, [&net, arrays, step] {
    std::vector<deepr::SparseStore> sparse;
    std::vector<deepr::DenseStore> dense;
    for (const StoreArrays& a : arrays) {
      if (a.store.sparse) sparse.push_back(ImportSparse(*a.store.sparse, a, net.rule().signed_theta));
      else dense.push_back(ImportDense(*a.store.dense, a));
    }
    // Swaps every store with its imported copy; a second call swaps the previous state back.
    const auto swap_all = [&] {
      size_t s = 0, d = 0;
      for (const StoreArrays& a : arrays) {
        if (a.store.sparse) std::swap(*a.store.sparse, sparse[s++]);
        else std::swap(*a.store.dense, dense[d++]);
      }
    };
    swap_all();
    const std::string problem = net.check();
    if (!problem.empty()) {
      swap_all();
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
  device_.reset();  // closes the device context, releasing its memory
  net_.reset();
  return env.Undefined();
}

}  // namespace deepr_binding
