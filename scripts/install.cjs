// npm install hook: use a prebuilt binary when one fits this platform, otherwise build from
// source with cmake-js. It never downloads anything.
"use strict";
const { spawnSync } = require("node:child_process");
const path = require("node:path");

const root = path.resolve(__dirname, "..");

function prebuildLoads() {
  try {
    require("node-gyp-build")(root);
    return true;
  } catch {
    return false;
  }
}

if (process.env.DEEPR_SKIP_INSTALL_BUILD !== "1" && !prebuildLoads()) {
  let cmakeJs;
  try {
    cmakeJs = require.resolve("cmake-js/bin/cmake-js", { paths: [root] });
  } catch {
    console.warn(
      "deepr: no prebuilt binary fits this platform and cmake-js is not installed, so the addon was not built.\n" +
        "deepr: to build from source: npm install cmake-js && npx cmake-js build (needs CMake >= 3.18 and a C++17 compiler).",
    );
    process.exit(0);
  }
  const result = spawnSync(process.execPath, [cmakeJs, "build"], { cwd: root, stdio: "inherit" });
  process.exit(result.status ?? 1);
}
