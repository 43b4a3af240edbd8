/**
 * The log search end to end (real runc, real HTTP, real SQLite): `GET /v1/logs` finds a run's
 * line by text in any case, by run, by time window, a sandbox's lifecycle lines, pages in either
 * order; the SDK's `client.logs`; a tenant finds only its own lines, and naming another tenant is
 * for admins of the bootstrap tenant only; bad queries are 400s that say what to change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tartarus, type LogLine } from '@tartarus/sdk';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, withEmbedded } from './helpers.js';

test('log search: by text, run, window and sandbox, paged both ways; tenants apart; bad queries 400', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
      const lines = async (key: string, query: string): Promise<LogLine[]> => {
        const r = await call(h.url, key, 'GET', `/v1/logs?${query}`);
        assert.equal(r.status, 200, r.text);
        return r.json.items as LogLine[];
      };
      const tag = `needle${Date.now().toString(36)}`;
      const t0 = new Date(Date.now() - 1000).toISOString();
      const submit = async (key: string, command: string): Promise<string> => {
        const r = await call(h.url, key, 'POST', '/v1/runs?wait=true', { body: { template: 'busybox', command } });
        assert.equal(r.json.state, 'succeeded', r.text);
        return r.json.id as string;
      };
      const r1 = await submit(h.adminKey, `echo "found ${tag.toUpperCase()} here"; echo plain`);
      const r2 = await submit(h.adminKey, `echo "other ${tag}-two" >&2`);
      const t1 = new Date(Date.now() + 1000).toISOString();

      // By text, any case, newest first; by run; by window.
      const found = await lines(h.adminKey, `query=${tag}`);
      assert.deepEqual(found.map((l) => [l.runId, l.stream, l.source]), [[r2, 'stderr', 'run'], [r1, 'stdout', 'run']]);
      assert.match(found[1]?.data ?? '', new RegExp(`found ${tag.toUpperCase()} here`));
      assert.deepEqual([found[1]?.tenantId, found[1]?.attempt, found[1]?.sandboxId], ['default', 1, null]);
      assert.equal((await lines(h.adminKey, `run=${r1}&order=oldest`)).map((l) => l.data).join(''), `found ${tag.toUpperCase()} here\nplain\n`);
      assert.deepEqual(await lines(h.adminKey, `query=${tag}&from=${encodeURIComponent(t1)}`), []);
      assert.equal((await lines(h.adminKey, `query=${tag}&from=${encodeURIComponent(t0)}&to=${encodeURIComponent(t1)}`)).length, 2);

      // Pages: one line each, oldest first, through the cursor.
      const p1 = await A('GET', `/v1/logs?query=${tag}&order=oldest&limit=1`);
      assert.deepEqual([p1.json.items[0]?.runId, typeof p1.json.nextCursor], [r1, 'string']);
      const p2 = await A('GET', `/v1/logs?query=${tag}&order=oldest&limit=1&cursor=${p1.json.nextCursor}`);
      assert.deepEqual([p2.json.items[0]?.runId, p2.json.nextCursor], [r2, null]);

      // A sandbox's lifecycle lines.
      const s = await A('POST', '/v1/sandboxes', { body: { template: 'busybox' } });
      assert.equal(s.status, 201, s.text);
      const sid = s.json.id as string;
      assert.ok((await A('DELETE', `/v1/sandboxes/${sid}`)).status < 300);
      const life = await lines(h.adminKey, `sandbox=${sid}&order=oldest`);
      assert.deepEqual(life.map((l) => [l.source, l.stream, l.data.split(' ')[0]]), [
        ['sandbox', 'lifecycle', 'sandbox.created'],
        ['sandbox', 'lifecycle', 'sandbox.started'],
        ['sandbox', 'lifecycle', 'sandbox.ended'],
      ]);
      assert.deepEqual((await lines(h.adminKey, `sandbox=${sid}&query=KILLED`)).map((l) => l.data.split(' ')[0]), ['sandbox.ended']);

      // The SDK.
      const admin = new Tartarus({ url: h.url, apiKey: h.adminKey });
      assert.deepEqual((await admin.logs.search({ query: tag, order: 'oldest' })).items.map((l) => l.runId), [r1, r2]);
      const every: LogLine[] = [];
      for await (const l of admin.logs.all({ run: r1, limit: 1 })) every.push(l);
      assert.equal(every.map((l) => l.data).join('').split('\n').length, 3);

      // Tenants apart.
      const other = (await A('POST', '/v1/tenants', { body: { name: 'other' } })).json.id as string;
      const key = async (role: string) => (await A('POST', '/v1/api-keys', { body: { tenantId: other, role, name: role } })).json.secret as string;
      const [viewer, member, otherAdmin] = [await key('viewer'), await key('member'), await key('admin')];
      assert.deepEqual(await lines(viewer, `query=${tag}`), []);
      assert.deepEqual(await lines(viewer, `run=${r1}`), []);
      assert.deepEqual(await lines(viewer, `sandbox=${sid}`), []);
      const theirs = await submit(member, `echo ${tag}-theirs`);
      assert.deepEqual((await lines(viewer, `query=${tag}`)).map((l) => l.runId), [theirs]);
      assert.deepEqual((await lines(h.adminKey, `query=${tag}&tenant=${other}`)).map((l) => l.runId), [theirs]);
      assert.equal((await lines(h.adminKey, `query=${tag}`)).length, 3, 'admins of the bootstrap tenant search every tenant');
      const denied = await call(h.url, otherAdmin, 'GET', '/v1/logs?tenant=default');
      assert.equal(denied.status, 403, denied.text);
      assert.match(denied.json.error.message, /bootstrap tenant/);

      // Bad queries.
      const bad = async (query: string, says: RegExp) => {
        const r = await A('GET', `/v1/logs?${query}`);
        assert.equal(r.status, 400, `${query}: ${r.text}`);
        assert.match(r.json.error.message, says, query);
      };
      await bad(`run=${r1}&sandbox=${sid}`, /run or sandbox, not both/);
      await bad(`from=${encodeURIComponent(t1)}&to=${encodeURIComponent(t0)}`, /must be before to/);
      await bad('cursor=bm9wZQ', /cursor is not valid/);
      await bad('run=sbx_x', /run must be a run id/);
      await bad('from=yesterday', /from must be an ISO 8601 time/);
    },
    { templateDir: testTemplateDir() },
  );
});
