// An AsyncWorker that settles a promise: Execute() runs on a libuv pool thread (no JS there),
// then Resolve() builds the result on the JS thread. The worker keeps the JS objects it reads
// alive until it settles, and releases the model's busy flag whatever happens.
//
// A worker thread terminated mid-call: Node finishes the in-flight Execute() before it runs the
// environment's finalizers (so the network it uses is freed after it, by NetworkWrap's finalizer),
// then calls OnWorkComplete() on a thread that may no longer run JavaScript. Every Node-API call
// that touches JS then fails; node-addon-api turns that failure into a C++ exception, and one that
// escaped the completion callback aborted the whole process. OnWorkComplete() below settles what
// it can and lets nothing escape. (A method running at that moment is covered by the build flag
// NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS, see CMakeLists.txt.)
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <string>
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

  void OnWorkComplete(Napi::Env env, napi_status status) override {
    busy_ = false;
    try {
      Settle(env, status);
    } catch (const Napi::Error&) {
      try {
        // Building the result failed (while JS can still run): reject rather than never settle.
        Napi::HandleScope scope(env);
        deferred_.Reject(Napi::Error::New(env, "deepr: could not return the result of a native operation").Value());
      } catch (const Napi::Error&) {
        // The environment is being torn down: nobody is left to tell. Node-API cannot free an
        // unsettled promise's handle, which goes with the worker's heap.
      }
    }
    delete this;
  }

 protected:
  virtual Napi::Value Resolve(Napi::Env env) { return env.Undefined(); }

  // Execute() reports a failure here; the promise then rejects with `message`.
  void Fail(std::string message) { error_ = std::move(message); }

  // Set by Execute() when it caught a deepr::NonFiniteError.
  int64_t non_finite_layer_ = -1;

 private:
  void Settle(Napi::Env env, napi_status status) {
    Napi::HandleScope scope(env);
    if (status == napi_cancelled) {
      deferred_.Reject(Napi::Error::New(env, "deepr: the native operation was cancelled").Value());
    } else if (error_.empty()) {
      deferred_.Resolve(Resolve(env));
    } else {
      Napi::Error error = Napi::Error::New(env, error_);
      if (non_finite_layer_ >= 0) {  // lets lib/ tell a numerical fault from other errors by code
        error.Set("code", Napi::String::New(env, "DEEPR_NON_FINITE"));
        error.Set("layer", Napi::Number::New(env, non_finite_layer_));
      }
      deferred_.Reject(error.Value());
    }
  }

  Napi::Promise::Deferred deferred_;
  std::atomic<bool>& busy_;
  std::vector<Napi::ObjectReference> references_;
  std::string error_;
};

}  // namespace deepr_binding
