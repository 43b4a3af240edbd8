/**
 * The event bus end to end (real runc): a live stream (SDK, SSE) sees a run queued, started and
 * finished and a sandbox created, started and ended, in order per object; filters by type and
 * object; a stream resumed with `Last-Event-ID` gives exactly what came after; a tenant sees only
 * its own events; bad ids and types are 400s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tartarus, type Event } from '@tartarus/sdk';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

/** Collects a stream's events in the background until `stop()`. */
function collect(client: Tartarus, options: Parameters<Tartarus['events']['stream']>[0] = {}): { seen: Event[]; stop(): void } {
  const ac = new AbortController();
  const seen: Event[] = [];
  void (async () => {
    for await (const e of client.events.stream({ ...options, signal: ac.signal })) seen.push(e);
  })();
  return { seen, stop: () => ac.abort() };
}

test('events: live stream in order, filters, resume by Last-Event-ID, tenants see their own', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
      const admin = new Tartarus({ url: h.url, apiKey: h.adminKey });
      // Both streams start after the newest event so far, however late they open on a loaded machine.
      let after = '0';
      for (;;) {
        const page = await admin.events.list({ limit: 500, after });
        after = page.nextAfter ?? after;
        if (page.items.length < 500) break;
      }
      const everything = collect(admin, { after });
      const finished = collect(admin, { types: ['run.finished', 'sandbox.ended'], after });

      const run = await admin.runs.submit({ argv: ['sh', '-c', 'exit 3'], template: 'busybox' }, { wait: true });
      assert.equal(run.exitCode, 3);
      const s = await A('POST', '/v1/sandboxes', { body: { template: 'busybox' } });
      assert.equal(s.status, 201, s.text);
      const sid = s.json.id as string;
      assert.ok((await A('DELETE', `/v1/sandboxes/${sid}`)).status < 300);

      const about = (id: string) => everything.seen.filter((e) => e.objectId === id).map((e) => e.type);
      await eventually(async () => (about(sid).includes('sandbox.ended') ? true : undefined), 10_000, 'the sandbox ended event');
      assert.deepEqual(about(run.id), ['run.queued', 'run.started', 'run.finished']);
      assert.deepEqual(about(sid), ['sandbox.created', 'sandbox.started', 'sandbox.ended']);
      const end = everything.seen.find((e) => e.type === 'run.finished');
      assert.deepEqual(end?.data, { state: 'failed', exitCode: 3, reason: 'exit', attempt: 1 });
      assert.equal(end?.tenantId, 'default');
      const ids = everything.seen.map((e) => Number(e.id));
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'ids increase');
      await eventually(async () => (finished.seen.length === 2 ? true : undefined), 5_000, 'the filtered stream');
      assert.deepEqual(finished.seen.map((e) => e.type), ['run.finished', 'sandbox.ended']);
      everything.stop();
      finished.stop();

      // JSON pages and filters by object; resuming a raw stream after an id gives what came after.
      const page = await admin.events.list({ object: run.id });
      assert.deepEqual(page.items.map((e) => e.type), ['run.queued', 'run.started', 'run.finished']);
      const afterStart = page.items[1]?.id ?? '';
      const ac = new AbortController();
      const res = await fetch(`${h.url}/v1/events?object=${run.id}`, {
        headers: { authorization: `Bearer ${h.adminKey}`, accept: 'text/event-stream', 'last-event-id': afterStart },
        signal: ac.signal,
      });
      let text = '';
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
        if (text.includes('event: run.finished')) break;
      }
      ac.abort();
      const blocks = text.split('\n\n').filter((b) => b.startsWith('id: '));
      assert.deepEqual(blocks.map((b) => b.split('\n').slice(0, 2).join(' ')), [`id: ${afterStart} event: ready`, `id: ${page.items[2]?.id} event: run.finished`]);

      // Another tenant sees none of this, and may not ask for it.
      const tenant = (await A('POST', '/v1/tenants', { body: { name: 'quiet' } })).json.id as string;
      const key = (await A('POST', '/v1/api-keys', { body: { tenantId: tenant, role: 'viewer', name: 'v' } })).json.secret as string;
      assert.deepEqual((await call(h.url, key, 'GET', '/v1/events')).json.items, []);
      assert.equal((await call(h.url, key, 'GET', '/v1/events?tenant=default')).status, 403);
      // The admin of the bootstrap tenant sees the platform's events too.
      assert.ok((await admin.events.list({ types: ['node.up'] })).items.length >= 1);

      assert.equal((await A('GET', '/v1/events?types=run.exploded')).status, 400);
      assert.equal((await A('GET', '/v1/events?after=abc')).status, 400);
      const badResume = await call(h.url, h.adminKey, 'GET', '/v1/events', { headers: { accept: 'text/event-stream', 'last-event-id': 'x' } });
      assert.equal(badResume.status, 400);
      assert.match(badResume.json.error.message, /Last-Event-ID/);
    },
    { templateDir: testTemplateDir() },
  );
});
