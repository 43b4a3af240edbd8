#!/usr/bin/env node
// Runs every compiled test file of the repository with node's test runner, one file at a time
// (tests share the machine's runtimes, and the leak checks after each file must only see that
// file's leftovers). Prints the spec report, then one closing line `N passed, N failed`.
//
//   node scripts/test.mjs                 all tests
//   node scripts/test.mjs conformance     only files whose path contains "conformance"
//   node scripts/test.mjs --only X        same as above
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2).filter((a) => a !== '--only');

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(p);
    else if (entry.name.endsWith('.test.js') && p.includes('/dist/')) yield p;
  }
}

const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
const files = workspaces
  .flatMap((w) => {
    const d = join(root, w, 'dist');
    try {
      statSync(d);
    } catch {
      return [];
    }
    return [...walk(d)];
  })
  .filter((f) => filters.every((x) => relative(root, f).includes(x)))
  .sort();

if (files.length === 0) {
  console.error(`no test files matched ${filters.join(' ') || '(all)'}; did the build run?`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// The lint (typescript-eslint with no-floating-promises) is part of the whole suite, counted as one test.
let lintPassed = 0;
let lintFailed = 0;
if (filters.length === 0) {
  console.log('lint: eslint .');
  const lint = spawnSync(join(root, 'node_modules/.bin/eslint'), ['.'], { stdio: 'inherit', cwd: root });
  if (lint.status === 0) lintPassed = 1;
  else lintFailed = 1;
  console.log(lint.status === 0 ? 'lint: ok' : 'lint: FAILED (see above)');
}

// The machine-readable report goes to one fixed, git-ignored place (not a temp dir that a killed
// run would leave behind); each run overwrites it.
const tapDir = join(root, 'node_modules', '.cache', 'tartarus-test');
mkdirSync(tapDir, { recursive: true });
const tap = join(tapDir, `report-${process.pid}.tap`);
const res = spawnSync(
  process.execPath,
  [
    '--enable-source-maps',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { stdio: 'inherit', cwd: root, env: { ...process.env, TARTARUS_REPO_ROOT: root } },
);
let report = '';
try {
  report = readFileSync(tap, 'utf8');
} catch {
  /* the runner died before writing: counted below as a failure */
}
rmSync(tap, { force: true });
const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, "m").exec(report)?.[1] ?? 0);
const passed = count('pass') + lintPassed;
let failed = count('fail') + count('cancelled') + lintFailed;
const skipped = count('skipped');
if (res.status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
