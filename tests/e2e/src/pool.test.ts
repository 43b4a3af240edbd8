/**
 * Warm pools end to end (real runc): an embedded platform whose agent keeps busybox sandboxes
 * booted hands them out to API creates and runs with the caller's settings, under the caller's
 * ids; a create with other limits gets a cold sandbox; closing the platform removes the pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

/** Booted pool sandboxes: running containers under the runtime's state dir that nobody claimed. */
async function idlePooled(dataDir: string): Promise<string[]> {
  const root = join(dataDir, 'runtime');
  const dirs = (await readdir(join(root, 'container')).catch(() => [] as string[])).filter((d) => !d.startsWith('.'));
  const claimed = new Set(
    await Promise.all(
      (await readdir(join(root, 'claims')).catch(() => [] as string[])).map(
        async (c) => (JSON.parse(await readFile(join(root, 'claims', c), 'utf8')) as { hostId: string }).hostId,
      ),
    ),
  );
  const running = await Promise.all(
    dirs.map(async (d) => (!claimed.has(d) && (await access(join(root, 'container', d, 'pid')).then(() => true, () => false)) ? d : undefined)),
  );
  return running.filter((d): d is string => d !== undefined);
}

test('a warm pool serves API creates and runs with the caller’s settings, under the caller’s ids', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
      const before = await eventually(async () => ((await idlePooled(h.dataDir)).length >= 2 ? idlePooled(h.dataDir) : undefined), 60_000, 'the pool to fill');

      const sbx = await A('POST', '/v1/sandboxes', { body: { template: 'busybox', env: { GREETING: 'hi' } } });
      assert.equal(sbx.status, 201, sbx.text);
      const claim = JSON.parse(await readFile(join(h.dataDir, 'runtime', 'claims', `${sbx.json.id}.json`), 'utf8')) as { hostId: string };
      assert.ok(before.includes(claim.hostId), 'the sandbox is one the pool had booted');
      const ex = await A('POST', `/v1/sandboxes/${sbx.json.id}/exec`, { body: { command: 'echo $GREETING; id -un' } });
      assert.deepEqual([ex.json.exitCode, ex.json.stdout], [0, 'hi\nsandbox\n']);
      const put = await A('PUT', `/v1/sandboxes/${sbx.json.id}/files?path=/home/sandbox/a.txt`, {
        raw: Buffer.from('data'),
        headers: { 'content-type': 'application/octet-stream' },
      });
      assert.ok(put.status < 300, put.text);
      const cat = await A('POST', `/v1/sandboxes/${sbx.json.id}/exec`, { body: { command: 'stat -c %U a.txt; cat a.txt' } });
      assert.equal(cat.json.stdout, 'sandbox\ndata');
      assert.equal((await A('DELETE', `/v1/sandboxes/${sbx.json.id}`)).status, 200);
      await eventually(async () => (await access(join(h.dataDir, 'runtime', 'claims', `${sbx.json.id}.json`)).then(() => undefined, () => true)), 10_000, 'the claim to go');

      // A run takes one too; its output, env and exit code are its own.
      const run = await A('POST', '/v1/runs?wait=true', { body: { template: 'busybox', command: 'echo run-$X; exit 3', env: { X: '1' } } });
      assert.equal(run.json.state, 'failed', run.text);
      assert.deepEqual([run.json.exitCode, run.json.stdout], [3, 'run-1\n']);

      // Other limits: a cold sandbox (no claim), and the pool keeps its own.
      await eventually(async () => ((await idlePooled(h.dataDir)).length >= 2 ? true : undefined), 60_000, 'the pool to refill');
      const cold = await A('POST', '/v1/sandboxes', { body: { template: 'busybox', limits: { memoryMiB: 200 } } });
      assert.equal(cold.status, 201, cold.text);
      await assert.rejects(access(join(h.dataDir, 'runtime', 'claims', `${cold.json.id}.json`)));
      assert.equal((await A('DELETE', `/v1/sandboxes/${cold.json.id}`)).status, 200);
    },
    { pools: [{ template: 'busybox', runtime: 'container', size: 2 }] },
  );
});
