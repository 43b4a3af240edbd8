/**
 * The workload engine end to end on a real embedded platform (real runc): one queue for sandboxes
 * and runs, admission by resources, fair share between tenants, priorities within one, and the
 * effective values of a compiled spec as the API shows them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, containerSkipReason, eventually, withEmbedded, type Reply } from './helpers.js';

type Api = (m: string, p: string, o?: Parameters<typeof call>[4]) => Promise<Reply>;

/** A second tenant with a member key, made through the admin API. */
async function tenant(url: string, adminKey: string, name: string): Promise<Api> {
  const t = await call(url, adminKey, 'POST', '/v1/tenants', { body: { name } });
  assert.equal(t.status, 201, t.text);
  const k = await call(url, adminKey, 'POST', '/v1/api-keys', {
    body: { name: `${name}-key`, tenantId: t.json.id },
  });
  assert.equal(k.status, 201, k.text);
  return (m, p, o) => call(url, k.json.secret, m, p, o);
}

async function finalRun(api: Api, id: string): Promise<Reply['json']> {
  return eventually(
    async () => {
      const r = (await api('GET', `/v1/runs/${id}`)).json;
      return ['succeeded', 'failed', 'cancelled', 'dead'].includes(r.state) ? r : undefined;
    },
    60_000,
    `run ${id}`,
  );
}

test('a sandbox create waits queued for capacity, starts when it frees, or gets 503', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const A: Api = (m, p, o) => call(h.url, h.adminKey, m, p, o);
      const first = await A('POST', '/v1/sandboxes', { body: {} });
      assert.equal(first.status, 201, first.text);
      // The only slot is taken: a short wait ends in 503 with Retry-After, and nothing is left.
      const full = await A('POST', '/v1/sandboxes', { body: { waitMs: 500 } });
      assert.equal(full.status, 503, full.text);
      assert.ok(Number(full.headers.get('retry-after')) >= 1);
      assert.match(full.json.error.message, /capacity/);
      // A longer wait is served once the first sandbox is killed.
      const queued = A('POST', '/v1/sandboxes', { body: { waitMs: 60_000 } });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await A('DELETE', `/v1/sandboxes/${first.json.id}`)).status, 200);
      const second = await queued;
      assert.equal(second.status, 201, second.text);
      assert.equal(second.json.state, 'running');
      const live = (await A('GET', '/v1/sandboxes?state=running')).json.items;
      assert.deepEqual(
        live.map((s: { id: string }) => s.id),
        [second.json.id],
      );
    },
    { slots: 1 },
  );
});

test('a request larger than every node is refused at once, naming the largest node', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(async (h) => {
    const A: Api = (m, p, o) => call(h.url, h.adminKey, m, p, o);
    const huge = { limits: { cpu: 64, memoryMiB: 262_144 } };
    for (const [path, body] of [
      ['/v1/sandboxes', huge],
      ['/v1/runs', { ...huge, argv: ['true'] }],
    ] as const) {
      const r = await A('POST', path, { body });
      assert.equal(r.status, 400, r.text);
      assert.match(r.json.error.message, /limits\.cpu 64 is more than any node has/);
      assert.match(r.json.error.message, /largest node is .*cpu.*MiB memory/);
    }
    // A tenant's own maximum is a 400 that names it.
    const tenants = (await A('GET', '/v1/tenants')).json.items;
    const patched = await A('PATCH', `/v1/tenants/${tenants[0].id}`, {
      body: { maxLimits: { cpu: 0.5 } },
    });
    assert.equal(patched.status, 200, patched.text);
    const over = await A('POST', '/v1/runs', { body: { argv: ['true'], limits: { cpu: 1 } } });
    assert.equal(over.status, 400, over.text);
    assert.match(over.json.error.message, /limits\.cpu 1 is above this tenant's maximum of 0\.5/);
  });
});

