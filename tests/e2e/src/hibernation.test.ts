/**
 * Hibernation end to end (real QEMU microVMs): a sandbox created with `hibernateAfterMs` is not
 * hibernated while a command runs, is once idle, and the next exec or file call wakes it with its
 * processes where they were (a counter kept counting in memory); the API shows `hibernatedAt`;
 * `tartarus sandbox hibernate|wake` and the SDK do it on demand; a hibernated sandbox is killed
 * like any other. Memory snapshots (microVM and gVisor): sandboxes made from one, and forks, go on
 * from that moment; one with a network says why not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '@tartarus/runtime';
import { Sandbox, Tartarus } from '@tartarus/sdk';
import { eventually, tartarus, withEmbedded } from './helpers.js';

async function microvmSkipReason(runtime: 'microvm' | 'gvisor' = 'microvm'): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'tt-probe-'));
  try {
    const a = (await new Runtime({ stateDir: dir, templateDir: join(dir, 't') }).available())[runtime];
    return a?.ok ? undefined : `${runtime} runtime unavailable: ${a && !a.ok ? a.reason : 'not registered'}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('hibernation: idle sandboxes sleep, busy ones do not, any call wakes them where they were; CLI and SDK on demand', async (t) => {
  const skip = await microvmSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const sbx = await Sandbox.create({ url: h.url, apiKey: h.adminKey, template: 'busybox', runtime: 'microvm', limits: { memoryMiB: 128 }, hibernateAfterMs: 2000, timeoutMs: 600_000 });
      assert.equal(sbx.info.hibernateAfterMs, 2000);
      assert.equal(sbx.info.hibernatedAt, null);
      // A counter in memory, in the background.
      await sbx.commands.run('echo 0 > /tmp/c; n=0; while :; do n=$((n+1)); echo $n > /tmp/c.new; mv /tmp/c.new /tmp/c; sleep 0.05; done >/dev/null 2>&1 &');
      const count = async (): Promise<number> => Number((await sbx.files.read('/tmp/c')).trim());

      // Busy: a command running for longer than the idle time keeps it awake.
      const busy = await sbx.commands.run('sleep 5; echo done', { background: true });
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal((await sbx.getInfo()).hibernatedAt, null, 'hibernated while a command ran');
      assert.equal((await busy.wait()).stdout, 'done\n');

      // Idle: hibernated by itself.
      const before = await count();
      const slept = await eventually(async () => {
        const info = await sbx.getInfo();
        return info.hibernatedAt !== null ? info : undefined;
      }, 30_000, 'the idle sandbox to hibernate');
      assert.equal(slept.state, 'running');

      // An exec wakes it; the counter went on from where it was.
      const r = await sbx.commands.run('cat /tmp/c');
      assert.ok(Number(r.stdout) >= before, `${r.stdout} after ${before}`);
      await eventually(async () => ((await sbx.getInfo()).hibernatedAt === null ? true : undefined), 10_000, 'the wake reported');
      const a = await count();
      await eventually(async () => ((await count()) > a ? true : undefined), 20_000, 'the counter to go on after the wake');

      // On demand: the CLI hibernates and wakes it; a file call wakes it too.
      const hib = await tartarus(['sandbox', 'hibernate', sbx.id], h.url, h.adminKey);
      assert.equal(hib.code, 0, hib.stderr);
      assert.equal(hib.stdout, `${sbx.id} running (hibernated)\n`);
      assert.ok((await count()) >= a, 'the file call woke it');
      await sbx.hibernate();
      const wake = await tartarus(['sandbox', 'wake', sbx.id], h.url, h.adminKey);
      assert.deepEqual([wake.code, wake.stdout], [0, `${sbx.id} running\n`], wake.stderr);

      // A hibernated sandbox is killed like any other.
      await sbx.hibernate();
      assert.notEqual((await sbx.getInfo()).hibernatedAt, null);
      await sbx.kill();
      const ended = await sbx.getInfo();
      assert.deepEqual([ended.state, ended.hibernatedAt], ['killed', null]);
    },
    { microvmAccel: 'tcg' },
  );
});

test('memory snapshots: a sandbox made from one, and a fork, go on from that moment; a networked one says why not', async (t) => {
  const skip = await microvmSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const opts = { url: h.url, apiKey: h.adminKey, template: 'busybox', runtime: 'microvm' as const, limits: { memoryMiB: 128 } };
      const src = await Sandbox.create({ ...opts, egress: 'none' });
      await src.commands.run('echo 0 > /tmp/c; n=0; while :; do n=$((n+1)); echo $n > /tmp/c.new; mv /tmp/c.new /tmp/c; sleep 0.05; done >/dev/null 2>&1 &');
      await src.files.write('/tmp/note', 'from the source\n');
      const count = async (s: Sandbox): Promise<number> => Number((await s.files.read('/tmp/c')).trim());
      const at = await count(src);
      const snap = await src.snapshot({ memory: true });
      assert.deepEqual([snap.memory, snap.runtime], [true, 'microvm']);

      // Made from it (egress none by default): the counter goes on from where it was.
      const copy = await Sandbox.create({ url: h.url, apiKey: h.adminKey, snapshot: snap.id });
      assert.equal(copy.info.egress, 'none');
      const first = await count(copy);
      assert.ok(first >= at, `${first} < ${at}`);
      await eventually(async () => ((await count(copy)) > first ? true : undefined), 20_000, 'the copy to go on counting');
      assert.equal(await copy.files.read('/tmp/note'), 'from the source\n');

      // A fork of memory: two more, each its own.
      const forks = await src.fork(2, { memory: true });
      await forks[0]!.files.write('/tmp/note', 'fork 0\n');
      assert.deepEqual([await forks[1]!.files.read('/tmp/note'), await src.files.read('/tmp/note')], ['from the source\n', 'from the source\n']);

      // Asked for a network: refused before anything starts.
      const r = await fetch(`${h.url}/v1/sandboxes`, { method: 'POST', headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ snapshot: snap.id, egress: 'all' }) });
      assert.equal(r.status, 400);
      assert.match(((await r.json()) as { error: { message: string } }).error.message, /keeps memory: a sandbox made from it has no network/);
      // A sandbox with a network: its memory is not snapshotted.
      const networked = await Sandbox.create({ ...opts, egress: 'all' });
      const refused = await fetch(`${h.url}/v1/sandboxes/${networked.id}/snapshots`, { method: 'POST', headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ memory: true }) });
      assert.equal(refused.status, 409);
      assert.match(((await refused.json()) as { error: { message: string } }).error.message, /has a network: its memory would carry its address/);
      for (const s of [copy, ...forks, networked, src]) await s.kill();
    },
    { microvmAccel: 'tcg' },
  );
});

test('gVisor memory snapshots: the source goes on, a sandbox made from one and a fork go on from that moment; a networked one says why not', async (t) => {
  const skip = await microvmSkipReason('gvisor');
  if (skip) return t.skip(skip);
  await withEmbedded(async (h) => {
    const opts = { url: h.url, apiKey: h.adminKey, template: 'busybox', runtime: 'gvisor' as const };
    const src = await Sandbox.create({ ...opts, egress: 'none' });
    await src.commands.run('echo 0 > /tmp/c; n=0; while :; do n=$((n+1)); echo $n > /tmp/c.new; mv /tmp/c.new /tmp/c; sleep 0.05; done >/dev/null 2>&1 &');
    await src.files.write('/tmp/note', 'from the source\n');
    const count = async (s: Sandbox): Promise<number> => Number((await s.files.read('/tmp/c')).trim());
    const goesOn = async (s: Sandbox): Promise<void> => {
      const first = await count(s);
      await eventually(async () => ((await count(s)) > first ? true : undefined), 20_000, 'the count to go on');
    };
    const at = await count(src);
    const snap = await src.snapshot({ memory: true });
    assert.deepEqual([snap.memory, snap.runtime], [true, 'gvisor']);
    await goesOn(src);

    const copy = await Sandbox.create({ url: h.url, apiKey: h.adminKey, snapshot: snap.id });
    assert.deepEqual([copy.info.runtime, copy.info.egress], ['gvisor', 'none']);
    assert.ok((await count(copy)) >= at);
    await goesOn(copy);
    assert.equal(await copy.files.read('/tmp/note'), 'from the source\n');

    const [fork] = await src.fork(1, { memory: true });
    await fork!.files.write('/tmp/note', 'the fork\n');
    assert.deepEqual([await src.files.read('/tmp/note'), await copy.files.read('/tmp/note')], ['from the source\n', 'from the source\n']);
    await goesOn(fork!);

    // Terminated with a final snapshot: of its memory, from which a new sandbox goes on counting.
    const ended = await copy.terminate({ snapshot: true, graceMs: 0 });
    const final = await new Tartarus({ url: h.url, apiKey: h.adminKey }).snapshots.get(ended.finalSnapshotId ?? '');
    assert.equal(final.memory, true);
    const resumed = await Sandbox.create({ url: h.url, apiKey: h.adminKey, snapshot: final.id });
    await goesOn(resumed);

    const networked = await Sandbox.create({ ...opts, egress: 'all' });
    const refused = await fetch(`${h.url}/v1/sandboxes/${networked.id}/snapshots`, { method: 'POST', headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ memory: true }) });
    assert.equal(refused.status, 409);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /has a network: its memory would carry its address/);
    for (const s of [resumed, fork!, networked, src]) await s.kill();
  });
});
