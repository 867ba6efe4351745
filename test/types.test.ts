// The published types: the declarations tsc emits with the package's tsconfig (what
// `npm run build` puts in dist/), laid out as an installed package and read through its
// package.json, as a TypeScript user's compiler reads them.
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

// A Node user's strict settings; @types/node comes from this repository.
const userOptions: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  types: ["node"],
  typeRoots: [join(root, "node_modules", "@types")],
};

let project: string;
let dist: string;
let user: { program: ts.Program; checker: ts.TypeChecker; exports: ts.Symbol[] };

function diagnosticsText(diagnostics: readonly ts.Diagnostic[]): string {
  return ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => project, getNewLine: () => "\n" });
}

const aliased = (checker: ts.TypeChecker, symbol: ts.Symbol) =>
  symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), "deepr-types-"));
  const installed = join(project, "node_modules", "deepr");
  dist = join(installed, "dist");
  await mkdir(installed, { recursive: true });
  await copyFile(join(root, "package.json"), join(installed, "package.json"));
  await writeFile(join(project, "package.json"), JSON.stringify({ type: "module" }));

  const config = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(diagnosticsText([d]));
    },
  })!;
  const build = ts.createProgram(config.fileNames, { ...config.options, outDir: dist, emitDeclarationOnly: true, sourceMap: false });
  const emitted = build.emit();
  const errors = [...ts.getPreEmitDiagnostics(build), ...emitted.diagnostics];
  if (errors.length > 0) throw new Error(`tsc failed on lib/:\n${diagnosticsText(errors)}`);

  // A user's project: one file re-exporting the package, one holding the README's example.
  const readme = await readFile(join(root, "README.md"), "utf8");
  const example = /```js\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf("## TypeScript")))?.[1];
  if (example === undefined) throw new Error("README.md has no ```js block under ## TypeScript");
  await writeFile(join(project, "reexport.ts"), 'export * from "deepr";\n');
  await writeFile(join(project, "readme-example.ts"), example);
  const program = ts.createProgram([join(project, "reexport.ts"), join(project, "readme-example.ts")], userOptions);
  const checker = program.getTypeChecker();
  const index = program.getSourceFile(join(dist, "index.d.ts"));
  if (!index) throw new Error(`"deepr" did not resolve to ${join(dist, "index.d.ts")}`);
  user = { program, checker, exports: checker.getExportsOfModule(checker.getSymbolAtLocation(index)!) };
});

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

async function declarationFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((f) => f.endsWith(".d.ts")).map((f) => join(dir, f));
}

describe("the published types", () => {
  it("export every type of the package that a public signature names", () => {
    const { checker, exports } = user;
    const exported = new Set(exports.map((s) => aliased(checker, s)));
    const ours = (symbol: ts.Symbol) =>
      !(symbol.flags & ts.SymbolFlags.TypeParameter) &&
      (symbol.declarations ?? []).some((d) => d.getSourceFile().fileName.startsWith(dist));

    // Walks the declarations of every export, and of every package type they name, in turn.
    const reached = new Map<ts.Symbol, string>();
    const queue = [...exported].filter(ours);
    const visit = (node: ts.Node, from: string): void => {
      const modifiers = ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined;
      if (modifiers?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return;
      const name = ts.isTypeReferenceNode(node) ? node.typeName
        : ts.isExpressionWithTypeArguments(node) ? node.expression
        : ts.isTypeQueryNode(node) ? node.exprName
        : undefined;
      const target = name && checker.getSymbolAtLocation(name);
      if (target) {
        const symbol = aliased(checker, target);
        if (ours(symbol) && !reached.has(symbol)) {
          reached.set(symbol, from);
          queue.push(symbol);
        }
      }
      ts.forEachChild(node, (child) => visit(child, from));
    };
    for (let symbol = queue.pop(); symbol; symbol = queue.pop())
      for (const declaration of symbol.declarations ?? []) visit(declaration, symbol.name);

    const unexported = [...reached].filter(([symbol]) => !exported.has(symbol)).map(([symbol, from]) => `${symbol.name} (used by ${from})`);
    expect(unexported).toEqual([]);
    // The walk reaches the option types through Model's signatures, so it follows them at all.
    expect([...reached.keys()].map((s) => s.name)).toEqual(expect.arrayContaining(["NormalizedModelOptions", "LayerArrays", "Dataset"]));
  });

  it("leave out every member that lib/ marks @internal", async () => {
    // The @internal members, found in the sources.
    const internal: { container: string; member: string }[] = [];
    const sources = (await readdir(join(root, "lib"), { recursive: true })).filter((f) => f.endsWith(".ts"));
    for (const file of sources) {
      const source = ts.createSourceFile(file, await readFile(join(root, "lib", file), "utf8"), ts.ScriptTarget.ES2022, true);
      const visit = (node: ts.Node): void => {
        const tagged = ts.getJSDocTags(node).some((tag) => tag.tagName.text === "internal");
        if (tagged && (ts.isClassDeclaration(node.parent) || ts.isInterfaceDeclaration(node.parent)) && node.parent.name)
          internal.push({ container: node.parent.name.text, member: (ts.getNameOfDeclaration(node as ts.Declaration) as ts.Identifier).text });
        ts.forEachChild(node, visit);
      };
      visit(source);
    }

    const { checker, exports } = user;
    for (const { container, member } of internal) {
      const exported = exports.find((s) => s.name === container);
      if (!exported) continue; // a type the package does not export has no public member at all
      const symbol = aliased(checker, exported);
      const statics = checker.getTypeOfSymbol(symbol).getProperties().map((p) => p.name);
      const instance = checker.getDeclaredTypeOfSymbol(symbol).getProperties().map((p) => p.name);
      expect([...statics, ...instance], `${container}.${member}`).not.toContain(member);
    }
    for (const file of await declarationFiles(dist))
      expect(await readFile(file, "utf8"), relative(project, file)).not.toContain("@internal");
  });

  it("compile with --strict, and so does the README's TypeScript example", () => {
    // The package's declarations that the user's files read, and those files; @types/node only as
    // far as they use it (checking all of it would take most of this test's time).
    const { program } = user;
    const files = program.getSourceFiles().filter((f) => f.fileName.startsWith(project));
    expect(files.map((f) => relative(project, f.fileName))).toEqual(
      expect.arrayContaining(["readme-example.ts", "reexport.ts", join("node_modules", "deepr", "dist", "index.d.ts"), join("node_modules", "deepr", "dist", "model.d.ts")]),
    );
    const diagnostics = [
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...files.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
    ];
    expect(diagnosticsText(diagnostics)).toBe("");
  });
});
