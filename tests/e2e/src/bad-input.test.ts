/**
 * Table-driven bad input over every route: malformed JSON, wrong types, oversized bodies and
 * values, unknown fields, missing/invalid/revoked keys, a viewer mutating, another tenant's ids.
 * Every row must get a 4xx whose message says what to change; none may get a 5xx.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { badInputRows, routes } from './bad-input-table.js';
import { call, containerSkipReason, withEmbedded, type CallOptions } from './helpers.js';

test('bad input on every route gets a 4xx that says what to change, never a 5xx', async (t) => {
  const skip = await containerSkipReason();
  if (skip) t.diagnostic(`sandbox-backed rows use a placeholder sandbox: ${skip}`);
  await withEmbedded(async (h) => {
    const admin = h.adminKey;
    const A = (m: string, p: string, o?: CallOptions) => call(h.url, admin, m, p, o);
    const mk = async (role: string, tenantId?: string) =>
      (
        await A('POST', '/v1/api-keys', {
          body: { name: role, role, ...(tenantId ? { tenantId } : {}) },
        })
      ).json.secret as string;
    const member = await mk('member');
    const viewer = await mk('viewer');
    const other = (await A('POST', '/v1/tenants', { body: { name: 'other' } })).json.id as string;
    const otherAdmin = await mk('admin', other);
    const tiny = (await A('POST', '/v1/tenants', { body: { name: 'tiny', maxQueuedRuns: 0 } })).json
      .id as string;
    const tinyMember = await mk('member', tiny);
    const revokedReply = await A('POST', '/v1/api-keys', {
      body: { name: 'gone', role: 'member' },
    });
    await A('DELETE', `/v1/api-keys/${revokedReply.json.id}`);
    const revoked = revokedReply.json.secret as string;
    const run = (await A('POST', '/v1/runs', { body: { argv: ['true'] } })).json.id as string;
    const sandbox = skip
      ? 'sbx-missing'
      : ((await A('POST', '/v1/sandboxes', { body: {} })).json.id as string);
    const keyId = revokedReply.json.id as string;
    const rows = badInputRows({
      admin,
      member,
      viewer,
      otherAdmin,
      tinyMember,
      revoked,
      sandbox,
      run,
      keyId,
      tenant: other,
      sandboxIsReal: !skip,
    });
    // The idempotency conflict needs the key used once first.
    await A('POST', '/v1/runs', {
      body: { argv: ['true'] },
      headers: { 'idempotency-key': 'reuse' },
    });

    const failures: string[] = [];
    for (const row of rows) {
      const r = await call(h.url, row.key, row.method, row.path, row.options);
      const msg: unknown = r.json?.error?.message;
      const problems: string[] = [];
      if (r.status >= 500) problems.push(`5xx`);
      if (r.status !== row.expect) problems.push(`status ${r.status}, want ${row.expect}`);
      if (typeof msg !== 'string' || msg.length < 10) problems.push('no message');
      else if (row.says && !row.says.test(msg))
        problems.push(`message ${JSON.stringify(msg)} does not match ${row.says}`);
      if (typeof r.json?.error?.code !== 'string') problems.push('no error code');
      if (row.expect === 429 && r.headers.get('retry-after') === null)
        problems.push('no Retry-After');
      if (problems.length > 0)
        failures.push(`${row.name}: ${problems.join(', ')} — ${r.text.slice(0, 200)}`);
    }
    t.diagnostic(`${rows.length} rows`);
    assert.deepEqual(failures, []);
    // Every route of the OpenAPI document has its rows.
    const listed = routes({ sandbox, run, key: keyId, tenant: other }).map((r) => `${r.method} ${r.path.split('?')[0]}`);
    const doc = (await A('GET', '/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v1/')) continue;
      const re = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      for (const method of Object.keys(ops).map((m) => m.toUpperCase()))
        if (method !== 'HEAD' && !listed.some((l) => l.startsWith(`${method} `) && re.test(l.slice(method.length + 1)))) missing.push(`${method} ${path}`);
    }
    assert.deepEqual(missing, [], 'routes without bad-input rows: add them to routes() in bad-input-table.ts');
    if (!skip) await A('DELETE', `/v1/sandboxes/${sandbox}`);
  });
});

test('a key sending faster than its bucket refills gets 429 with Retry-After', async () => {
  await withEmbedded(
    async (h) => {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 4; i++) {
        const r = await call(h.url, h.adminKey, 'GET', '/v1/nodes');
        statuses.push(r.status);
        if (r.status === 429) retryAfter = r.headers.get('retry-after');
      }
      assert.deepEqual(statuses, [200, 200, 429, 429]);
      assert.ok(Number(retryAfter) >= 1);
    },
    { server: { rateLimitBurst: 2, rateLimitPerSec: 0.01 } },
  );
});

test('the exec socket answers a bad first frame with an error frame that says what to send', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(async (h) => {
    const s = await call(h.url, h.adminKey, 'POST', '/v1/sandboxes', { body: {} });
    try {
      const frames = await new Promise<string[]>((resolve, reject) => {
        const got: string[] = [];
        const ws = new WebSocket(
          `${h.url.replace('http', 'ws')}/v1/sandboxes/${s.json.id}/exec/ws`,
          {
            headers: { authorization: `Bearer ${h.adminKey}` },
          },
        );
        ws.on('open', () => ws.send(JSON.stringify({ argv: 'not-an-array' })));
        ws.on('message', (m: Buffer) => got.push(m.toString()));
        ws.on('close', () => resolve(got));
        ws.on('error', reject);
      });
      const last = JSON.parse(frames.at(-1) ?? '{}');
      assert.equal(last.type, 'error');
      assert.equal(last.error.code, 'invalid_argument');
      assert.match(last.error.message, /ExecRequest.*argv|argv/);
    } finally {
      await call(h.url, h.adminKey, 'DELETE', `/v1/sandboxes/${s.json.id}`);
    }
  });
});
