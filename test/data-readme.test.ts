// The README's "Your own data" example must run as written, on files made here for it.
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { npyFile } from "./helpers/npy-file.js";

const root = join(import.meta.dirname, "..");

it("runs the README's own-data example", async () => {
  const readme = await readFile(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Your own data"));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  expect(code).toBeDefined();
  const dir = join(root, "build-tests", "own-data");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "example.mjs"), code! + "console.log(csv.train.classNames.join(), csv.test.count, npy.train.count, npy.train.shape.join('x'), Math.max(...npy.train.inputs));\n");
  const species = ["setosa", "versicolor", "virginica"];
  await writeFile(join(dir, "iris.csv"), "sepal,petal,species\n" + Array.from({ length: 30 }, (_, n) => `${5 + (n % 7) / 10},${1 + (n % 5) / 10},${species[n % 3]}`).join("\n") + "\n");
  await writeFile(join(dir, "x.npy"), npyFile("|u1", [20, 2, 2], Uint8Array.from({ length: 80 }, (_, i) => (i * 37) % 256)));
  await writeFile(join(dir, "y.npy"), npyFile("<i8", [20], new Uint8Array(BigInt64Array.from({ length: 20 }, (_, n) => BigInt(n % 2)).buffer)));
  const { stdout } = await promisify(execFile)(process.execPath, ["example.mjs"], { cwd: dir });
  const lines = stdout.trim().split("\n");
  expect(lines[0]).toMatch(/^3 2 Float32Array\(2\) \[ -?\d/);
  expect(lines[1]).toMatch(/^setosa,versicolor,virginica 6 18 2x2 (1|0\.9\d+)$/);
}, 60_000);
