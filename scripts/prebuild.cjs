// `npm run build:prebuild` (not `prebuild`, which npm would run before every `npm run build`):
// the prebuilt binary for this platform and architecture, built with
// prebuildify and cmake-js into prebuilds/<platform>-<arch>/deepr[.glibc].node, which
// node-gyp-build finds at run time and `npm pack` ships. It builds in build-prebuild/ (through
// scripts/cmake-js-as-node-gyp.cjs), so the development build in build/, which node-gyp-build
// prefers, is left alone: delete build/ to run the tests on the prebuilt binary.
// `npm run build:prebuild -- --arch=arm64` cross-compiles on Linux x64 with Debian's aarch64 toolchain
// (apt-get install g++-aarch64-linux-gnu).
"use strict";
const { spawnSync } = require("node:child_process");
const { mkdirSync, rmSync } = require("node:fs");
const path = require("node:path");
const prebuildify = require("prebuildify");

/** GNU toolchain prefixes for the cross builds this script knows, by Node's architecture name. */
const CROSS_PREFIXES = { arm64: "aarch64-linux-gnu", x64: "x86_64-linux-gnu" };

const root = path.resolve(__dirname, "..");
const arch = process.argv.find((a) => a.startsWith("--arch="))?.slice("--arch=".length) ?? process.arch;
let stripBin = "strip";
if (arch !== process.arch) {
  const prefix = CROSS_PREFIXES[arch];
  if (process.platform !== "linux" || prefix === undefined) {
    console.error(`deepr: no cross build from ${process.platform}-${process.arch} to ${arch}; build on a ${arch} machine.`);
    process.exit(1);
  }
  if (spawnSync(`${prefix}-g++`, ["--version"]).status !== 0) {
    console.error(`deepr: the cross build for ${arch} needs ${prefix}-g++ on the PATH (Debian, Ubuntu: sudo apt-get install g++-${prefix}).`);
    process.exit(1);
  }
  // Read by the shim, which passes it on to CMake; prebuildify hands its environment down.
  process.env.DEEPR_CROSS_PREFIX = prefix;
  stripBin = `${prefix}-strip`;
}

const staging = path.join(root, "build-prebuild");
rmSync(staging, { recursive: true, force: true });
mkdirSync(staging);
prebuildify(
  {
    name: "deepr",
    arch,
    napi: true,
    strip: true,
    stripBin,
    // On Linux, glibc and musl binaries cannot load each other's; node-gyp-build picks the one for
    // this libc. Elsewhere the tag would mean nothing (prebuildify would write "glibc" on macOS too).
    tagLibc: process.platform === "linux",
    cwd: staging,
    out: root,
    nodeGyp: path.join(__dirname, "cmake-js-as-node-gyp.cjs"),
  },
  (error) => {
    if (error) {
      console.error(`deepr: the prebuild failed: ${error.message}`);
      process.exit(1);
    }
  },
);
