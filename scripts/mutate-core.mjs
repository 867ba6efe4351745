#!/usr/bin/env node
// Mutation testing of the C++ core: applies each one-line mutant of scripts/core-mutants.json to a
// copy of cpp/ in a temporary directory, rebuilds the core tests there and runs them. A mutant is
// killed when the tests fail (or crash, or hang past the time limit). Fails when a mutant survives
// that the list does not mark as equivalent, when one marked equivalent is killed after all, when a
// mutant's original text is not found exactly once (the list has gone out of sync with the code),
// or when a mutant does not compile.
//
//   node scripts/mutate-core.mjs                 every mutant
//   node scripts/mutate-core.mjs noise-per-layer sign-ignores-layer   only these (by id)
//
// One build directory, built incrementally: each mutant costs the recompilation of the files that
// include the mutated one, plus the test run. DEEPR_MUTATE_JOBS sets the build's parallelism (2).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const jobs = process.env.DEEPR_MUTATE_JOBS ?? '2';
const testTimeoutMs = 120_000;  // the tests take about 3 s; a mutant that loops forever is killed here

class Abort extends Error {}
let work;
let exitCode = 1;
try {
  exitCode = main();
} catch (e) {
  if (!(e instanceof Abort)) throw e;
  console.error(`mutate-core: ${e.message}`);
} finally {
  if (work) rmSync(work, { recursive: true, force: true });
}
process.exit(exitCode);

function main() {
  const all = JSON.parse(readFileSync(join(root, 'scripts/core-mutants.json'), 'utf8'));
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((id) => !all.some((m) => m.id === id));
  if (unknown.length > 0) fail(`no mutant with id ${unknown.join(', ')} in scripts/core-mutants.json`);
  const mutants = wanted.length > 0 ? all.filter((m) => wanted.includes(m.id)) : all;

  // Every mutant's original text must occur exactly once in its file.
  const problems = [];
  const ids = new Set();
  for (const m of all) {
    if (ids.has(m.id)) problems.push(`${m.id}: the id is used twice`);
    ids.add(m.id);
    let source;
    try {
      source = readFileSync(join(root, 'cpp', m.file), 'utf8');
    } catch {
      problems.push(`${m.id}: cpp/${m.file} does not exist`);
      continue;
    }
    const found = source.split(m.original).length - 1;
    if (found !== 1) problems.push(`${m.id}: the original text occurs ${found} times in cpp/${m.file} (must be once): ${m.original}`);
    if (m.original === m.replacement) problems.push(`${m.id}: the replacement equals the original`);
    if (/\n/.test(m.original + m.replacement)) problems.push(`${m.id}: a mutant changes one line`);
  }
  if (problems.length > 0) fail(`scripts/core-mutants.json is out of sync with cpp/:\n  ${problems.join('\n  ')}`);

  work = mkdtempSync(join(tmpdir(), 'deepr-mutate-'));
  const started = Date.now();
  cpSync(join(root, 'cpp'), join(work, 'cpp'), { recursive: true });
  cpSync(join(root, 'CMakeLists.txt'), join(work, 'CMakeLists.txt'));
  const build = join(work, 'build');
  run('cmake', ['-S', work, '-B', build, '-DDEEPR_CORE_TESTS=ON', '-DCMAKE_BUILD_TYPE=Release']);
  if (!compile(build)) fail('the unmutated core does not build');
  const baseline = runTests(build);
  if (baseline.status !== 'passed') fail(`the unmutated core tests do not pass (${baseline.detail})`);
  console.log(`mutate-core: baseline built and passed in ${seconds(started)} s; ${mutants.length} mutants`);

  // Mutants of the same file one after another: restoring a file costs one more recompilation.
  const order = [...mutants].sort((a, b) => a.file.localeCompare(b.file));
  const results = [];
  for (const m of order) {
    const path = join(work, 'cpp', m.file);
    const original = readFileSync(path, 'utf8');
    const t0 = Date.now();
    writeFileSync(path, original.replace(m.original, () => m.replacement));
    let result;
    try {
      result = compile(build) ? runTests(build) : { status: 'does not compile', detail: '' };
    } finally {
      writeFileSync(path, original);
    }
    const killed = result.status === 'killed';
    const verdict =
      result.status === 'does not compile' ? 'ERROR: does not compile'
      : m.equivalent ? (killed ? 'ERROR: marked equivalent but killed' : 'equivalent')
      : killed ? 'killed' : 'SURVIVED';
    results.push({ ...m, verdict, detail: result.detail });
    console.log(`  ${verdict.padEnd(12)} ${m.id.padEnd(34)} ${(seconds(t0) + ' s').padStart(7)}  ${result.detail || m.equivalent || ''}`);
  }

  const bad = results.filter((r) => r.verdict === 'SURVIVED' || r.verdict.startsWith('ERROR'));
  const killed = results.filter((r) => r.verdict === 'killed').length;
  const equivalent = results.filter((r) => r.verdict === 'equivalent').length;
  console.log(
    `mutate-core: ${killed} killed of ${results.length - equivalent} non-equivalent mutants ` +
      `(${equivalent} equivalent), ${bad.length} problem(s), ${seconds(started)} s in all`,
  );
  for (const r of bad) console.log(`  ${r.verdict}: ${r.id} (cpp/${r.file}): ${r.description}`);
  return bad.length === 0 ? 0 : 1;
}

function compile(build) {
  return spawnSync('cmake', ['--build', build, '--target', 'deepr_core_tests', '-j', jobs], { encoding: 'utf8' }).status === 0;
}

// 'passed', or 'killed' with what killed it: the failing tests in the order they ran, a crash or the
// time limit.
function runTests(build) {
  const r = spawnSync(join(build, 'deepr_core_tests'), [], {
    encoding: 'utf8',
    timeout: testTimeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 64 << 20,
  });
  if (r.status === 0) return { status: 'passed', detail: '' };
  const failed = [...(r.stdout ?? '').matchAll(/^FAIL (\S+)/gm)].map((m) => m[1]);
  if (failed.length > 0) return { status: 'killed', detail: `failing tests: ${failed.join(', ')}` };
  if (r.error?.code === 'ETIMEDOUT') return { status: 'killed', detail: `hung past ${testTimeoutMs / 1000} s` };
  const passed = /^ok {2}(\S+)\s*$/gm;
  let where = 'in the first test';
  for (let m; (m = passed.exec(r.stdout ?? '')); ) where = `in the test after ${m[1]}`;
  return { status: 'killed', detail: `crashed (${r.signal ?? `exit ${r.status}`}) ${where}` };
}

function run(command, args) {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.status !== 0) fail(`${command} ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
}

function seconds(since) {
  return ((Date.now() - since) / 1000).toFixed(1);
}

function fail(message) {
  throw new Abort(message);
}
