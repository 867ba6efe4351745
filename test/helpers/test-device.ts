// The test-only device library (cpp/test/device_library/): the CPU device's table exported as a
// device library, built by the core tests' CMake configuration, so that the CUDA backend's host
// path runs here without a GPU. (Re)built on first use; up to date, the build is a no-op.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { root } from "./child.js";

export const testDeviceLibrary = join(root, "build-tests", "libdeepr_test_device.so");

export function buildTestDeviceLibrary(): string {
  const build = join(root, "build-tests");
  execFileSync("cmake", ["-S", root, "-B", build, "-DDEEPR_CORE_TESTS=ON", "-DCMAKE_BUILD_TYPE=Release"], { stdio: "ignore" });
  execFileSync("cmake", ["--build", build, "--target", "deepr_test_device", "-j", "2"], { stdio: "ignore" });
  return testDeviceLibrary;
}
