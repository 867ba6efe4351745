// npm install hook: use a prebuilt binary when one loads on this platform, otherwise build the
// addon from source with cmake-js. It never downloads anything: package.json's
// `binary.napi_versions` puts cmake-js in Node-API mode, where the headers come from the
// node-api-headers package it depends on (not from nodejs.org or npm's `nodedir`), and
// node-addon-api is a dependency. An install that cannot end with a working addon fails, so that
// `npm install` reports the reason instead of leaving a package that cannot load.
// DEEPR_SKIP_INSTALL_BUILD=1 skips all of this (for CI steps that build or bring the addon later).
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const CMAKE_MINIMUM = [3, 18];
const TOOLS_HELP =
  "Install them and run `npm install` again:\n" +
  "  Debian/Ubuntu: sudo apt-get install cmake g++ make\n" +
  "  Fedora/RHEL:   sudo dnf install cmake gcc-c++ make\n" +
  "  macOS:         xcode-select --install && brew install cmake\n" +
  "  Windows:       Visual Studio (\"Desktop development with C++\") and CMake from cmake.org";

/** Ends the install with a non-zero status, so that npm reports it. */
function fail(reason, help) {
  console.error(`deepr: the native addon cannot be built: ${reason}\n${help}`);
  process.exit(1);
}

/** The error node-gyp-build throws for this package, or undefined when an addon loads. */
function loadError() {
  try {
    require("node-gyp-build")(root);
    return undefined;
  } catch (error) {
    return error;
  }
}

/** `command --version`'s first line, or undefined when the command cannot run. */
function versionLine(command) {
  const result = spawnSync(command, ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.split("\n")[0] : undefined;
}

/** Each tool the build needs that cannot be found or is too old, in words. */
function missingTools() {
  const missing = [];
  const cmake = versionLine("cmake");
  const [major, minor] = (/(\d+)\.(\d+)/.exec(cmake ?? "") ?? []).slice(1).map(Number);
  if (cmake === undefined) missing.push(`CMake >= ${CMAKE_MINIMUM.join(".")}: \`cmake\` is not on the PATH`);
  else if (major < CMAKE_MINIMUM[0] || (major === CMAKE_MINIMUM[0] && minor < CMAKE_MINIMUM[1]))
    missing.push(`CMake >= ${CMAKE_MINIMUM.join(".")}: found ${cmake}`);
  // On Windows cmake-js finds Visual Studio, compiler and build tool in one. Elsewhere it wants
  // g++ or clang++ on the PATH (CMake then compiles with $CXX when set), and generates for Ninja
  // when it is on the PATH, else for make.
  if (process.platform !== "win32") {
    if (versionLine("g++") === undefined && versionLine("clang++") === undefined)
      missing.push("a C++17 compiler: neither g++ nor clang++ is on the PATH");
    else if (process.env.CXX && versionLine(process.env.CXX) === undefined)
      missing.push(`a C++17 compiler: CXX is ${process.env.CXX}, which does not run`);
    if (versionLine("ninja") === undefined && versionLine("make") === undefined)
      missing.push("a build tool: neither make nor ninja is on the PATH");
  }
  return missing;
}

function build() {
  let cmakeJs;
  try {
    cmakeJs = require.resolve("cmake-js/bin/cmake-js", { paths: [root] });
  } catch {
    fail("cmake-js is missing from node_modules.", "Reinstall deepr with its dependencies: npm install deepr");
  }
  const result = spawnSync(process.execPath, [cmakeJs, "build"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0)
    fail(
      "the build failed (see the errors above).",
      "Check that the C++ compiler supports C++17 (g++ >= 8, clang++ >= 7, Visual Studio 2019 or later), then run `npm install` again.",
    );
}

// The CUDA device library (README, "GPU (CUDA)"), built from cuda/ where it can be used: on Linux,
// with nvcc on the PATH (or NVCC) and an NVIDIA driver loaded, for this machine's GPUs only (CUDA
// architecture "native", so it takes seconds). DEEPR_BUILD_CUDA=1 builds it without a driver, for
// every architecture a release ships. Whatever is missing or fails, the install goes on: training
// then runs on the CPU, and one line says why.
function buildCudaLibrary() {
  const target = path.join(root, "build", "Release", "libdeepr_cuda.so");
  if (process.platform !== "linux" || process.env.DEEPR_DISABLE_CUDA === "1" || fs.existsSync(target)) return;
  try {
    require.resolve(`@deepr/cuda-linux-${process.arch}/package.json`, { paths: [root] });
    return; // the prebuilt library's optional package is installed
  } catch {
    // not installed: build it if this machine can
  }
  const skip = (why) => console.error(`deepr: the CUDA device library is not built: ${why}; training runs on the CPU.`);
  const nvcc = process.env.NVCC || "nvcc";
  if (versionLine(nvcc) === undefined) return skip(`${nvcc} is not on the PATH (README, "GPU (CUDA)")`);
  if (versionLine("cmake") === undefined) return skip("`cmake` is not on the PATH");
  const anyway = process.env.DEEPR_BUILD_CUDA === "1";
  const driver = fs.existsSync("/proc/driver/nvidia/version");
  if (!driver && !anyway) return skip("no NVIDIA driver is loaded here (DEEPR_BUILD_CUDA=1 builds it anyway)");
  console.error(`deepr: building the CUDA device library${driver ? " for this machine's GPUs" : ""} (build/Release/libdeepr_cuda.so).`);
  const dir = path.join(root, "build", "cuda");
  const configure = ["-S", root, "-B", dir, "-DDEEPR_CUDA=ON", "-DCMAKE_BUILD_TYPE=Release", `-DCMAKE_CUDA_COMPILER=${nvcc}`];
  if (driver) configure.push("-DDEEPR_CUDA_ARCHITECTURES=native");
  for (const args of [configure, ["--build", dir, "--target", "deepr_cuda"]])
    if (spawnSync("cmake", args, { stdio: "inherit" }).status !== 0) return skip("its build failed (see the errors above)");
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(path.join(dir, "libdeepr_cuda.so"), target);
}

// `npm install --build-from-source` (npm passes it on as npm_config_build_from_source, the flag
// prebuild-install and node-pre-gyp honour too) compiles even where a prebuilt binary loads.
const fromSource = /^(true|1)$/.test(process.env.npm_config_build_from_source ?? "");
const prebuiltError = fromSource ? undefined : loadError();
if (process.env.DEEPR_SKIP_INSTALL_BUILD !== "1" && (fromSource || prebuiltError !== undefined)) {
  const why = fromSource
    ? "--build-from-source asks for a build from source"
    : `no prebuilt binary fits ${process.platform}-${process.arch} (${prebuiltError.message.split("\n")[0]})`;
  const missing = missingTools();
  if (missing.length > 0) fail(`${why}, which needs\n${missing.map((m) => `  - ${m}`).join("\n")}`, TOOLS_HELP);
  console.error(`deepr: ${why}; building the addon from source with cmake-js (about a minute).`);
  build();
  const error = loadError();
  if (error !== undefined)
    fail(`it was built, but does not load: ${error.message}`, "Run `npm rebuild deepr --foreground-scripts` to see the whole build and its warnings.");
}
if (process.env.DEEPR_SKIP_INSTALL_BUILD !== "1") buildCudaLibrary();
