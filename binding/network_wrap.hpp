// The JavaScript class NativeNetwork: a thin wrapper that converts arguments, checks their types
// and sizes, and runs every operation that is O(K) or more in a PromiseWorker. All policy
// (defaults, schedules, option validation with friendly messages) lives in lib/.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <vector>

#include "device/device_trainer.hpp"
#include "distributed/data_parallel_exchange.hpp"
#include "network.hpp"
#include "training.hpp"

namespace deepr_binding {

class NetworkWrap : public Napi::ObjectWrap<NetworkWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NetworkWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Train(const Napi::CallbackInfo& info);
  Napi::Value Evaluate(const Napi::CallbackInfo& info);
  Napi::Value Predict(const Napi::CallbackInfo& info);
  Napi::Value ExportState(const Napi::CallbackInfo& info);
  Napi::Value ImportState(const Napi::CallbackInfo& info);
  Napi::Value Check(const Napi::CallbackInfo& info);
  Napi::Value SetRule(const Napi::CallbackInfo& info);
  Napi::Value Distribute(const Napi::CallbackInfo& info);
  Napi::Value DeviceSupport(const Napi::CallbackInfo& info);
  Napi::Value UseDevice(const Napi::CallbackInfo& info);
  Napi::Value ReleaseDevice(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  // Throws when the model is disposed or another operation is running; otherwise marks it busy.
  deepr::Network& Acquire(Napi::Env env);
  deepr::Network& Ready(Napi::Env env);

  std::unique_ptr<deepr::Network> net_;
  std::unique_ptr<deepr::DeviceTrainer> device_;  // set by useDevice(): train() runs on that device
  std::atomic<bool> busy_{false};
  std::vector<uint32_t> order_;  // sample order of the epoch being trained
  uint64_t order_epoch_ = ~uint64_t(0);
  deepr::BatchShard shard_;  // this process's share of every batch (distribute())
  deepr::ExchangeMeter exchange_meter_;  // the all-reduces of the gradient exchange (distribute())
  // The step and active counts when the running operation started: info() reports these while busy.
  uint64_t snapshot_step_ = 0;
  std::vector<uint64_t> snapshot_active_;
};

}  // namespace deepr_binding
