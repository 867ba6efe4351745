// `npm run prebuild`: the prebuilt binary for this platform and architecture, built with
// prebuildify and cmake-js into prebuilds/<platform>-<arch>/deepr[.glibc|.musl].node, which
// node-gyp-build finds at run time and `npm pack` ships. It builds in build-prebuild/ (through
// scripts/cmake-js-as-node-gyp.cjs), so the development build in build/, which node-gyp-build
// prefers, is left alone: delete build/ to run the tests on the prebuilt binary.
"use strict";
const { mkdirSync, rmSync } = require("node:fs");
const path = require("node:path");
const prebuildify = require("prebuildify");

const root = path.resolve(__dirname, "..");
const staging = path.join(root, "build-prebuild");
rmSync(staging, { recursive: true, force: true });
mkdirSync(staging);
prebuildify(
  {
    name: "deepr",
    napi: true,
    strip: true,
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
