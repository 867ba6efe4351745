// Helper process for the checkpoint tests.
//
//   node save-child.mjs loop SPEC_JSON PATH   builds the model and saves it over PATH again and again,
//                                             printing "ready" first; the parent kills it at random.
//   node save-child.mjs once SPEC_JSON PATH   saves once; prints {"ok":true} or {"ok":false,"name","code","message"}.
//
// With DEEPR_TEST_SETUID=<uid> it drops root first (so that permission bits apply to it).
import { Model } from "../../dist/index.js";

const [mode, specJson, path] = process.argv.slice(2);
if (process.env.DEEPR_TEST_SETUID) process.setuid(Number(process.env.DEEPR_TEST_SETUID));
const model = Model.create(JSON.parse(specJson));

if (mode === "loop") {
  process.stdout.write("ready\n");
  for (;;) await model.save(path);
} else {
  try {
    await model.save(path);
    process.stdout.write(JSON.stringify({ ok: true }) + "\n");
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, name: e.name, code: e.cause?.code ?? e.code, message: e.message }) + "\n");
  }
}
