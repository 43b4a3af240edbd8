// The host network (bridge, nftables tables) after a crash: orphan collection takes it down once
// no live process holds a lease on it, and keeps it while a live Runtime does (on the real
// container runtime, a real bridge and real nftables).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { testRuntime } from '../testing/runtime.js';
import { startAndDie } from '../testing/crash.js';
import { assertNoLeaks, snapshotHost } from '../testing/leaks.js';
import { collectOrphans } from '../gc/owners.js';
import { isAlive } from '../templates/lock.js';
import { netRunDir } from './host.js';
import { networkConfig } from './config.js';
import { linkExists } from './links.js';

const BRIDGE = networkConfig(undefined).bridge;

async function tables(): Promise<string[]> {
  const out = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout ?? '';
  return out.split('\n').filter((l) => / tartarus$/.test(l.trim()));
}

/** Live processes other than this one holding a lease on the host network. */
async function otherLeases(): Promise<string[]> {
  const names = await readdir(join(netRunDir(), 'users')).catch(() => [] as string[]);
  return names.filter((n) => Number(n.split('.')[0]) !== process.pid && isAlive(Number(n.split('.')[0])));
}

test('after a crash the host network goes with orphan collection once no live process uses it; a live Runtime keeps it, also when another closes', async (c) => {
  const probe = await testRuntime();
  const a = await probe.runtime.driver('container').available();
  await probe.dispose();
  if (!a.ok) return c.skip(`container runtime unavailable: ${a.reason}`);
  const others = await otherLeases();
  if (others.length) return c.skip(`another live process on this machine uses the sandbox network (leases ${others.join(', ')}): it must stay`);
  const before = await snapshotHost();
  const gone = await testRuntime();
  startAndDie(gone.stateDir, 'container', `net-crash-${Date.now()}`, 'all');
  assert.equal(await linkExists(BRIDGE), true);
  await rm(gone.stateDir, { recursive: true, force: true });
  const collected = await collectOrphans();
  assert.equal(collected.sandboxes.length > 0, true);
  assert.equal(collected.hostNetwork, true, 'the dead process held the last lease');
  assert.equal(await linkExists(BRIDGE), false);
  assert.deepEqual(await tables(), []);
  await gone.dispose();

  // A live Runtime that used the network keeps it, with no sandbox left; its close takes it down.
  const live = await testRuntime();
  try {
    const sb = await live.runtime.createSandbox({ runtime: 'container', template: 'busybox', egress: 'all', command: ['sleep', '600'] });
    await sb.destroy();
    const again = await collectOrphans();
    assert.equal(again.hostNetwork, false);
    assert.equal(await linkExists(BRIDGE), true, 'a live lease keeps the bridge');
  } finally {
    await live.dispose();
  }
  assert.equal(await linkExists(BRIDGE), false);

  // Of two live Runtimes, the first to close leaves the network to the other (its lease).
  const [one, two] = [await testRuntime(), await testRuntime()];
  try {
    for (const r of [one, two]) await (await r.runtime.createSandbox({ runtime: 'container', template: 'busybox', egress: 'all', command: ['sleep', '600'] })).destroy();
    await one.dispose();
    assert.equal(await linkExists(BRIDGE), true, "the other Runtime's lease keeps the bridge");
  } finally {
    await one.dispose();
    await two.dispose();
  }
  assert.equal(await linkExists(BRIDGE), false);
  assert.deepEqual(await tables(), []);
  await assertNoLeaks(before, {});
});
