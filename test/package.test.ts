// The package as a registry user gets it: `npm pack`ed, then installed from the tarball into a
// fresh project outside this repository, offline, which builds the addon from source. This is the
// suite's one full install (a build of the addon: about 20 s to a minute on 2 cores). The install
// script's failures are checked with `npm rebuild deepr` in that project, which runs the same
// script without extracting anything again, and once with a fresh `npm install`.
// `npm test` runs this file on its own after the rest of the suite (`npm run test:package`), so
// that the compiler does not take the CPU from the tests that time the event loop.
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Model } from "../lib/index.js";
import { root } from "./helpers/child.js";
import { barePath, newProject, onPath, pack, run, userEnv, type Run } from "./helpers/package.js";
import { blobs } from "./helpers/synthetic.js";

let scratch: string;
let tarball: string;
let packed: string[];
let project: string;
let install: Run;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "deepr-package-"));
  ({ tarball, files: packed } = await pack(scratch));
  project = await newProject(scratch, "user-project", tarball);
  // --build-from-source: compile even when the tarball holds a prebuilt binary for this platform.
  // Two compiler jobs at most, as everything run on the 2-core CI machine (Ninja would start 4).
  // --foreground-scripts shows the install script's output.
  const args = ["install", "--offline", "--no-audit", "--no-fund", "--build-from-source", "--foreground-scripts"];
  install = await run("npm", args, project, { ...userEnv, CMAKE_BUILD_PARALLEL_LEVEL: "2" });
}, 600_000);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("the npm package", () => {
  it("holds the built JavaScript and types, the sources the addon builds from, and the documents", async () => {
    const tracked = (await run("git", ["ls-files", "lib", "cpp", "binding", "cuda"], root, userEnv)).stdout.trim().split("\n");
    const dist = tracked
      .filter((f) => f.startsWith("lib/"))
      .flatMap((f) => [".js", ".js.map", ".d.ts"].map((ext) => f.replace(/^lib\//, "dist/").replace(/\.ts$/, ext)));
    const expected = [
      "CMakeLists.txt",
      "LICENSE",
      "README.md",
      "RELIABILITY.md",
      "package.json",
      "scripts/install.cjs",
      ...dist,
      // lib/ holds the TypeScript sources the source maps point at.
      ...tracked.filter((f) => !f.startsWith("cpp/test/")),
      // Prebuilt binaries, when a release step has put them there (not tracked).
      ...(existsSync(join(root, "prebuilds")) ? (await readdir(join(root, "prebuilds"), { recursive: true, withFileTypes: true })) : [])
        .filter((e) => e.isFile())
        .map((e) => relative(root, join(e.parentPath, e.name))),
    ];
    expect(packed).toEqual(expected.sort());
  });

  it("installs offline from the tarball and builds the addon from source", () => {
    expect(install.stderr, "npm's cache lacks a dependency of deepr: run `npm install` in this repository first").not.toMatch(/ENOTCACHED/);
    expect(install.code, install.stderr).toBe(0);
    expect(existsSync(join(project, "node_modules", "deepr", "build", "Release", "deepr.node"))).toBe(true);
    expect(install.stderr).toMatch(/^deepr: --build-from-source asks for a build from source; building the addon from source with cmake-js \(about a minute\)\.$/m);
    // No GPU driver on the machines that run this: the CUDA device library is skipped, in one line that says why.
    expect(install.stderr).toMatch(/^deepr: the CUDA device library is not built: (nvcc is not on the PATH|no NVIDIA driver is loaded here).*; training runs on the CPU\.$/m);
  });

  it("trains through `import { Model } from \"deepr\"`, exactly as this repository's build does", async () => {
    const data = blobs(200, 16, 4);
    const spec = { layers: [16, 32, 4], connectivity: 0.5, seed: 7 };
    const fit = { epochs: 3, lr: 0.1, batchSize: 10 };
    await writeFile(join(project, "data.json"), JSON.stringify({ ...data, inputs: [...data.inputs], labels: [...data.labels] }));
    await writeFile(
      join(project, "train.mjs"),
      `import { readFileSync } from "node:fs";
import { Model } from "deepr";
const raw = JSON.parse(readFileSync("data.json", "utf8"));
const data = { ...raw, inputs: Float32Array.from(raw.inputs), labels: Int32Array.from(raw.labels) };
const model = Model.create(${JSON.stringify(spec)});
const history = await model.fit(data, ${JSON.stringify(fit)});
const { accuracy } = await model.evaluate(data);
const layers = (await model.exportLayers()).map((l) => ({ positions: [...l.positions], theta: [...l.theta], sign: [...l.sign] }));
console.log(JSON.stringify({ loss: history.map((e) => e.loss), accuracy, layers }));
`,
    );
    const trained = await run(process.execPath, ["train.mjs"], project, userEnv);
    expect(trained.code, trained.stderr).toBe(0);
    const installed = JSON.parse(trained.stdout);

    const model = Model.create(spec);
    const history = await model.fit(data, fit);
    const { accuracy } = await model.evaluate(data);
    const layers = (await model.exportLayers()).map((l) => ({ positions: [...l.positions], theta: [...l.theta], sign: [...l.sign] }));
    model.dispose();
    expect(installed).toEqual({ loss: history.map((e) => e.loss), accuracy, layers });
    expect(accuracy).toBeGreaterThan(0.9); // the data are learnable: 4 classes, chance is 0.25
  });

  it("runs `npx deepr --help`", async () => {
    const help = await run("npx", ["--offline", "deepr", "--help"], project, userEnv);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage:/m);
    expect(help.stdout).toMatch(/deepr train/);
  });

  describe("without its addon", () => {
    // The local build and the prebuilt binaries (when the tarball has them) set aside.
    const installed = (name: string) => join(project, "node_modules", "deepr", name);
    const binaries = ["build", "prebuilds"];
    const build = () => installed("build");
    beforeAll(async () => {
      for (const name of binaries) await rm(installed(`${name}-aside`), { recursive: true, force: true });
      for (const name of binaries) if (existsSync(installed(name))) await rename(installed(name), installed(`${name}-aside`));
    });
    afterAll(async () => {
      for (const name of binaries) {
        await rm(installed(name), { recursive: true, force: true });
        if (existsSync(installed(`${name}-aside`))) await rename(installed(`${name}-aside`), installed(name));
      }
    });

    it("says which binaries it tried, why each failed, and how to build one", async () => {
      const loaded = await run(process.execPath, ["-e", 'import("deepr").then(({ Model }) => Model.create({ layers: [2, 2], connectivity: 1 }))'], project, userEnv);
      expect(loaded.code).not.toBe(0);
      expect(loaded.stderr).toMatch(/deepr: the native addon could not be loaded for \S+ \(Node [\d.]+\)\. The binaries tried:\n/);
      expect(loaded.stderr).toMatch(/\n {2}build\/Release\/deepr\.node: not there \(no local build\)\n {2}prebuilds\/: not there \(this copy of deepr ships no prebuilt binaries\)\n/);
      expect(loaded.stderr).toMatch(/run `npm rebuild deepr --foreground-scripts` in your project/);
      expect(loaded.stderr).toMatch(/Or set DEEPR_BINARY=\/path\/to\/deepr\.node/);
    });

    it("with DEEPR_SKIP_INSTALL_BUILD=1, the install script builds nothing and succeeds", async () => {
      const bin = await barePath(join(scratch, "bin-skip"), {});
      const rebuild = await run(join(bin, "npm"), ["rebuild", "deepr"], project, { ...userEnv, PATH: bin, DEEPR_SKIP_INSTALL_BUILD: "1" });
      expect(rebuild.code, rebuild.stderr).toBe(0);
      expect(existsSync(build())).toBe(false);
    });

    it("`npm rebuild deepr` fails, naming the tool, when CMake is too old", async () => {
      const cmake = join(scratch, "old-cmake");
      await writeFile(cmake, "#!/bin/sh\necho 'cmake version 3.10.2'\n", { mode: 0o755 });
      const bin = await barePath(join(scratch, "bin-old-cmake"), { cmake, "g++": onPath("g++"), make: onPath("make") });
      const rebuild = await run(join(bin, "npm"), ["rebuild", "deepr"], project, { ...userEnv, PATH: bin });
      expect(rebuild.code).not.toBe(0);
      expect(rebuild.stderr).toMatch(/- CMake >= 3\.18: found cmake version 3\.10\.2\n/);
      expect(rebuild.stderr).not.toMatch(/C\+\+17 compiler:|build tool:/);
    });

    it("`npm rebuild deepr` fails, saying so, when the build fails", async () => {
      // CMake compiles with $CXX: one that answers --version but compiles nothing fails its compiler check.
      const cxx = join(scratch, "broken-c++");
      await writeFile(cxx, '#!/bin/sh\n[ "$1" = --version ] && echo "broken 1.0" && exit 0\nexit 1\n', { mode: 0o755 });
      const bin = await barePath(join(scratch, "bin-broken"), { cmake: onPath("cmake"), "g++": onPath("g++"), make: onPath("make") });
      const rebuild = await run(join(bin, "npm"), ["rebuild", "deepr"], project, { ...userEnv, PATH: bin, CXX: cxx });
      expect(rebuild.code).not.toBe(0);
      expect(rebuild.stderr).toMatch(/deepr: no prebuilt binary fits \S+ \(No native build was found for platform=.*\); building the addon from source with cmake-js/);
      expect(rebuild.stderr).toMatch(/is not able to compile a simple test program/); // CMake's reason, shown by npm
      expect(rebuild.stderr).toMatch(/deepr: the native addon cannot be built: the build failed \(see the errors above\)/);
      expect(existsSync(join(build(), "Release", "deepr.node"))).toBe(false);
    });
  });

  it("`npm install --build-from-source` fails, naming every missing tool and how to install them", async () => {
    const bin = await barePath(join(scratch, "bin-bare"), {});
    const args = ["install", "--offline", "--no-audit", "--no-fund", "--build-from-source"];
    const bare = await run(join(bin, "npm"), args, await newProject(scratch, "bare-machine", tarball), { ...userEnv, PATH: bin });
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toMatch(/deepr: the native addon cannot be built: --build-from-source asks for a build from source, which needs\n/);
    expect(bare.stderr).toMatch(/- CMake >= 3\.18: `cmake` is not on the PATH/);
    expect(bare.stderr).toMatch(/- a C\+\+17 compiler: neither g\+\+ nor clang\+\+ is on the PATH/);
    expect(bare.stderr).toMatch(/- a build tool: neither make nor ninja is on the PATH/);
    expect(bare.stderr).toMatch(/sudo apt-get install cmake g\+\+ make/);
  });
});
