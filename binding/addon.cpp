// Module entry: the NativeNetwork class and the thread setting. Context-aware (NODE_API_ADDON),
// so it loads in worker threads and Electron renderers; no state outside the instance data,
// except the process-wide thread pool of the core.
#include <napi.h>

#include "device/device_library.hpp"
#include "distributed/mpi_collective.hpp"
#include "network_wrap.hpp"
#include "simd.hpp"
#include "thread_pool.hpp"

namespace deepr_binding {

// The clone that DEEPR_DISPATCH functions run: versions of one function for the same targets, so
// the loader's resolver picks among them exactly as it picks among the core's clones.
#ifdef DEEPR_DISPATCHES
__attribute__((target("arch=x86-64-v4"))) const char* simd_level() { return "avx512"; }
__attribute__((target("arch=x86-64-v3"))) const char* simd_level() { return "avx2"; }
__attribute__((target("default"))) const char* simd_level() { return "sse2"; }
#else
const char* simd_level() { return "none"; }
#endif

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {InstanceValue("NativeNetwork", NetworkWrap::Define(env), napi_enumerable),
                          InstanceValue("abiVersion", Napi::Number::New(env, 5), napi_enumerable),
                          InstanceMethod("probeDeviceLibrary", &Addon::ProbeDeviceLibrary, napi_enumerable),
                          InstanceMethod("threads", &Addon::Threads, napi_enumerable),
                          InstanceMethod("setThreads", &Addon::SetThreads, napi_enumerable),
                          InstanceMethod("simdLevel", &Addon::SimdLevel, napi_enumerable),
                          InstanceMethod("setExitCode", &Addon::SetExitCode, napi_enumerable)});
  }

 private:
  Napi::Value SimdLevel(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), simd_level()); }

  // probeDeviceLibrary(path) -> {ok, reason, devices: [each device's describe() JSON]}: loads the
  // device library at `path` (deepr::load_device_library); lib/ decides what to do with the answer.
  Napi::Value ProbeDeviceLibrary(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "path must be a string");
    const deepr::DeviceLibrary library = deepr::load_device_library(info[0].As<Napi::String>().Utf8Value());
    Napi::Object result = Napi::Object::New(env);
    result.Set("ok", library.table != nullptr);
    result.Set("reason", library.reason);
    Napi::Array devices = Napi::Array::New(env, library.devices.size());
    for (uint32_t n = 0; n < library.devices.size(); ++n) devices.Set(n, library.devices[n]);
    result.Set("devices", devices);
    return result;
  }

  Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), deepr::ThreadPool::shared().size()); }

  // setExitCode(code): how a distributed run ends at exit (MpiCollective::set_exit_code); lib/
  // calls it from process.on("exit") once a network has joined one.
  Napi::Value SetExitCode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "exitCode must be a number");
    deepr::MpiCollective::set_exit_code(info[0].As<Napi::Number>().Int32Value());
    return env.Undefined();
  }

  // setThreads(n): threads used to split large layers (1 to 256); lib/ validates n.
  Napi::Value SetThreads(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "threads must be a number");
    const double n = info[0].As<Napi::Number>().DoubleValue();
    if (!(n >= 1 && n <= 256) || n != double(unsigned(n))) throw Napi::RangeError::New(env, "threads must be an integer in [1, 256]");
    deepr::ThreadPool::shared().resize(unsigned(n));
    return env.Undefined();
  }
};

}  // namespace deepr_binding

using DeeprAddon = deepr_binding::Addon;
NODE_API_ADDON(DeeprAddon)