test("a tenant flooding the queue does not delay another tenant's run past the next free slot", async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const A = await tenant(h.url, h.adminKey, 'a');
      const B = await tenant(h.url, h.adminKey, 'b');
      // Long flood runs: the slot frees only when the test says so (a loaded machine cannot let
      // the first one end before A's run is queued).
      const flood: string[] = [];
      for (let i = 0; i < 20; i++)
        flood.push((await B('POST', '/v1/runs', { body: { command: 'sleep 600' } })).json.id);
      await eventually(
        async () =>
          (await B('GET', `/v1/runs/${flood[0]}`)).json.state === 'running' ? true : undefined,
        30_000,
        'the first flood run',
      );
      const mine = (await A('POST', '/v1/runs', { body: { argv: ['true'] } })).json.id;
      assert.equal((await A('GET', `/v1/runs/${mine}`)).json.state, 'queued');
      await B('POST', `/v1/runs/${flood[0]}/cancel`);
      const done = await finalRun(A, mine);
      assert.equal(done.state, 'succeeded');
      // Only the flood run that held the slot started before A's run.
      const startedBefore = [];
      for (const id of flood) {
        const r = (await B('GET', `/v1/runs/${id}`)).json;
        if (r.startedAt !== null && Date.parse(r.startedAt) <= Date.parse(done.startedAt))
          startedBefore.push(id);
      }
      assert.deepEqual(startedBefore, [flood[0]]);
      for (const id of flood) await B('POST', `/v1/runs/${id}/cancel`);
    },
    { slots: 1 },
  );
});

test('priorities order the runs of one tenant', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const A: Api = (m, p, o) => call(h.url, h.adminKey, m, p, o);
      // Held until all four are queued (a loaded machine must not free the slot before that).
      const blocker = (await A('POST', '/v1/runs', { body: { command: 'sleep 600' } })).json.id;
      await eventually(
        async () =>
          (await A('GET', `/v1/runs/${blocker}`)).json.state === 'running' ? true : undefined,
        30_000,
        'the blocker',
      );
      const ids: Record<string, string> = {};
      for (const priority of ['low', 'default', 'high', 'critical'])
        ids[priority] = (
          await A('POST', '/v1/runs', { body: { argv: ['true'], priority } })
        ).json.id;
      for (const id of Object.values(ids)) assert.equal((await A('GET', `/v1/runs/${id}`)).json.state, 'queued');
      await A('POST', `/v1/runs/${blocker}/cancel`);
      const starts: [string, number][] = [];
      for (const [priority, id] of Object.entries(ids)) {
        const r = await finalRun(A, id);
        assert.equal(r.priority, priority);
        starts.push([priority, Date.parse(r.startedAt)]);
      }
      starts.sort((a, b) => a[1] - b[1]);
      assert.deepEqual(
        starts.map(([p]) => p),
        ['critical', 'high', 'default', 'low'],
      );
    },
    { slots: 1 },
  );
});

test('the API shows the effective values of a compiled spec, not zeros', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(async (h) => {
    const A: Api = (m, p, o) => call(h.url, h.adminKey, m, p, o);
    const s = await A('POST', '/v1/sandboxes', { body: {} });
    assert.equal(s.status, 201, s.text);
    const got = (await A('GET', `/v1/sandboxes/${s.json.id}`)).json;
    assert.match(got.id, /^sbx_[0-9a-z]{21}$/);
    assert.equal(got.template, 'busybox');
    assert.equal(got.runtime, 'container');
    assert.equal(got.timeoutMs, 300_000);
    assert.deepEqual(got.limits, { cpu: 1, memoryMiB: 512, pids: 256, diskMiB: 1024 });
    assert.deepEqual(got.requests, { cpu: 0.125, memoryMiB: 128, diskMiB: 0 });
    assert.equal(got.priority, 'default');
    const r = await A('POST', '/v1/runs', {
      body: { argv: ['true'], limits: { memoryMiB: 256 }, requests: { cpu: 0.5 } },
    });
    const run = (await A('GET', `/v1/runs/${r.json.id}`)).json;
    assert.match(run.id, /^run_[0-9a-z]{21}$/);
    assert.equal(run.timeoutMs, 600_000);
    assert.equal(run.maxAttempts, 3);
    assert.deepEqual(run.limits, { cpu: 1, memoryMiB: 256, pids: 256, diskMiB: 1024 });
    assert.deepEqual(run.requests, { cpu: 0.5, memoryMiB: 128, diskMiB: 0 });
    const bad = await A('POST', '/v1/runs', { body: { argv: ['true'], requests: { cpu: 2 } } });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.json.error.message, /requests\.cpu 2 is above limits\.cpu 1/);
    // A 2-core node holds many idle sandboxes: a limit is a cap, not a reservation.
    const many = await Promise.all(
      Array.from({ length: 20 }, () => A('POST', '/v1/sandboxes', { body: {} })),
    );
    assert.deepEqual(
      many.map((m) => m.status),
      Array.from({ length: 20 }, () => 201),
    );
    for (const m of many) await A('DELETE', `/v1/sandboxes/${m.json.id}`);
  });
});
