/**
 * Hibernation end to end (real QEMU microVMs): a sandbox created with `hibernateAfterMs` is not
 * hibernated while a command runs, is once idle, and the next exec or file call wakes it with its
 * processes where they were (a counter kept counting in memory); the API shows `hibernatedAt`;
 * `tartarus sandbox hibernate|wake` and the SDK do it on demand; a hibernated sandbox is killed
 * like any other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '@tartarus/runtime';
import { Sandbox } from '@tartarus/sdk';
import { eventually, tartarus, withEmbedded } from './helpers.js';

async function microvmSkipReason(): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'tt-probe-'));
  try {
    const a = (await new Runtime({ stateDir: dir, templateDir: join(dir, 't') }).available())['microvm'];
    return a?.ok ? undefined : `microvm runtime unavailable: ${a && !a.ok ? a.reason : 'not registered'}`;
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
      await sbx.commands.run('n=0; while :; do n=$((n+1)); echo $n > /tmp/c; sleep 0.05; done >/dev/null 2>&1 &');
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
