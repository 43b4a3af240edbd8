/**
 * Outbound webhooks end to end (real runc, real HTTP to a receiver on loopback, which the server
 * may reach only because `webhookAllowedDestinations` says so): deliveries arrive signed and
 * verify with the SDK's helper (a tampered body does not), each run's events in order, each once;
 * a receiver answering 500 twice gets the same delivery three times and then the next events; a
 * manual redelivery and a ping; a URL failing too long is disabled, the tenant told by the bus (and
 * its own webhook), the audit log, and enabling it with a new URL delivers what was blocked; the
 * destination rules refuse metadata, loopback and private URLs at create.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tartarus, verifyWebhookSignature, type CreatedWebhook, type Run } from '@tartarus/sdk';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded, type CallOptions, type Reply } from './helpers.js';
import { startReceiver, type Received, type Receiver } from './webhook-receiver.js';

/** Short retries and a short disable limit, and the receiver's loopback address opened. */
const FAST = {
  webhookAllowedDestinations: ['127.0.0.1/32'],
  webhookRetryBaseMs: 200,
  webhookRetryMaxMs: 400,
  webhookDisableAfterMs: 3000,
  webhookTimeoutMs: 15_000, // no test here times out: a slow answer on a loaded machine must not cause a retry
};

const header = (r: Received, name: string): string => String(r.headers[name.toLowerCase()] ?? '');

async function allVerify(got: Received[], secret: string): Promise<boolean> {
  for (const r of got) if (!(await verifyWebhookSignature(r.raw, header(r, 'Tartarus-Signature'), secret))) return false;
  return true;
}

/** The main subscription's deliveries: signed, headers matching the body, each run's events once and in order. */
async function checkOrdered(rx: Receiver, secret: string, runs: Run[]): Promise<void> {
  const got = rx.at('/main');
  assert.equal(got.length, 9, got.map((r) => r.body.type).join(' '));
  assert.ok(await allVerify(got, secret), 'every delivery verifies');
  const first = got[0] as Received;
  assert.equal(await verifyWebhookSignature(first.raw.replace('"run.', '"xun.'), header(first, 'Tartarus-Signature'), secret), false, 'a tampered body does not');
  for (const r of got) {
    assert.equal(header(r, 'Tartarus-Event-Id'), r.body.id);
    assert.equal(header(r, 'Tartarus-Event-Type'), r.body.type);
    assert.equal(header(r, 'Tartarus-Delivery-Attempt'), '1');
    assert.match(header(r, 'Tartarus-Delivery-Id'), /^dlv_/);
  }
  assert.equal(new Set(got.map((r) => header(r, 'Tartarus-Delivery-Id'))).size, 9);
  const ids = got.map((r) => Number(r.body.id));
  assert.deepEqual(ids, [...new Set(ids)].sort((a, b) => a - b), 'each event once, in bus order');
  for (const run of runs)
    assert.deepEqual(got.filter((r) => r.body.objectId === run.id).map((r) => r.body.type), ['run.queued', 'run.started', 'run.finished'], run.id);
}

/** The flaky receiver got one delivery three times (500, 500, 200), then the next events once each. */
function checkRetried(rx: Receiver, runs: Run[]): void {
  const got = rx.at('/flaky');
  assert.equal(got.length, 5, got.map((r) => `${r.body.objectId} ${header(r, 'Tartarus-Delivery-Attempt')}`).join(' '));
  const [a, b, c] = got;
  assert.deepEqual([a, b, c].map((r) => r?.body.objectId), [runs[0]?.id, runs[0]?.id, runs[0]?.id]);
  assert.equal(new Set([a, b, c].map((r) => header(r as Received, 'Tartarus-Delivery-Id'))).size, 1, 'one delivery id on every attempt');
  assert.deepEqual([a, b, c].map((r) => header(r as Received, 'Tartarus-Delivery-Attempt')), ['1', '2', '3']);
  assert.deepEqual(got.slice(3).map((r) => r.body.objectId), [runs[1]?.id, runs[2]?.id]);
}

/** A manual redelivery (the same event, a new delivery id) and a ping (signed, no event). */
async function checkManual(admin: Tartarus, rx: Receiver, main: CreatedWebhook): Promise<void> {
  const original = rx.at('/main')[0] as Received;
  const again = await admin.webhooks.redeliver(main.id, header(original, 'Tartarus-Delivery-Id'));
  assert.deepEqual([again.kind, again.state, again.lastStatusCode, again.redeliveryOf], ['redelivery', 'succeeded', 200, header(original, 'Tartarus-Delivery-Id')]);
  const resent = rx.at('/main').at(-1) as Received;
  assert.equal(resent.raw, original.raw, 'the event exactly as first sent');
  assert.equal(header(resent, 'Tartarus-Delivery-Id'), again.id);
  const pinged = await admin.webhooks.ping(main.id);
  assert.equal(pinged.state, 'succeeded');
  const ping = rx.at('/main').at(-1) as Received;
  assert.equal(header(ping, 'Tartarus-Event-Type'), 'ping');
  assert.ok(await verifyWebhookSignature(ping.raw, header(ping, 'Tartarus-Signature'), main.secret));
}

