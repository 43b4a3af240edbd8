// Service names (names.ts, dns-names.ts) on real runc sandboxes and the machine's DNS relay: the
// members of a network group resolve the names they were given through the gateway (busybox
// nslookup, and python's urllib by name), each answer one of the listed sandboxes that are
// members now, picked at random; unknown `.internal` names are NXDOMAIN; a sandbox outside the
// group gets NXDOMAIN for the group's names; a member that goes drops out within a second; the
// names go with the group's last member, and nothing is left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxHandle } from '../driver.js';
import { testRuntime, type TestRuntime } from '../testing/runtime.js';
import { assertNoLeaks, snapshotHost } from '../testing/leaks.js';
import { netRunDir } from './host.js';
import { groupKey } from './names.js';

async function skipReason(t: TestRuntime): Promise<string | undefined> {
  if (spawnSync('nft', ['--version']).status !== 0) return 'nft is not installed (scripts/setup.sh installs nftables)';
  const a = (await t.runtime.available()).container;
  return a?.ok === false ? `runtime container unavailable: ${a.reason}` : undefined;
}

/** `nslookup -type=a NAME` in `s`: the addresses answered, or the failure's words. */
async function lookup(s: SandboxHandle, name: string): Promise<string[] | string> {
  const r = await (await s.exec({ argv: ['nslookup', '-type=a', name] })).wait();
  const out = r.stdout.toString();
  if (r.exitCode !== 0) return /NXDOMAIN/.test(out + r.stderr.toString()) ? 'NXDOMAIN' : `failed: ${out}${r.stderr.toString()}`;
  return [...out.matchAll(/^Address:\s+(\d+\.\d+\.\d+\.\d+)$/gm)].map((m) => m[1] ?? '');
}

test('a network group resolves its service names through the gateway; others do not', async (c) => {
  const before = await snapshotHost();
  const t = await testRuntime();
  const group = `names-test-${process.pid}-${Date.now()}`;
  const made: SandboxHandle[] = [];
  try {
    const skip = await skipReason(t);
    if (skip) return c.skip(skip);
    const sandbox = async (networkGroup?: string, template = 'busybox'): Promise<SandboxHandle> => {
      const s = await t.runtime.createSandbox({ runtime: 'container', template, egress: 'all', ...(networkGroup === undefined ? {} : { networkGroup }) });
      made.push(s);
      await s.start();
      return s;
    };
    const [a, b, client, py, outside] = await Promise.all([sandbox(group), sandbox(group), sandbox(group), sandbox(group, 'python'), sandbox()]);
    const [addrA, addrB] = await Promise.all([a.address?.(), b.address?.()]);
    assert.ok(addrA && addrB);
    await t.runtime.setServiceNames(group, { web: [a.id, b.id], 'web.demo.internal': [a.id, b.id], solo: [a.id], empty: [] });
    await assert.rejects(t.runtime.setServiceNames(group, { 'Bad Name': [a.id] }), /service name "Bad Name" is invalid/);

    // One replica per answer, picked at random: both come up over a few answers.
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const got = await lookup(client, i % 2 === 0 ? 'web' : 'web.demo.internal');
      assert.ok(Array.isArray(got) && got.length === 1 && (got[0] === addrA || got[0] === addrB), `an answer names one replica: ${JSON.stringify(got)}`);
      seen.add(got[0] ?? '');
    }
    assert.equal(seen.size, 2, 'each replica is answered in turn');
    assert.deepEqual(await lookup(client, 'solo'), [addrA]);
    assert.deepEqual(await lookup(client, 'empty'), [], 'a name without replicas has no addresses (and is not sent upstream)');
    assert.equal(await lookup(client, 'nope.demo.internal'), 'NXDOMAIN');
    assert.equal(await lookup(outside, 'web.demo.internal'), 'NXDOMAIN', 'a sandbox outside the group does not see its names');

    // By name, over HTTP, resolved by the C library as most programs do (python's urllib; the
    // host's busybox is static and its wget cannot use the resolver). The name also lists a,
    // which serves nothing: asked until b comes first.
    await b.exec({ argv: ['sh', '-c', 'mkdir -p /tmp/www && echo replica-b > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'] });
    const fetchByName = `import urllib.request\ntry: print(urllib.request.urlopen('http://web.demo.internal:8080/', timeout=2).read().decode().strip())\nexcept Exception as e: print(e)`;
    let body = '';
    for (let i = 0; i < 50 && body !== 'replica-b'; i++) {
      body = (await (await py.exec({ argv: ['python3', '-c', fetchByName] })).wait()).stdout.toString().trim();
      if (body !== 'replica-b') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body, 'replica-b');

    // A member that goes drops out within a second (the relay's view of the groups), whatever
    // the table says: then every answer is the other one.
    await a.destroy();
    let streak = 0;
    for (let i = 0; i < 60 && streak < 8; i++) {
      const got = await lookup(client, 'web');
      streak = Array.isArray(got) && got.length === 1 && got[0] === addrB ? streak + 1 : 0;
      if (streak === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(streak, 8, 'only the remaining member is answered');
  } finally {
    await Promise.all(made.map((s) => s.destroy()));
    await t.dispose();
  }
  const names = await readdir(join(netRunDir(), 'names')).catch(() => [] as string[]);
  assert.deepEqual(names.filter((n) => n.startsWith(groupKey(group))), [], 'the names went with the last member');
  await assertNoLeaks(before, { path: t.stateDir });
});
