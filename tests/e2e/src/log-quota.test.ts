/**
 * The tenant log quota end to end (real embedded platform, real runc): a tenant whose
 * `maxLogBytes` is tiny gets its run's output cut — the run still succeeds, its result says
 * `stdoutTruncated` with `logsDropped: "tenant-quota"` — while another tenant's run of the same
 * command keeps all of it; `GET /v1/tenants/:id` shows the bytes kept, and raising the quota with
 * PATCH lets the next run keep its output again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, containerSkipReason, withEmbedded, type Reply } from './helpers.js';

type Api = (m: string, p: string, o?: Parameters<typeof call>[4]) => Promise<Reply>;

const COMMAND = 'for i in $(seq 1 100); do echo line-$i; done';
const FULL = Array.from({ length: 100 }, (_, i) => `line-${i + 1}\n`).join('');

/** Runs COMMAND as `api`'s tenant and waits for its result (with stdout). */
async function waitedRun(api: Api): Promise<Reply['json']> {
  const r = await api('POST', '/v1/runs?wait=120s', { body: { command: COMMAND } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.state, 'succeeded', r.text);
  assert.equal(r.json.exitCode, 0);
  return r.json;
}

test('a tenant at its log quota gets its output cut and flagged; another tenant keeps all of its output', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(async (h) => {
    const admin: Api = (m, p, o) => call(h.url, h.adminKey, m, p, o);
    const created = await admin('POST', '/v1/tenants', {
      body: { name: 'tiny-logs', maxLogBytes: 64 },
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual([created.json.maxLogBytes, created.json.logBytes], [64, 0]);
    const key = await admin('POST', '/v1/api-keys', {
      body: { name: 'tiny-key', tenantId: created.json.id },
    });
    assert.equal(key.status, 201, key.text);
    const tiny: Api = (m, p, o) => call(h.url, key.json.secret, m, p, o);

    const cut = await waitedRun(tiny);
    assert.equal(cut.stdoutTruncated, true);
    assert.equal(cut.logsDropped, 'tenant-quota');
    assert.ok(cut.stdout.length <= 64, `kept ${cut.stdout.length} bytes`);
    assert.ok(FULL.startsWith(cut.stdout), 'what is kept is the start of the output');
    const logs = await tiny('GET', `/v1/runs/${cut.id}/logs`);
    assert.equal(logs.status, 200, logs.text);
    assert.equal(logs.json.items.map((c: { data: string }) => c.data).join(''), cut.stdout);
    const usage = await admin('GET', `/v1/tenants/${created.json.id}`);
    assert.equal(usage.json.logBytes, Buffer.byteLength(cut.stdout));

    // The bootstrap tenant (default quota) is not affected.
    const whole = await waitedRun(admin);
    assert.equal(whole.stdout, FULL);
    assert.equal(whole.stdoutTruncated, false);
    assert.equal(whole.logsDropped, null);

    // Raised, the tenant's next run keeps everything.
    const raised = await admin('PATCH', `/v1/tenants/${created.json.id}`, {
      body: { maxLogBytes: 1024 * 1024 },
    });
    assert.equal(raised.status, 200, raised.text);
    const again = await waitedRun(tiny);
    assert.deepEqual([again.stdout, again.stdoutTruncated, again.logsDropped], [FULL, false, null]);
  });
});