/** A URL that keeps failing is disabled; the tenant is told (bus, watcher, audit); a new URL delivers what was blocked. */
async function checkDisabled(admin: Tartarus, rx: Receiver, get: (path: string) => Promise<Reply>): Promise<void> {
  const down = await admin.webhooks.create({ url: `${rx.url}/down`, types: ['run.finished'] });
  const blocked = await admin.runs.submit({ argv: ['true'], template: 'busybox' }, { wait: true });
  const off = await eventually(async () => {
    const w = await admin.webhooks.get(down.id);
    return w.enabled ? undefined : w;
  }, 20_000, 'the failing webhook to be disabled');
  assert.match(off.disabledReason ?? '', /^failing: .*HTTP 503/);
  const told = await admin.events.list({ types: ['webhook.disabled'] });
  assert.deepEqual(told.items.map((e) => [e.objectId, e.data['reason']]), [[down.id, off.disabledReason]]);
  const audit = (await get('/v1/audit?limit=100')).json.items as { action: string; target: string; keyId: string | null }[];
  assert.ok(audit.some((a) => a.action === 'webhook.disable' && a.target === down.id && a.keyId === null), 'an audit entry of the server');
  await eventually(async () => (rx.at('/watch').some((r) => r.body.objectId === down.id) ? true : undefined), 10_000, 'the watcher to be told');
  assert.equal(rx.at('/watch')[0]?.body.type, 'webhook.disabled');
  const failed = (await admin.webhooks.deliveries(down.id)).items[0];
  assert.deepEqual([failed?.state, failed?.lastStatusCode, failed?.responseExcerpt, failed?.objectId], ['failed', 503, 'no: 503', blocked.id]);
  assert.ok((failed?.attempts ?? 0) >= 2);
  await admin.webhooks.update(down.id, { url: `${rx.url}/fixed`, enabled: true });
  await eventually(async () => (rx.at('/fixed').some((r) => r.body.objectId === blocked.id) ? true : undefined), 10_000, 'the blocked event after enabling');
}

test('webhooks: signed, in order, retried, redelivered, pinged; disabled when failing; destinations checked', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  let flaky = 0;
  const rx = await startReceiver((r) => (r.path === '/flaky' ? (++flaky <= 2 ? 500 : 200) : r.path === '/down' ? 503 : 200));
  try {
    await withEmbedded(
      async (h) => {
        const A = (m: string, p: string, o?: CallOptions) => call(h.url, h.adminKey, m, p, o);
        const admin = new Tartarus({ url: h.url, apiKey: h.adminKey });
        for (const [url, rule] of [['http://169.254.169.254/latest/meta-data/', 'link-local'], ['http://127.0.0.2:9/', 'loopback'], ['http://10.0.0.1/', 'private']] as const) {
          const r = await A('POST', '/v1/webhooks', { body: { url, types: ['run.finished'] } });
          assert.equal(r.status, 400, r.text);
          assert.match(r.json.error.message, new RegExp(`refused \\(${rule}\\)`));
        }

        const main = await admin.webhooks.create({ url: `${rx.url}/main`, types: ['run.queued', 'run.started', 'run.finished'] });
        assert.match(main.secret, /^whsec_/);
        const retried = await admin.webhooks.create({ url: `${rx.url}/flaky`, types: ['run.finished'], secret: 'a-secret-of-my-own-choosing' });
        await admin.webhooks.create({ url: `${rx.url}/watch`, types: ['webhook.disabled'] });
        assert.equal((await A('GET', `/v1/webhooks/${main.id}`)).json.secret, undefined, 'the secret is shown once');

        const runs: Run[] = [];
        for (let i = 0; i < 3; i++) runs.push(await admin.runs.submit({ argv: ['echo', String(i)], template: 'busybox' }, { wait: true }));
        await eventually(async () => (rx.at('/main').length >= 9 && rx.at('/flaky').length >= 5 ? true : undefined), 20_000, 'the deliveries');
        await checkOrdered(rx, main.secret, runs);
        checkRetried(rx, runs);
        assert.ok(await allVerify(rx.at('/flaky'), 'a-secret-of-my-own-choosing'));
        const log = (await admin.webhooks.deliveries(retried.id)).items;
        assert.deepEqual(log.map((d) => [d.state, d.attempts, d.lastStatusCode]), [['succeeded', 1, 200], ['succeeded', 1, 200], ['succeeded', 3, 200]]);

        await checkManual(admin, rx, main);

        // Another tenant sees none of it.
        const other = (await A('POST', '/v1/tenants', { body: { name: 'other' } })).json.id as string;
        const otherKey = (await A('POST', '/v1/api-keys', { body: { name: 'o', role: 'admin', tenantId: other } })).json.secret as string;
        assert.equal((await call(h.url, otherKey, 'GET', `/v1/webhooks/${main.id}`)).status, 404);
        assert.deepEqual((await call(h.url, otherKey, 'GET', '/v1/webhooks')).json.items, []);

        await checkDisabled(admin, rx, (p) => A('GET', p));

        const metrics = await (await fetch(`${h.url}/metrics`)).text();
        assert.match(metrics, /tartarus_webhook_deliveries_total\{outcome="succeeded"\} \d+/);
        assert.match(metrics, /tartarus_webhook_deliveries_total\{outcome="http_error"\} \d+/);
      },
      { templateDir: testTemplateDir(), server: FAST },
    );
  } finally {
    await rx.close();
  }
});
