/**
 * Graceful termination end to end (real runc): `POST /v1/sandboxes/:id/terminate` now — every
 * process of the sandbox gets SIGTERM and the grace, one that ignores it is killed at its end — or
 * after a delay, shown on the sandbox, replaceable and cancellable until it begins, carried out by
 * the sweeper with its reason in the exit; the SDK and the CLI over the same routes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tartarus } from '@tartarus/sdk';
import { call, containerSkipReason, eventually, withEmbedded, tartarus } from './helpers.js';

test('terminate: now with a grace every process gets, later with a reason, replaceable and cancellable until it begins', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(async (h) => {
    const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
    const create = async () => {
      const r = await A('POST', '/v1/sandboxes', { body: { template: 'busybox' } });
      assert.equal(r.status, 201, r.text);
      return r.json.id as string;
    };

    // Now: a background process that ignores SIGTERM holds the sandbox until the grace is over.
    const stubborn = await create();
    const bg = await A('POST', `/v1/sandboxes/${stubborn}/exec`, {
      body: { command: `trap '' TERM; (while :; do sleep 0.05; done) >/dev/null 2>&1 & echo started` },
    });
    assert.deepEqual([bg.json.exitCode, bg.json.stdout], [0, 'started\n'], bg.text);
    const t0 = Date.now();
    const now = await A('POST', `/v1/sandboxes/${stubborn}/terminate`, { body: { graceMs: 1500 } });
    assert.equal(now.status, 200, now.text);
    assert.ok(Date.now() - t0 >= 1400, `the grace was given (${Date.now() - t0} ms)`);
    assert.deepEqual([now.json.state, now.json.exit?.reason, now.json.exit?.message, now.json.termination], ['killed', 'killed', 'terminated by request', null]);
    const again = await A('POST', `/v1/sandboxes/${stubborn}/terminate`, { body: {} });
    assert.deepEqual([again.status, again.json.state], [200, 'killed'], 'an ended sandbox is returned as it is');
    assert.equal((await A('DELETE', `/v1/sandboxes/${stubborn}/terminate`)).status, 409);

    // Later: pending and shown, replaced, cancelled; then carried out with its reason.
    const later = await create();
    const pending = await A('POST', `/v1/sandboxes/${later}/terminate`, { body: { delayMs: 3_600_000, reason: 'nightly' } });
    assert.equal(pending.status, 202, pending.text);
    assert.deepEqual([pending.json.state, pending.json.termination?.reason, pending.json.termination?.graceMs], ['running', 'nightly', 10_000]);
    const at = Date.parse(pending.json.termination.at as string);
    assert.ok(Math.abs(at - (Date.now() + 3_600_000)) < 60_000, pending.json.termination.at);
    assert.equal((await A('GET', `/v1/sandboxes/${later}`)).json.termination?.reason, 'nightly');
    const replaced = await A('POST', `/v1/sandboxes/${later}/terminate`, { body: { delayMs: 800, graceMs: 500, reason: 'sooner' } });
    assert.deepEqual([replaced.status, replaced.json.termination?.reason, replaced.json.termination?.graceMs], [202, 'sooner', 500]);
    const cancelled = await A('DELETE', `/v1/sandboxes/${later}/terminate`);
    assert.deepEqual([cancelled.status, cancelled.json.termination], [200, null]);
    const twice = await A('DELETE', `/v1/sandboxes/${later}/terminate`);
    assert.equal(twice.status, 409);
    assert.match(twice.json.error.message, /has no termination pending \(it is running\): there is nothing to cancel/);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal((await A('GET', `/v1/sandboxes/${later}`)).json.state, 'running', 'a cancelled termination does not happen');

    // Through the SDK: a termination in 300 ms, carried out by the sweeper.
    const sdk = new Tartarus({ url: h.url, apiKey: h.adminKey });
    const sbx = await sdk.sandboxes.connect(later);
    const info = await sbx.terminate({ delayMs: 300, reason: 'maintenance' });
    assert.equal(info.termination?.reason, 'maintenance');
    const ended = await eventually(async () => {
      const s = await sbx.getInfo();
      return s.state === 'killed' ? s : undefined;
    }, 30_000, 'the termination to be carried out');
    assert.deepEqual([ended.exit?.message, ended.termination], ['terminated: maintenance', null]);

    // The CLI.
    const third = await create();
    const inTen = await tartarus(['sandbox', 'terminate', third, '--in', '10m', '--reason', 'cli'], h.url, h.adminKey);
    assert.equal(inTen.code, 0, inTen.stderr);
    assert.match(inTen.stdout, new RegExp(`^${third} running, terminating at \\d{4}-\\d\\d-\\d\\dT`));
    const off = await tartarus(['sandbox', 'terminate', third, '--cancel'], h.url, h.adminKey);
    assert.deepEqual([off.code, off.stdout], [0, `${third} running\n`], off.stderr);
    const bad = await tartarus(['sandbox', 'terminate', third, '--cancel', '--in', '1m'], h.url, h.adminKey);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr.trim(), /^[^\n]*--cancel takes no --in, --grace or --reason[^\n]*$/);
    const gone = await tartarus(['sandbox', 'terminate', third, '--grace', '2s', '--json'], h.url, h.adminKey);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal((JSON.parse(gone.stdout) as { state: string }).state, 'killed');
  });
});

test('terminate with a snapshot: its files are kept just before it ends and a new sandbox resumes from them, now or later', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(async (h) => {
    const sdk = new Tartarus({ url: h.url, apiKey: h.adminKey });
    // Now, through the SDK.
    const a = await sdk.sandboxes.create({ template: 'busybox' });
    await a.files.write('/tmp/work.txt', 'half done\n');
    const ended = await a.terminate({ snapshot: true, graceMs: 500, reason: 'moving' });
    assert.deepEqual([ended.state, ended.exit?.message], ['killed', 'terminated: moving']);
    assert.match(ended.finalSnapshotId ?? '', /^snp_/);
    const resumed = await sdk.sandboxes.create({ snapshot: ended.finalSnapshotId as string });
    assert.equal(await resumed.files.read('/tmp/work.txt'), 'half done\n');
    assert.equal((await sdk.snapshots.get(ended.finalSnapshotId as string)).sandboxId, a.id);

    // Later, through the CLI: shown as pending with its snapshot, carried out by the sweeper.
    await resumed.files.write('/tmp/work.txt', 'more done\n');
    const later = await tartarus(['sandbox', 'terminate', resumed.id, '--in', '1s', '--snapshot'], h.url, h.adminKey);
    assert.equal(later.code, 0, later.stderr);
    assert.match(later.stdout, /terminating at .* \(files kept first\)\n$/);
    const done = await eventually(async () => {
      const s = await resumed.getInfo();
      return s.state === 'killed' ? s : undefined;
    }, 30_000, 'the delayed termination');
    assert.match(done.finalSnapshotId ?? '', /^snp_/);
    const again = await sdk.sandboxes.create({ snapshot: done.finalSnapshotId as string });
    assert.equal(await again.files.read('/tmp/work.txt'), 'more done\n');
    await again.kill();
  });
});
