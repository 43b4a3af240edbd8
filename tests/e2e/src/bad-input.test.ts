/**
 * Table-driven bad input over every route: malformed JSON, wrong types, oversized bodies and
 * values, unknown fields, missing/invalid/revoked keys, a viewer mutating, another tenant's ids.
 * Every row must get a 4xx whose message says what to change; none may get a 5xx.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { call, containerSkipReason, withEmbedded, type CallOptions } from './helpers.js';

interface Row {
  name: string;
  method: string;
  path: string;
  key: string | undefined;
  expect: number;
  options?: CallOptions;
  /** The message must match (it names what to change). */
  says?: RegExp;
}

/** Every route with a valid request, ids filled in; `mutating` routes need member or higher. */
function routes(ids: { sandbox: string; run: string; key: string; tenant: string }) {
  const s = ids.sandbox;
  return [
    { method: 'POST', path: '/v1/sandboxes', body: {}, mutating: true },
    { method: 'GET', path: '/v1/sandboxes' },
    { method: 'GET', path: `/v1/sandboxes/${s}` },
    { method: 'DELETE', path: `/v1/sandboxes/${s}`, mutating: true },
    {
      method: 'POST',
      path: `/v1/sandboxes/${s}/timeout`,
      body: { timeoutMs: 60_000 },
      mutating: true,
    },
    { method: 'POST', path: `/v1/sandboxes/${s}/pause`, mutating: true },
    { method: 'POST', path: `/v1/sandboxes/${s}/resume`, mutating: true },
    { method: 'POST', path: `/v1/sandboxes/${s}/exec`, body: { argv: ['true'] }, mutating: true },
    { method: 'GET', path: `/v1/sandboxes/${s}/files?path=/tmp` },
    { method: 'PUT', path: `/v1/sandboxes/${s}/files?path=/tmp/x`, raw: 'x', mutating: true },
    { method: 'GET', path: `/v1/sandboxes/${s}/files/list?path=/` },
    { method: 'DELETE', path: `/v1/sandboxes/${s}/files?path=/tmp/x`, mutating: true },
    { method: 'POST', path: '/v1/runs', body: { argv: ['true'] }, mutating: true },
    { method: 'GET', path: '/v1/runs' },
    { method: 'GET', path: `/v1/runs/${ids.run}` },
    { method: 'POST', path: `/v1/runs/${ids.run}/cancel`, mutating: true },
    { method: 'GET', path: `/v1/runs/${ids.run}/logs` },
    { method: 'GET', path: `/v1/runs/${ids.run}/attempts` },
    { method: 'GET', path: '/v1/templates' },
    { method: 'POST', path: '/v1/templates/busybox/build', mutating: true },
    { method: 'GET', path: '/v1/nodes' },
    { method: 'GET', path: '/v1/api-keys', admin: true },
    { method: 'POST', path: '/v1/api-keys', body: { name: 'x' }, mutating: true, admin: true },
    { method: 'DELETE', path: `/v1/api-keys/${ids.key}`, mutating: true, admin: true },
    { method: 'GET', path: '/v1/tenants', admin: true },
    { method: 'POST', path: '/v1/tenants', body: { name: 'x' }, mutating: true, admin: true },
    { method: 'GET', path: `/v1/tenants/${ids.tenant}`, admin: true },
    {
      method: 'PATCH',
      path: `/v1/tenants/${ids.tenant}`,
      body: { name: 'y' },
      mutating: true,
      admin: true,
    },
    { method: 'GET', path: '/v1/audit', admin: true },
  ] as {
    method: string;
    path: string;
    body?: unknown;
    raw?: string;
    mutating?: boolean;
    admin?: boolean;
  }[];
}

