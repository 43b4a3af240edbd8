#!/usr/bin/env node
// Runs every compiled test file of the repository with node's test runner, one file at a time
// (tests share the machine's runtimes, and the leak checks after each file must only see that
// file's leftovers). Prints the spec report, then one closing line `N passed, N failed, N skipped`.
//
//   node scripts/test.mjs                 all tests
//   node scripts/test.mjs conformance     only files whose path contains "conformance"
//   node scripts/test.mjs --only X        same as above
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

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
  console.log('0 passed, 1 failed, 0 skipped');
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
// After the whole suite nothing may be left on the host: this is checked here, for every test file
// at once, on top of the per-test checks of the runtime's suites (counted as one test).
const TMP = '/tmp';
const LEFTOVER_PROCESS = /(^|\/)(runc|runsc|tt-layer|tt-splice|postgres|redis-server|haproxy|docker-registry|buildah|skopeo|umoci|chromium|chrome_crashpad_handler)(\s|$)|runsc-(gofer|sandbox)|qemu-system-/;
function hostSnapshot() {
  const processes = new Set();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      continue;
    }
    if (LEFTOVER_PROCESS.test(cmd)) processes.add(`${pid} ${cmd.slice(0, 160)}`);
  }
  const cgroups = new Set();
  for (const h of readdirSync('/sys/fs/cgroup')) {
    try {
      for (const id of readdirSync(`/sys/fs/cgroup/${h}/tartarus`)) {
        if (statSync(`/sys/fs/cgroup/${h}/tartarus/${id}`).isDirectory()) cgroups.add(`${h}/tartarus/${id}`);
      }
    } catch {
      /* no tartarus cgroup in this hierarchy */
    }
  }
  const mounts = new Set(
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.includes('tartarus') || m.startsWith(`${TMP}/`)),
  );
  const tempDirs = new Set(readdirSync(TMP).filter((n) => /^(tartarus|tt-)/.test(n)));
  // Sandboxes' run dirs (a gVisor sandbox's bundle and runsc state, a runc sandbox's root mount point).
  let runDirs = new Set();
  try {
    runDirs = new Set(readdirSync(join(dirname(process.env.TARTARUS_OWNERS_DIR ?? '/run/tartarus/owners'), 'roots')));
  } catch {
    /* none made yet */
  }
  // Sandboxes' networks: kept namespaces, veth host ends, nftables chains; and the node's bridge
  // and tables, which the last Runtime to close takes down.
  const network = new Set();
  const run = dirname(process.env.TARTARUS_OWNERS_DIR ?? '/run/tartarus/owners');
  try {
    for (const n of readdirSync(join(run, 'netns'))) network.add(`netns ${n}`);
  } catch {
    /* none made yet */
  }
  for (const l of readdirSync('/sys/class/net')) if (/^tv[0-9a-f]{13}$/.test(l) || l === (process.env.TARTARUS_NET_BRIDGE ?? 'tt0')) network.add(`link ${l}`);
  const nft = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  for (const t of (nft.stdout ?? '').split('\n')) if (/ tartarus$/.test(t.trim())) network.add(t.trim());
  return { processes, cgroups, mounts, tempDirs, runDirs, network };
}
function leftovers(before) {
  const now = hostSnapshot();
  const out = {};
  for (const k of Object.keys(now)) {
    const added = [...now[k]].filter((x) => !before[k].has(x));
    if (added.length) out[k] = added;
  }
  return out;
}
const hostBefore = hostSnapshot();

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
// Some leftovers take a moment to go (a runtime's last process exiting): re-check for a while.
let leaks = leftovers(hostBefore);
for (let i = 0; i < 50 && Object.keys(leaks).length > 0; i++) {
  await new Promise((r) => setTimeout(r, 200));
  leaks = leftovers(hostBefore);
}
const leakFailed = Object.keys(leaks).length > 0 ? 1 : 0;
console.log(
  leakFailed
    ? `leak check: FAILED, the suite left on the host:\n${JSON.stringify(leaks, null, 2)}`
    : 'leak check: ok (no process, cgroup, mount, run dir, network object or temp dir left by the suite)',
);

const passed = count('pass') + lintPassed + (1 - leakFailed);
let failed = count('fail') + count('cancelled') + lintFailed + leakFailed;
const skipped = count('skipped');
if (res.status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
