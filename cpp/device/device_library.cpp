#include "device_library.hpp"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstddef>

namespace deepr {

namespace {

DeviceLibrary refused(const std::string& reason) {
  DeviceLibrary library;
  library.reason = reason;
  return library;
}

}  // namespace

DeviceLibrary load_device_library(const std::string& path) {
  struct stat file {};
  if (::stat(path.c_str(), &file) != 0) return refused("there is no file " + path);
  // RTLD_LOCAL: the library's own symbols (a CUDA runtime, its C++ library) stay its own. Never
  // dlclose'd (see the header).
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* error = ::dlerror();
    return refused(path + " cannot be loaded: " + (error ? error : "dlopen failed"));
  }
  const auto entry = reinterpret_cast<deepr_device_entry>(::dlsym(handle, DEEPR_DEVICE_ENTRY_NAME));
  if (!entry) return refused(path + " is not a deepr device library (it exports no " DEEPR_DEVICE_ENTRY_NAME ")");
  const deepr_device* table = entry(DEEPR_DEVICE_ABI_VERSION);
  if (!table) {
    const deepr_device* oldest = entry(1);
    return refused(path + " implements version " + (oldest ? std::to_string(oldest->abi_version) : "unknown") +
                   " of the device interface; this deepr needs version " + std::to_string(DEEPR_DEVICE_ABI_VERSION) +
                   ": install the device library of the same deepr release");
  }
  // A library of a later version may answer with its own table, which only appends members.
  if (table->abi_version < DEEPR_DEVICE_ABI_VERSION || table->struct_size < sizeof(deepr_device))
    return refused(path + " answered version " + std::to_string(DEEPR_DEVICE_ABI_VERSION) +
                   " of the device interface with an older table; install the device library of the same deepr release");
  uint32_t count = 0;
  if (table->device_count(&count) != DEEPR_OK || count == 0) {
    const std::string why = table->last_error(nullptr);
    return refused("no usable " + std::string(table->name) + " device: " + (why.empty() ? "the library found none" : why));
  }
  DeviceLibrary library;
  library.table = table;
  for (uint32_t ordinal = 0; ordinal < count; ++ordinal) {
    char description[1024];
    library.devices.push_back(table->describe(int32_t(ordinal), description, sizeof description) == DEEPR_OK
                                  ? std::string(description)
                                  : "{\"name\":\"" + std::string(table->name) + " device " + std::to_string(ordinal) + "\"}");
  }
  return library;
}

}  // namespace deepr
