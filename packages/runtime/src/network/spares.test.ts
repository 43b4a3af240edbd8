// Network namespaces made ahead (spares.ts) on real runc and a real bridge: a networked sandbox
// takes one (its address is the spare's, its interface is up on the bridge, the host reaches it),
// the spares go when their Runtime closes, and a Runtime that crashed leaves spares that the next
// Runtime on its state dir frees — nothing is left behind either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { ownersDir } from '../gc/owners.js';
import { testRuntime, testTemplateDir, type TestRuntime } from '../testing/runtime.js';
import { assertNoLeaks, snapshotHost } from '../testing/leaks.js';
import { httpGet } from '../testing/remote-host.js';
import { slotAddress } from './config.js';
import { addressTable } from './sandbox.js';
import { SPARE_PREFIX } from './spares.js';

async function spareIds(): Promise<string[]> {
  return (await readdir(ownersDir()).catch(() => [] as string[])).filter((n) => n.startsWith(SPARE_PREFIX)).map((n) => n.replace(/\.json$/, ''));
}

async function eventually<T>(what: string, f: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function skipReason(t: TestRuntime): Promise<string | undefined> {
  if (spawnSync('nft', ['--version']).status !== 0) return 'nft is not installed (scripts/setup.sh installs nftables)';
  const a = (await t.runtime.available()).container;
  return a?.ok === false ? `runtime container unavailable: ${a.reason}` : undefined;
}

test('a networked sandbox takes a namespace made ahead; the spares go with their Runtime', async (c) => {
  const before = await snapshotHost();
  const t = await testRuntime();
  try {
    const skip = await skipReason(t);
    if (skip) return c.skip(skip);
    const first = await t.runtime.createSandbox({ runtime: 'container', template: 'python', egress: 'all' });
    await first.start();
    // After a networked create, spares are made for the next ones.
    const spares = await eventually('a spare namespace', async () => ((await spareIds()).length > 0 ? spareIds() : undefined));
    const cfg = t.runtime.networks().cfg;
    const table = addressTable(0);
    const addresses = new Map<string, string>();
    for (const id of spares) {
      const slot = await table.slotOf(id);
      if (slot !== undefined) addresses.set(slotAddress(cfg, slot), id);
    }
    const second = await t.runtime.createSandbox({ runtime: 'container', template: 'python', egress: 'all' });
    await second.start();
    const address = (await second.address?.()) ?? '';
    const taken = addresses.get(address);
    assert.ok(taken, `the sandbox has a spare's address (${address}; spares had ${[...addresses.keys()].join(', ')})`);
    await eventually('the taken spare forgotten', async () => ((await spareIds()).includes(taken) ? undefined : true));
    // Its interface is up on the bridge: the host reaches a server in it.
    await second.exec({ argv: ['python3', '-m', 'http.server', '9000'] });
    const body = await eventually('the server in the sandbox', () => httpGet(`http://${address}:9000/`));
    assert.match(body, /Directory listing/);
    await Promise.all([first.destroy(), second.destroy()]);
  } finally {
    await t.dispose();
  }
  assert.deepEqual(await spareIds(), [], 'no spare outlives its Runtime');
  await assertNoLeaks(before, {});
});

test("a crashed Runtime's spares are freed by the next Runtime on its state dir", async (c) => {
  const before = await snapshotHost();
  const t = await testRuntime();
  try {
    const skip = await skipReason(t);
    if (skip) return c.skip(skip);
    // A Runtime in a child process makes a networked sandbox, waits for its spares, and is killed.
    const runtimeJs = new URL('../runtime.js', import.meta.url).href;
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { readdirSync } from 'node:fs';
import { Runtime } from ${JSON.stringify(runtimeJs)};
const sb = await new Runtime({ stateDir: process.argv[1], templateDir: process.argv[2] }).createSandbox({ runtime: 'container', template: 'busybox', egress: 'all', command: ['sleep', '600'] });
await sb.start();
for (let i = 0; i < 200 && !readdirSync(${JSON.stringify(ownersDir())}).some((n) => n.startsWith(${JSON.stringify(SPARE_PREFIX)})); i++) await new Promise((r) => setTimeout(r, 50));
process.stdout.write('ready\\n'); process.kill(process.pid, 'SIGKILL');`,
        t.stateDir,
        testTemplateDir(),
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(child.stdout, 'ready\n', child.stderr);
    const left = await spareIds();
    assert.ok(left.length > 0, 'the killed Runtime left spares');
    // The next Runtime on that state dir: its orphaned sandbox destroyed, and at its first networked create, the spares freed.
    await t.runtime.cleanupOrphans();
    const s = await t.runtime.createSandbox({ runtime: 'container', template: 'busybox', egress: 'all', command: ['sleep', '600'] });
    await s.start();
    await eventually("the killed Runtime's spares freed", async () => ((await spareIds()).some((id) => left.includes(id)) ? undefined : true));
    await s.destroy();
  } finally {
    await t.dispose();
  }
  await assertNoLeaks(before, {});
});
