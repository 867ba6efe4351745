// Whether this machine's python3 runs and imports the given modules ("numpy, scipy"): the tests
// that cross-check with Python skip, saying why, where it does not.
import { spawnSync } from "node:child_process";

export function pythonImports(modules: string): boolean {
  return spawnSync("python3", ["-c", `import ${modules}`], { stdio: "ignore" }).status === 0;
}