function opts(r: { body?: unknown; raw?: string }): CallOptions {
  if (r.raw !== undefined)
    return { raw: r.raw, headers: { 'content-type': 'application/octet-stream' } };
  return r.body === undefined ? {} : { body: r.body };
}

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
    const all = routes({ sandbox, run, key: keyId, tenant: other });

    const rows: Row[] = [];
    for (const r of all) {
      const o = opts(r);
      const id = `${r.method} ${r.path}`;
      rows.push({
        name: `${id} without a key`,
        method: r.method,
        path: r.path,
        key: undefined,
        expect: 401,
        options: o,
        says: /Authorization: Bearer/,
      });
      rows.push({
        name: `${id} with an unknown key`,
        method: r.method,
        path: r.path,
        key: 'tt_not-a-real-key',
        expect: 401,
        options: o,
        says: /not valid/,
      });
      rows.push({
        name: `${id} with a revoked key`,
        method: r.method,
        path: r.path,
        key: revoked,
        expect: 401,
        options: o,
        says: /revoked/,
      });
      rows.push({
        name: `${id} with a Basic header`,
        method: r.method,
        path: r.path,
        key: undefined,
        expect: 401,
        options: { ...o, headers: { ...o.headers, authorization: 'Basic abc' } },
        says: /Bearer/,
      });
      if (r.mutating)
        rows.push({
          name: `${id} by a viewer`,
          method: r.method,
          path: r.path,
          key: viewer,
          expect: 403,
          options: o,
          says: /role|admin/,
        });
      if (r.admin)
        rows.push({
          name: `${id} by a member`,
          method: r.method,
          path: r.path,
          key: member,
          expect: 403,
          options: o,
          says: /admin/,
        });
      if (r.body !== undefined) {
        rows.push({
          name: `${id} with malformed JSON`,
          method: r.method,
          path: r.path,
          key: admin,
          expect: 400,
          options: { raw: '{"a":', headers: { 'content-type': 'application/json' } },
          says: /JSON/,
        });
        rows.push({
          name: `${id} with an unknown field`,
          method: r.method,
          path: r.path,
          key: admin,
          expect: 400,
          options: { body: { ...(r.body as object), bogus: 1 } },
          says: /remove unknown field\(s\) bogus/,
        });
        rows.push({
          name: `${id} with a text/plain body`,
          method: r.method,
          path: r.path,
          key: admin,
          expect: 400,
          options: { raw: 'hi', headers: { 'content-type': 'text/plain' } },
          says: /Content-Type/,
        });
        rows.push({
          name: `${id} with an array body`,
          method: r.method,
          path: r.path,
          key: admin,
          expect: 400,
          options: { body: [] },
          says: /body/,
        });
        rows.push({
          name: `${id} with a 3 MiB body`,
          method: r.method,
          path: r.path,
          key: admin,
          expect: 413,
          options: {
            raw: JSON.stringify({ x: 'a'.repeat(3 << 20) }),
            headers: { 'content-type': 'application/json' },
          },
          says: /limit/,
        });
      }
      if (!r.admin && r.path.includes(sandbox) && !skip)
        rows.push({
          name: `${id} on another tenant's sandbox`,
          method: r.method,
          path: r.path,
          key: otherAdmin,
          expect: 404,
          options: o,
        });
      if (r.path.includes(run))
        rows.push({
          name: `${id} on another tenant's run`,
          method: r.method,
          path: r.path,
          key: otherAdmin,
          expect: 404,
          options: o,
        });
    }
    rows.push(
      {
        name: 'api key of another tenant',
        method: 'DELETE',
        path: `/v1/api-keys/${keyId}`,
        key: otherAdmin,
        expect: 404,
      },
      {
        name: 'tenants by a non-bootstrap admin',
        method: 'GET',
        path: '/v1/tenants',
        key: otherAdmin,
        expect: 403,
        says: /bootstrap/,
      },
      {
        name: 'api key for another tenant by a tenant admin',
        method: 'POST',
        path: '/v1/api-keys',
        key: otherAdmin,
        expect: 403,
        options: { body: { name: 'x', tenantId: 'default' } },
      },
      {
        name: 'exec socket without a key',
        method: 'GET',
        path: `/v1/sandboxes/${sandbox}/exec/ws`,
        key: undefined,
        expect: 401,
        says: /Bearer/,
      },
      {
        name: 'exec socket by a viewer',
        method: 'GET',
        path: `/v1/sandboxes/${sandbox}/exec/ws`,
        key: viewer,
        expect: 403,
        says: /role/,
      },
      {
        name: 'agent endpoint with a user key',
        method: 'GET',
        path: '/v1/agent/connect',
        key: admin,
        expect: 401,
        says: /agent token/,
      },
      {
        name: 'agent endpoint without a token',
        method: 'GET',
        path: '/v1/agent/connect',
        key: undefined,
        expect: 401,
        says: /agent token/,
      },
      {
        name: 'unknown route',
        method: 'GET',
        path: '/v1/nope',
        key: admin,
        expect: 404,
        says: /openapi/,
      },
      {
        name: 'run without a command',
        method: 'POST',
        path: '/v1/runs',
        key: admin,
        expect: 400,
        options: { body: {} },
        says: /argv.*command/,
      },
      {
        name: 'run with both argv and command',
        method: 'POST',
        path: '/v1/runs',
        key: admin,
        expect: 400,
        options: { body: { argv: ['a'], command: 'a' } },
        says: /exactly one/,
      },
      {
        name: 'run with argv as a string',
        method: 'POST',
        path: '/v1/runs',
        key: admin,
        expect: 400,
        options: { body: { argv: 'ls' } },
        says: /argv/,
      },
      {
        name: 'run with timeoutMs as a string',
        method: 'POST',
        path: '/v1/runs',
        key: admin,
        expect: 400,
        options: { body: { argv: ['a'], timeoutMs: '5s' } },
        says: /timeoutMs/,
      },
      {
        name: 'run with a huge timeout',
        method: 'POST',
        path: '/v1/runs',
        key: admin,
        expect: 400,
        options: { body: { argv: ['a'], timeoutMs: 1e12 } },
        says: /at most/,
      },
      {
        name: 'run with 1.5 MiB stdin',
        method: 'POST',
        path: '/v1/runs',
        key: admin,
        expect: 400,
        options: { body: { argv: ['cat'], stdin: 'a'.repeat(1.5 * 1048576) } },
        says: /1 MiB/,
      },
      {
        name: 'run with maxAttempts 0',
        method: 'POST',
        path: '/v1/runs',
        key: admin,
        expect: 400,
        options: { body: { argv: ['a'], maxAttempts: 0 } },
        says: /maxAttempts/,
      },
      {
        name: 'run with a bad env name',
        method: 'POST',
        path: '/v1/runs',
        key: admin,
        expect: 400,
        options: { body: { argv: ['a'], env: { 'A-B': 'x' } } },
        says: /env/,
      },
      {
        name: 'run with limits.cpu 1000',
        method: 'POST',
        path: '/v1/runs',
        key: admin,
        expect: 400,
        options: { body: { argv: ['a'], limits: { cpu: 1000 } } },
        says: /limits.cpu/,
      },
      {
        name: 'run with an unknown runtime',
        method: 'POST',
        path: '/v1/runs',
        key: admin,
        expect: 400,
        options: { body: { argv: ['a'], runtime: 'vmware' } },
        says: /container, gvisor, microvm/,
      },
      {
        name: 'run with wait=forever',
        method: 'POST',
        path: '/v1/runs?wait=forever',
        key: admin,
        expect: 400,
        options: { body: { argv: ['a'] } },
        says: /duration/,
      },
      {
        name: 'run with a 300-char Idempotency-Key',
        method: 'POST',
        path: '/v1/runs',
        key: admin,
        expect: 400,
        options: { body: { argv: ['a'] }, headers: { 'idempotency-key': 'k'.repeat(300) } },
        says: /Idempotency-Key/,
      },
      {
        name: 'idempotency key reused with another body',
        method: 'POST',
        path: '/v1/runs',
        key: admin,
        expect: 409,
        options: { body: { argv: ['false'] }, headers: { 'idempotency-key': 'reuse' } },
      },
      {
        name: 'tenant over its queue quota',
        method: 'POST',
        path: '/v1/runs',
        key: tinyMember,
        expect: 429,
        options: { body: { argv: ['true'] } },
      },
      {
        name: 'list with limit=0',
        method: 'GET',
        path: '/v1/runs?limit=0',
        key: admin,
        expect: 400,
        says: /at least 1/,
      },
      {
        name: 'list with limit=abc',
        method: 'GET',
        path: '/v1/sandboxes?limit=abc',
        key: admin,
        expect: 400,
        says: /limit/,
      },
      {
        name: 'list with an unknown state',
        method: 'GET',
        path: '/v1/runs?state=sleeping',
        key: admin,
        expect: 400,
        says: /state must be one of/,
      },
      {
        name: 'list with an unknown query parameter',
        method: 'GET',
        path: '/v1/runs?colour=red',
        key: admin,
        expect: 400,
        says: /colour/,
      },
      {
        name: 'logs with since=-1',
        method: 'GET',
        path: `/v1/runs/${run}/logs?since=-1`,
        key: admin,
        expect: 400,
        says: /since/,
      },
      {
        name: 'logs with follow=maybe',
        method: 'GET',
        path: `/v1/runs/${run}/logs?follow=maybe`,
        key: admin,
        expect: 400,
        says: /true or false/,
      },
      {
        name: 'run id with bad characters',
        method: 'GET',
        path: '/v1/runs/..%2Fetc',
        key: admin,
        expect: 400,
        says: /ids contain/,
      },
      { name: 'missing run', method: 'GET', path: '/v1/runs/run_missing', key: admin, expect: 404 },
      {
        name: 'sandbox with timeoutMs 10',
        method: 'POST',
        path: '/v1/sandboxes',
        key: admin,
        expect: 400,
        options: { body: { timeoutMs: 10 } },
        says: /at least 1000/,
      },
      {
        name: 'sandbox with a bad template name',
        method: 'POST',
        path: '/v1/sandboxes',
        key: admin,
        expect: 400,
        options: { body: { template: 'Bad Name' } },
        says: /template names/,
      },
      {
        name: 'sandbox with 100 metadata keys',
        method: 'POST',
        path: '/v1/sandboxes',
        key: admin,
        expect: 400,
        options: {
          body: { metadata: Object.fromEntries([...Array(100).keys()].map((i) => [`k${i}`, 'v'])) },
        },
        says: /64 keys/,
      },
      {
        name: 'exec without argv or command',
        method: 'POST',
        path: `/v1/sandboxes/${sandbox}/exec`,
        key: admin,
        expect: 400,
        options: { body: {} },
        says: /argv/,
      },
      {
        name: 'exec with a relative cwd',
        method: 'POST',
        path: `/v1/sandboxes/${sandbox}/exec`,
        key: admin,
        expect: 400,
        options: { body: { argv: ['a'], cwd: 'tmp' } },
        says: /absolute/,
      },
      {
        name: 'file read without path',
        method: 'GET',
        path: `/v1/sandboxes/${sandbox}/files`,
        key: admin,
        expect: 400,
        says: /path/,
      },
      {
        name: 'file read with a relative path',
        method: 'GET',
        path: `/v1/sandboxes/${sandbox}/files?path=etc/passwd`,
        key: admin,
        expect: 400,
        says: /absolute/,
      },
      {
        name: 'file write with mode 999',
        method: 'PUT',
        path: `/v1/sandboxes/${sandbox}/files?path=/tmp/x&mode=999`,
        key: admin,
        expect: 400,
        options: { raw: 'x', headers: { 'content-type': 'application/octet-stream' } },
        says: /octal/,
      },
      {
        name: 'file remove with recursive=yes',
        method: 'DELETE',
        path: `/v1/sandboxes/${sandbox}/files?path=/tmp&recursive=yes`,
        key: admin,
        expect: 400,
        says: /true or false/,
      },
      {
        name: 'template with a bad name',
        method: 'POST',
        path: '/v1/templates/NOPE!/build',
        key: admin,
        expect: 400,
        says: /template names/,
      },
      {
        name: 'api key with an unknown role',
        method: 'POST',
        path: '/v1/api-keys',
        key: admin,
        expect: 400,
        options: { body: { name: 'x', role: 'root' } },
        says: /admin, member or viewer/,
      },
      {
        name: 'api key with an empty name',
        method: 'POST',
        path: '/v1/api-keys',
        key: admin,
        expect: 400,
        options: { body: { name: '' } },
        says: /name/,
      },
      {
        name: 'tenant with a negative quota',
        method: 'POST',
        path: '/v1/tenants',
        key: admin,
        expect: 400,
        options: { body: { name: 'n', maxQueuedRuns: -1 } },
      },
      {
        name: 'patch of a missing tenant',
        method: 'PATCH',
        path: '/v1/tenants/ten_missing',
        key: admin,
        expect: 404,
        options: { body: { name: 'z' } },
      },
    );
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
