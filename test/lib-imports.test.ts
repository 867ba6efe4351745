// The modules of lib/ import each other without a cycle: every module can be read, and loaded,
// knowing only the modules below it. The graph holds every import and re-export with a relative
// path, read with the TypeScript parser; an edge is type-only when the compiled JavaScript drops
// it (`import type`, or only `type` names).
//
// One kind of cycle is allowed, through type-only edges: data/dataset.ts is both the Dataset type
// and the Dataset.fromArrays, .split and .normalize helpers (one exported name for both), so the
// modules implementing those helpers import the type back.
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";

const lib = join(import.meta.dirname, "..", "lib");
const DATASET_HELPERS = ["data/arrays.ts", "data/normalize.ts", "data/split.ts"];

interface Edge {
  /** The imported module, as a path relative to lib/. */
  module: string;
  typeOnly: boolean;
}
/** Module (path relative to lib/) -> its imports. */
type ImportGraph = Map<string, Edge[]>;

function imports(source: ts.SourceFile): { specifier: string; typeOnly: boolean }[] {
  const found: { specifier: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const typeOnly = !!clause && (clause.isTypeOnly ||
        (!clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause;
      const typeOnly = node.isTypeOnly || (!!named && ts.isNamedExports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(node.arguments[0])) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

async function importGraph(): Promise<ImportGraph> {
  const files = (await readdir(lib, { recursive: true })).filter((f) => f.endsWith(".ts")).sort();
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const source = ts.createSourceFile(file, await readFile(join(lib, file), "utf8"), ts.ScriptTarget.ES2022, true);
    const edges = imports(source)
      .filter((i) => i.specifier.startsWith("."))
      .map((i) => ({ module: relative(lib, resolve(lib, dirname(file), i.specifier.replace(/\.js$/, ".ts"))), typeOnly: i.typeOnly }));
    graph.set(file, edges);
  }
  return graph;
}

/** The graph without the edges for which `drop(from, edge)` holds. */
function without(graph: ImportGraph, drop: (from: string, edge: Edge) => boolean): ImportGraph {
  return new Map([...graph].map(([from, edges]) => [from, edges.filter((e) => !drop(from, e))]));
}

/** One cycle of the graph as the list of modules along it (first = last), or undefined. */
function findCycle(graph: ImportGraph): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (module: string): string[] | undefined => {
    const at = path.indexOf(module);
    if (at >= 0) return [...path.slice(at), module];
    if (done.has(module)) return undefined;
    path.push(module);
    for (const next of graph.get(module) ?? []) {
      const cycle = visit(next.module);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(module);
    return undefined;
  };
  for (const module of graph.keys()) {
    const cycle = visit(module);
    if (cycle) return cycle;
  }
  return undefined;
}

const loadingCycle = (graph: ImportGraph) => findCycle(without(graph, (_, e) => e.typeOnly));
const anyCycle = (graph: ImportGraph) =>
  findCycle(without(graph, (from, e) => DATASET_HELPERS.includes(from) && e.module === "data/dataset.ts" && e.typeOnly));

describe("the imports of lib/", () => {
  let graph: ImportGraph;
  beforeAll(async () => {
    graph = await importGraph();
  });
  const modulesOf = (from: string) => graph.get(from)?.map((e) => e.module);

  it("name modules that exist, and the graph holds the imports it should", () => {
    const missing = [...graph].flatMap(([from, edges]) => edges.filter((e) => !existsSync(join(lib, e.module))).map((e) => `${from} -> ${e.module}`));
    expect(missing).toEqual([]);
    // Imports, type-only imports and re-exports are all edges.
    expect(graph.get("model.ts")).toEqual(expect.arrayContaining([
      { module: "checkpoint/model-checkpoint.ts", typeOnly: false },
      { module: "model-types.ts", typeOnly: true },
      { module: "non-finite-error.ts", typeOnly: false },
    ]));
    expect(graph.get("index.ts")).toEqual(expect.arrayContaining([{ module: "snapshot.ts", typeOnly: true }]));
    for (const helper of DATASET_HELPERS) expect(modulesOf("data/dataset.ts")).toContain(helper);
  });

  it("form no cycle through the imports that load modules", () => {
    expect(loadingCycle(graph)).toBeUndefined();
  });

  it("form no cycle with the type-only imports, but for the Dataset helpers' import of the Dataset type", () => {
    expect(anyCycle(graph)).toBeUndefined();
  });

  it("would show the cycle of a checkpoint module that imports the Model class, even for its type only", () => {
    const importing = (typeOnly: boolean) =>
      new Map(graph).set("checkpoint/model-checkpoint.ts", [...graph.get("checkpoint/model-checkpoint.ts")!, { module: "model.ts", typeOnly }]);
    // The modules along the cycle, whichever of them the search entered it by.
    const members = (cycle: string[] | undefined) => cycle?.slice(1).sort();
    expect(members(loadingCycle(importing(false)))).toEqual(["checkpoint/model-checkpoint.ts", "model.ts"]);
    expect(loadingCycle(importing(true))).toBeUndefined();
    expect(members(anyCycle(importing(true)))).toEqual(["checkpoint/model-checkpoint.ts", "model.ts"]);
  });
});
