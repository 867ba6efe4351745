// A test-only device library: the CPU device's table exported as a device library exports its own
// (device_abi.h), so the host's whole device path (load_device_library, DeviceTrainer, the
// backend option of lib/) runs and is tested on machines without a GPU. Never shipped (package.json
// leaves cpp/test/ out). Its describe() adds "openContexts", the contexts opened and not closed
// yet, so that tests can see a model release its device.
#include <atomic>
#include <cstdio>
#include <cstring>

#include "device/device_abi.h"

namespace {

std::atomic<int> open_contexts{0};

const deepr_device& cpu() { return *deepr_cpu_device_table(DEEPR_DEVICE_ABI_VERSION); }

deepr_status counted_open(int32_t ordinal, deepr_device_context** context) {
  const deepr_status status = cpu().open(ordinal, context);
  if (status == DEEPR_OK) ++open_contexts;
  return status;
}

void counted_close(deepr_device_context* context) {
  if (context) --open_contexts;
  cpu().close(context);
}

deepr_status describe_with_contexts(int32_t ordinal, char* buffer, uint32_t capacity) {
  char cpu_line[64];
  const deepr_status status = cpu().describe(ordinal, cpu_line, sizeof cpu_line);
  if (status != DEEPR_OK || !buffer) return status == DEEPR_OK ? DEEPR_INVALID_ARGUMENT : status;
  cpu_line[std::strlen(cpu_line) - 1] = '\0';  // the closing brace
  const int written = std::snprintf(buffer, capacity, "%s,\"openContexts\":%d}", cpu_line, open_contexts.load());
  return written > 0 && uint32_t(written) < capacity ? DEEPR_OK : DEEPR_INVALID_ARGUMENT;
}

const deepr_device& counting_table() {
  static const deepr_device table = [] {
    deepr_device t = cpu();
    t.open = counted_open;
    t.close = counted_close;
    t.describe = describe_with_contexts;
    return t;
  }();
  return table;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const deepr_device* deepr_device_table(uint32_t abi_version) {
  return deepr_cpu_device_table(abi_version) ? &counting_table() : nullptr;
}
