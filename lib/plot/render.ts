// Renders a Vega-Lite specification to SVG in Node, without a browser. vega and vega-lite are not
// dependencies of the package (only plotting needs them): they are imported on first use, and a
// missing one is a clear error that says how to install them.
import { writeFile } from "node:fs/promises";

/** A Vega-Lite specification (https://vega.github.io/vega-lite/docs/spec.html). */
export type VegaLiteSpec = Record<string, unknown>;

const INSTALL = "npm install vega vega-lite";

interface Renderer {
  toSvg(spec: VegaLiteSpec): Promise<string>;
}

let renderer: Promise<Renderer> | undefined;

/** vega and vega-lite, imported once; rejects with what to install when either is missing. */
export function loadRenderer(): Promise<Renderer> {
  renderer ??= importRenderer();
  renderer.catch(() => (renderer = undefined));  // a later call retries (after an install, say)
  return renderer;
}

async function importRenderer(): Promise<Renderer> {
  let vega: typeof import("vega"), vegaLite: typeof import("vega-lite");
  try {
    [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") throw e;
    throw new Error(`plotting needs the packages vega and vega-lite, which deepr does not install: run \`${INSTALL}\` and try again`);
  }
  return {
    async toSvg(spec) {
      const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
      const view = new vega.View(vega.parse(compiled), { renderer: "none" });
      try {
        return await view.toSVG();
      } finally {
        view.finalize();
      }
    },
  };
}

/** The SVG text of `spec`. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  return (await loadRenderer()).toSvg(spec);
}

/** Renders `spec` and writes it to `path` as SVG. */
export async function writeSvg(path: string, spec: VegaLiteSpec): Promise<void> {
  await writeFile(path, await renderSvg(spec));
}
