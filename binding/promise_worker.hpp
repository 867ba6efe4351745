// An AsyncWorker that settles a promise: Execute() runs on a libuv pool thread (no JS there),
// then Resolve() builds the result on the JS thread. The worker keeps the JS objects it reads
// alive until it settles, and releases the model's busy flag whatever happens.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <vector>

namespace deepr_binding {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, std::atomic<bool>& busy, std::vector<Napi::Value> keep_alive)
      : Napi::AsyncWorker(env, "deepr"), deferred_(Napi::Promise::Deferred::New(env)), busy_(busy) {
    for (const Napi::Value& value : keep_alive)
      if (value.IsObject()) references_.push_back(Napi::Persistent(value.As<Napi::Object>()));
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  virtual Napi::Value Resolve(Napi::Env env) { return env.Undefined(); }

  void OnOK() override {
    busy_ = false;
    Napi::HandleScope scope(Env());
    deferred_.Resolve(Resolve(Env()));
  }

  void OnError(const Napi::Error& error) override {
    busy_ = false;
    if (non_finite_layer_ >= 0) {  // lets lib/ tell a numerical fault from other errors by code
      error.Set("code", Napi::String::New(Env(), "DEEPR_NON_FINITE"));
      error.Set("layer", Napi::Number::New(Env(), non_finite_layer_));
    }
    deferred_.Reject(error.Value());
  }

  // Set by Execute() when it caught a deepr::NonFiniteError.
  int64_t non_finite_layer_ = -1;

 private:
  Napi::Promise::Deferred deferred_;
  std::atomic<bool>& busy_;
  std::vector<Napi::ObjectReference> references_;
};

}  // namespace deepr_binding
