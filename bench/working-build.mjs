// Whether the working tree's build is current: a comparison made with a dist/ or an addon older
// than their sources would measure or test code that is no longer there.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./common.mjs";

/** Newest modification time of the files under `dir`, in ms. */
function newestUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newestUnder(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
}

/** Why the working tree's dist/ would not run its lib/ (missing or older), or undefined. */
export function staleDist() {
  const cli = join(ROOT, "dist", "cli.js");
  return !existsSync(cli) || statSync(cli).mtimeMs < newestUnder(join(ROOT, "lib")) ? "dist/ is missing or older than lib/: run `npm run build`" : undefined;
}

/** Why the working tree's addon would not run its cpp/ and binding/ (missing or older), or undefined. */
export function staleAddon() {
  const addon = join(ROOT, "build", "Release", "deepr.node");
  const sources = Math.max(newestUnder(join(ROOT, "cpp")), newestUnder(join(ROOT, "binding")), statSync(join(ROOT, "CMakeLists.txt")).mtimeMs);
  return !existsSync(addon) || statSync(addon).mtimeMs < sources ? "build/Release/deepr.node is missing or older than cpp/, binding/ or CMakeLists.txt: run `npm run build:native`" : undefined;
}
