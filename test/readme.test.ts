// The README's TypeScript example must run as written.
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

it("runs the README example", async () => {
  const readme = await readFile(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## TypeScript"));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  expect(code).toBeDefined();
  // Inside the package folder, so `import ... from "deepr"` resolves to this package.
  const dir = join(root, "build-tests", "readme");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "example.mjs"), code!);
  const { stdout } = await promisify(execFile)(process.execPath, ["example.mjs"], { cwd: dir });
  const lines = stdout.trim().split("\n");
  expect(lines[0]).toMatch(/^epoch 1: test accuracy \d+\.\d\d %$/);
  expect(lines[1]).toMatch(/^epoch 2: test accuracy/);
  expect(lines[2]).toMatch(/^0\.9\d+ 10 2 \{ epoch: 3, batchInEpoch: 0, batchSize: 10, step: 18000 \}$/);
}, 60_000);
