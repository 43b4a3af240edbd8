/**
 * Snapshots end to end (real runc): a sandbox's files — its user's, root's, and a deleted
 * template file — kept as a snapshot, listed, started from (API, SDK fork, CLI), each copy
 * independent of the first and of one another; a deleted snapshot starts nothing. A tenant's own
 * `maxSnapshotBytes`, else the server's, bounds what it keeps, and a refusal names which.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tartarus } from '@tartarus/sdk';
import { call, containerSkipReason, withEmbedded, tartarus } from './helpers.js';

test('a snapshot keeps a sandbox’s files; sandboxes started from it (create, fork, CLI) have them and go their own way', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(async (h) => {
    const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
    const sh = async (id: string, command: string, user?: string) => {
      const r = await A('POST', `/v1/sandboxes/${id}/exec`, { body: { command, ...(user ? { user } : {}) } });
      assert.equal(r.status, 200, r.text);
      return r.json.stdout as string;
    };
    const first = await A('POST', '/v1/sandboxes', { body: { template: 'busybox' } });
    assert.equal(first.status, 201, first.text);
    const src = first.json.id as string;
    await sh(src, 'echo kept > note.txt; mkdir -p d; echo deep > d/f');
    await sh(src, 'echo secret > /root/r.txt; rm /bin/vi', 'root');

    const snap = await A('POST', `/v1/sandboxes/${src}/snapshots`);
    assert.equal(snap.status, 201, snap.text);
    assert.match(snap.json.id, /^snp_/);
    assert.match(snap.json.digest, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual([snap.json.sandboxId, snap.json.template, snap.json.runtime, snap.json.memory], [src, 'busybox', 'container', false]);
    assert.ok(snap.json.sizeBytes > 0);
    assert.deepEqual((await A('GET', '/v1/snapshots')).json.items.map((s: { id: string }) => s.id), [snap.json.id]);
    assert.equal((await A('GET', `/v1/snapshots/${snap.json.id}`)).json.digest, snap.json.digest);

    // A sandbox from it has the files, owners and the deletion.
    const copy = await A('POST', '/v1/sandboxes', { body: { snapshot: snap.json.id } });
    assert.equal(copy.status, 201, copy.text);
    assert.equal(await sh(copy.json.id, 'cat note.txt d/f; stat -c %U note.txt; test -e /bin/vi || echo vi-gone'), 'kept\ndeep\nsandbox\nvi-gone\n');
    assert.equal(await sh(copy.json.id, 'cat /root/r.txt', 'root'), 'secret\n');

    // Fork: copies of the sandbox as it is now, independent of it and of one another.
    await sh(src, 'echo later > later.txt');
    const sdk = new Tartarus({ url: h.url, apiKey: h.adminKey });
    const forks = await (await sdk.sandboxes.connect(src)).fork(2);
    assert.equal(forks.length, 2);
    for (const [i, f] of forks.entries()) {
      assert.equal(f.info.state, 'running');
      await f.commands.run(['sh', '-c', `echo fork-${i} > note.txt`]);
    }
    for (const [i, f] of forks.entries()) assert.equal((await f.commands.run(['sh', '-c', 'cat note.txt later.txt'])).stdout, `fork-${i}\nlater\n`);
    assert.equal(await sh(src, 'cat note.txt'), 'kept\n', 'the first is untouched');
    assert.equal((await sdk.snapshots.list()).length, 2, 'a fork keeps its snapshot');

    // The CLI.
    const taken = await tartarus(['sandbox', 'snapshot', src], h.url, h.adminKey);
    assert.equal(taken.code, 0, taken.stderr);
    const snapId = taken.stdout.trim();
    assert.match(snapId, /^snp_\w+$/);
    const ls = await tartarus(['snapshots', 'ls'], h.url, h.adminKey);
    assert.match(ls.stdout, new RegExp(`${snapId}\\s+${src}\\s+busybox/container`));
    const made = await tartarus(['sandbox', 'create', '--snapshot', snapId], h.url, h.adminKey);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(await sh(made.stdout.trim(), 'cat later.txt'), 'later\n');
    const badCount = await tartarus(['sandbox', 'fork', src, '--count', '0'], h.url, h.adminKey);
    assert.notEqual(badCount.code, 0);
    assert.match(badCount.stderr.trim(), /^[^\n]*give a whole number of copies from 1 to 50[^\n]*$/);
    assert.deepEqual(await tartarus(['snapshots', 'rm', snapId], h.url, h.adminKey), { code: 0, stdout: `deleted snapshot ${snapId}\n`, stderr: '' });

    // Another tenant sees none of it.
    const other = await A('POST', '/v1/tenants', { body: { name: 'other' } });
    const otherKey = (await A('POST', '/v1/api-keys', { body: { name: 'o', role: 'admin', tenantId: other.json.id } })).json.secret as string;
    const B = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, otherKey, m, p, o);
    assert.equal((await B('GET', `/v1/snapshots/${snap.json.id}`)).status, 404);
    assert.deepEqual((await B('GET', '/v1/snapshots')).json.items, []);
    assert.equal((await B('POST', '/v1/sandboxes', { body: { snapshot: snap.json.id } })).status, 404);
    assert.equal((await B('DELETE', `/v1/snapshots/${snap.json.id}`)).status, 404);

    // Deleted: nothing starts from it; an ended sandbox has no snapshot.
    assert.equal((await A('DELETE', `/v1/snapshots/${snap.json.id}`)).status, 200);
    const gone = await A('POST', '/v1/sandboxes', { body: { snapshot: snap.json.id } });
    assert.equal(gone.status, 404, gone.text);
    assert.equal((await A('DELETE', `/v1/sandboxes/${copy.json.id}`)).status, 200);
    const ended = await A('POST', `/v1/sandboxes/${copy.json.id}/snapshots`);
    assert.equal(ended.status, 409, ended.text);
    assert.match(ended.json.error.message, /only a running or paused sandbox can be snapshotted/);
  });
});

test("a tenant's own maxSnapshotBytes bounds its snapshots, else the server's; a deleted snapshot is no sandbox's final snapshot any more", async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  // The server keeps no snapshots for a tenant without its own quota.
  await withEmbedded(async (h) => {
    const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
    const made = await A('POST', '/v1/tenants', { body: { name: 'snaps', maxSnapshotBytes: 1024 ** 3 } });
    assert.deepEqual([made.status, made.json.maxSnapshotBytes], [201, 1024 ** 3], made.text);
    const tenant = made.json.id as string;
    const quota = async (maxSnapshotBytes: number | null) => {
      const r = await A('PATCH', `/v1/tenants/${tenant}`, { body: { maxSnapshotBytes } });
      assert.deepEqual([r.status, r.json.maxSnapshotBytes], [200, maxSnapshotBytes], r.text);
    };
    const key = (await A('POST', '/v1/api-keys', { body: { name: 'k', role: 'member', tenantId: tenant } })).json.secret as string;
    const B = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, key, m, p, o);
    const sbx = await B('POST', '/v1/sandboxes', { body: { template: 'busybox' } });
    assert.equal(sbx.status, 201, sbx.text);
    const id = sbx.json.id as string;
    assert.equal((await B('POST', `/v1/sandboxes/${id}/exec`, { body: { command: 'echo kept > note.txt' } })).json.exitCode, 0);
    const refused = async (says: RegExp) => {
      const r = await B('POST', `/v1/sandboxes/${id}/snapshots`);
      assert.equal(r.status, 429, r.text);
      assert.match(r.json.error.message, says);
    };

    const first = await B('POST', `/v1/sandboxes/${id}/snapshots`);
    assert.equal(first.status, 201, first.text);
    const size = first.json.sizeBytes as number;
    await quota(size);
    await refused(new RegExp(`take all of the tenant's maxSnapshotBytes \\(${size} bytes\\): delete some \\(GET /v1/snapshots\\), or raise`));
    await quota(size + 1);
    await refused(/would be more than the 1 bytes left of the tenant's maxSnapshotBytes/);
    await quota(null);
    assert.equal((await A('GET', `/v1/tenants/${tenant}`)).json.maxSnapshotBytes, null);
    await refused(/take all of the server's maxSnapshotBytes \(0 bytes; the tenant sets none of its own\): .*give the tenant its own/);

    // A final snapshot, then deleted: the ended sandbox names it no more.
    await quota(1024 ** 3);
    const ended = await B('POST', `/v1/sandboxes/${id}/terminate`, { body: { snapshot: true, graceMs: 500 } });
    assert.equal(ended.status, 200, ended.text);
    const finalId = ended.json.finalSnapshotId as string;
    assert.match(finalId, /^snp_/);
    assert.equal((await B('DELETE', `/v1/snapshots/${finalId}`)).status, 200);
    assert.equal((await B('GET', `/v1/sandboxes/${id}`)).json.finalSnapshotId, null);
    assert.equal((await B('GET', `/v1/snapshots/${first.json.id}`)).status, 200, 'the other snapshot stays');
  }, { server: { maxSnapshotBytes: 0 } });
});
