/**
 * Leak checker: what a test run must leave behind is nothing. Take a `snapshotHost()` before,
 * call `assertNoLeaks(before)` after; it reports every new sandbox process, `tartarus/*`
 * cgroup, mount under a test dir, runc/runsc container, sandbox run dir, network object (kept
 * namespace, veth, nftables chain) and temp dir, with what it found.
 * Leftovers can take a moment to go (a runtime's last process exiting), so it re-checks for a
 * short while before failing.
 */
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssertionError } from 'node:assert';
import { listCgroupIds } from '../cgroups/v1.js';
import { sandboxRunDir } from '../sandbox/native.js';
import { netnsDir } from '../network/sandbox.js';
import { TABLE, vethName } from '../network/rules.js';
import { SPARE_PREFIX } from '../network/spares.js';
import { ownersDir } from '../gc/owners.js';
import { runCommand } from '../process/run.js';
import { TEST_TMP_PREFIX } from './runtime.js';

/** What exists on the host at one moment, as far as sandboxes go. */
export interface HostSnapshot {
  /** `pid cmdline` of runc, runsc and tt-layer processes. */
  processes: Set<string>;
  /** Sandbox ids with a `tartarus/<id>` cgroup. */
  cgroups: Set<string>;
  /** Mount points under the temp dir or holding a Tartarus path. */
  mounts: Set<string>;
  /** Test temp dirs (`tartarus-test-*`) in the temp dir. */
  tempDirs: Set<string>;
  /** Sandbox ids with a run dir (`/run/tartarus/roots/<id>`: a gVisor sandbox's bundle, a runc sandbox's root mount point). */
  runDirs: Set<string>;
  /** Sandboxes' network objects: `netns <id>` (a kept namespace), `link <name>` (a veth's host end), `chain <name>` (an nftables chain). */
  network: Set<string>;
}

const RUNTIME_PROCESS = /(^|\/)(runc|runsc|tt-layer|tt-splice)(\s|$)|runsc-(gofer|sandbox)|qemu-system-\S+ -name tt-/;

const WAITING_LAYER = /(^|\/)tt-layer (stdin|serve)$/;

async function runtimeProcesses(): Promise<Set<string>> {
  const out = new Set<string>();
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim();
    // A waiting `tt-layer stdin` (drivers/shared/prespawn.ts) or `tt-layer serve` (network/tools.ts)
    // belongs to a live Runtime and ends with it; the suite-wide check after every test process has
    // ended still sees any left.
    if (cmd && RUNTIME_PROCESS.test(cmd) && !WAITING_LAYER.test(cmd)) out.add(`${pid} ${cmd.slice(0, 200)}`);
  }
  return out;
}

async function mounts(): Promise<Set<string>> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const tmp = tmpdir();
  return new Set(
    text
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((p) => p.includes('tartarus') || p.startsWith(`${tmp}/`)),
  );
}

/** Takes a snapshot of the host's sandbox-related objects. */
export async function snapshotHost(): Promise<HostSnapshot> {
  const [processes, cgroups, m, temps, runDirs, network] = await Promise.all([
    runtimeProcesses(),
    listCgroupIds(),
    mounts(),
    readdir(tmpdir()).catch(() => [] as string[]),
    readdir(runDirsRoot()).catch(() => [] as string[]),
    networkObjects(),
  ]);
  return {
    processes,
    cgroups: new Set(cgroups),
    mounts: m,
    tempDirs: new Set(temps.filter((t) => t.startsWith(TEST_TMP_PREFIX)).map((t) => join(tmpdir(), t))),
    runDirs: new Set(runDirs),
    network,
  };
}

/**
 * Kept network namespaces, veth host ends (`tv…`) and sandboxes' nftables chains (`sb_…`). A live
 * Runtime's spare namespaces (network/spares.ts: an owner record `nsp_…`) are not counted: they
 * end with it, and the suite-wide check after every test process has ended still sees any left.
 */
