#!/usr/bin/env node
// prebuildify runs `<node-gyp> rebuild --target=… --devdir=… --arch=… --release` in its working
// directory and takes the first .node in build/Release there. This stands in for node-gyp: it
// builds this package with cmake-js instead, for the architecture asked, into build/ under that
// directory (scripts/prebuild.cjs points it at a staging directory, so the development build in
// the repository's build/ stays). --target and --devdir mean nothing for a Node-API build.
"use strict";
const { spawnSync } = require("node:child_process");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const arch = process.argv.find((a) => a.startsWith("--arch="))?.slice("--arch=".length) ?? process.arch;
const config = process.argv.includes("--debug") ? ["--debug"] : [];
const cmakeJs = require.resolve("cmake-js/bin/cmake-js", { paths: [root] });
// A cross build (scripts/prebuild.cjs sets DEEPR_CROSS_PREFIX): CMake in cross-compiling mode with
// the GNU cross compiler, e.g. aarch64-linux-gnu-g++.
const prefix = process.env.DEEPR_CROSS_PREFIX;
const cross = prefix
  ? ["--CDCMAKE_SYSTEM_NAME=Linux", `--CDCMAKE_SYSTEM_PROCESSOR=${prefix.split("-")[0]}`, `--CDCMAKE_CXX_COMPILER=${prefix}-g++`]
  : [];
const args = [cmakeJs, "rebuild", "--directory", root, "--out", path.resolve("build"), "--arch", arch, ...config, ...cross,
  // Links libstdc++ into the binary, so that it needs only glibc and libgcc_s (CMakeLists.txt).
  "--CDDEEPR_PORTABLE_BINARY=ON"];
process.exit(spawnSync(process.execPath, args, { stdio: "inherit" }).status ?? 1);
