// A device library (libdeepr_cuda.so, or any library implementing device_abi.h) loaded at run time
// with dlopen, only when asked: the core never links one, so without the library, its driver or a
// device everything runs on the CPU.
#pragma once

#include <string>
#include <vector>

#include "device/device_abi.h"

namespace deepr {

struct DeviceLibrary {
  const deepr_device* table = nullptr;  // null when the library cannot be used
  std::string reason;                   // why not, in words, when table is null
  std::vector<std::string> devices;     // each device's describe() line of JSON, by ordinal
};

// Loads the library at `path`, checks that it implements this core's version of the device
// interface, and asks it for its devices. Every failure is a reason, never an exception: the file
// is missing, dlopen's message, not a deepr device library, a version too old, or no usable device
// with the library's own reason (no driver, a driver too old, no GPU). A loaded library stays
// loaded for the life of the process: a device context may outlive any one caller.
DeviceLibrary load_device_library(const std::string& path);

}  // namespace deepr