async function networkObjects(): Promise<Set<string>> {
  const spares = (await readdir(ownersDir()).catch(() => [] as string[])).filter((n) => n.startsWith(`${SPARE_PREFIX}`)).map((n) => n.replace(/\.json$/, ''));
  const spareObjects = new Set(spares.flatMap((id) => [`netns ${id}`, `link ${vethName(id)}`]));
  const all = await liveNetworkObjects();
  return new Set([...all].filter((x) => !spareObjects.has(x)));
}

async function liveNetworkObjects(): Promise<Set<string>> {
  const [namespaces, links, table] = await Promise.all([
    readdir(netnsDir()).catch(() => [] as string[]),
    readdir('/sys/class/net').catch(() => [] as string[]),
    runCommand(['nft', 'list', 'table', 'inet', TABLE], { allowNonZero: true, timeoutMs: 10_000 }).catch(() => undefined),
  ]);
  const chains = table?.exitCode === 0 ? [...table.stdout.matchAll(/chain (sb_[0-9a-f]+)/g)].map((m) => m[1] ?? '') : [];
  const groups = await runCommand(['nft', 'list', 'set', 'bridge', TABLE, 'group_ports'], { allowNonZero: true, timeoutMs: 10_000 }).catch(() => undefined);
  const pairs = groups?.exitCode === 0 ? [...groups.stdout.matchAll(/"(tv[0-9a-f]{13})" \. "(tv[0-9a-f]{13})"/g)].map((m) => `group ${m[1] ?? ''} ${m[2] ?? ''}`) : [];
  return new Set([...namespaces.map((n) => `netns ${n}`), ...links.filter((l) => /^tv[0-9a-f]{13}$/.test(l)).map((l) => `link ${l}`), ...chains.map((c) => `chain ${c}`), ...pairs]);
}

function runDirsRoot(): string {
  return join(sandboxRunDir(), 'roots');
}

function added(before: Set<string>, after: Set<string>): string[] {
  return [...after].filter((x) => !before.has(x));
}

/**
 * Narrows the check to one test's objects, so that tests of other packages running at the same
 * time on the machine do not show up as this test's leaks.
 */
export interface LeakScope {
  /** Only processes, mounts and temp dirs whose path or command line contains this. */
  path?: string;
  /** Only cgroups of sandbox ids starting with this. */
  idPrefix?: string;
}

/** The objects present now that were not in `before`, by kind; empty when nothing leaked. */
export async function findLeaks(before: HostSnapshot, scope: LeakScope = {}): Promise<Record<string, string[]>> {
  const now = await snapshotHost();
  const inPath = (x: string): boolean => scope.path === undefined || x.includes(scope.path);
  const ofId = (id: string): boolean => scope.idPrefix === undefined || id.startsWith(scope.idPrefix);
  // gVisor's processes name the sandbox's run dir, not its state dir: in scope by id.
  const runDirProcess = new RegExp(`${runDirsRoot()}/([^/\\s]+)`);
  const inScope = (x: string): boolean => {
    const id = runDirProcess.exec(x)?.[1];
    return inPath(x) || (id !== undefined && ofId(id));
  };
  const leaks: Record<string, string[]> = {
    processes: added(before.processes, now.processes).filter(inScope),
    cgroups: added(before.cgroups, now.cgroups).filter(ofId),
    runDirs: added(before.runDirs, now.runDirs).filter(ofId),
    network: added(before.network, now.network).filter((x) => !x.startsWith('netns ') || ofId(x.slice(6))),
    mounts: added(before.mounts, now.mounts).filter(inPath),
    tempDirs: added(before.tempDirs, now.tempDirs).filter(inPath),
  };
  return Object.fromEntries(Object.entries(leaks).filter(([, v]) => v.length > 0));
}

/** Throws an `AssertionError` listing leftovers unless nothing new remains within `settleMs` (default 3000). */
export async function assertNoLeaks(before: HostSnapshot, scope: LeakScope = {}, settleMs = 3000): Promise<void> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const leaks = await findLeaks(before, scope);
    if (Object.keys(leaks).length === 0) return;
    if (Date.now() >= deadline) {
      throw new AssertionError({ message: `leaked host objects:\n${JSON.stringify(leaks, null, 2)}` });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
