// The benchmark's Python baselines import helpers from each other (py_common, dense_torch). CI
// has no PyTorch to run them, so a helper renamed or removed in one would only show at the next
// `npm run bench`. Python's own parser checks here that every name a baseline imports from a
// sibling module is defined at that module's top level.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { pythonImports } from "./helpers/python.js";

const bench = join(import.meta.dirname, "..", "bench");

const hasPython = pythonImports("ast");
if (!hasPython) console.log("skipping the bench's Python import check: python3 is not available here");

// Prints {"checked": names looked up, "missing": ["file: module.name", ...]}.
const check = `
import ast, json, pathlib, sys

bench = pathlib.Path(sys.argv[1])

def top_level(path):
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names

checked, missing = 0, []
for path in sorted(bench.glob("*.py")):
    for node in ast.walk(ast.parse(path.read_text())):
        sibling = bench / f"{node.module}.py" if isinstance(node, ast.ImportFrom) and node.module else None
        if sibling and sibling.exists():
            defined = top_level(sibling)
            for alias in node.names:
                checked += 1
                if alias.name not in defined:
                    missing.append(f"{path.name}: {node.module}.{alias.name}")
print(json.dumps({"checked": checked, "missing": missing}))
`;

it.runIf(hasPython)("every name a Python baseline imports from a sibling module is defined there", () => {
  const result = JSON.parse(execFileSync("python3", ["-c", check, bench], { encoding: "utf8" }));
  expect(result.missing).toEqual([]);
  expect(result.checked).toBeGreaterThan(40); // the baselines' imports were all found
});
