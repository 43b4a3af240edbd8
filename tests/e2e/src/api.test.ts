/**
 * Happy path of the API through real runc: sandboxes (create, list, exec as JSON, SSE and
 * WebSocket, files, pause/resume, timeout, kill), runs (wait, logs, follow, cancel, attempts,
 * pagination), templates, nodes, audit, OpenAPI, docs, health and metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

test('API happy path through real runc', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(async (h) => {
    const A = (m: string, p: string, o?: Parameters<typeof call>[4]) =>
      call(h.url, h.adminKey, m, p, o);

    await t.test('operational routes', async () => {
      assert.equal((await call(h.url, undefined, 'GET', '/healthz')).status, 200);
      assert.equal((await call(h.url, undefined, 'GET', '/readyz')).status, 200);
      const doc = (await call(h.url, undefined, 'GET', '/openapi.json')).json;
      assert.equal(doc.openapi, '3.1.0');
      for (const p of [
        '/v1/sandboxes',
        '/v1/runs',
        '/v1/runs/{id}/logs',
        '/v1/sandboxes/{id}/files',
        '/v1/tenants/{id}',
      ])
        assert.ok(doc.paths[p], p);
      assert.match((await call(h.url, undefined, 'GET', '/docs/')).text, /swagger/i);
      assert.match(
        (await call(h.url, undefined, 'GET', '/metrics')).text,
        /tartarus_http_requests_total/,
      );
      const nodes = (await A('GET', '/v1/nodes')).json.items;
      assert.equal(nodes.length, 1);
      assert.ok(nodes[0].runtimes.includes('container'));
      assert.ok(
        (await A('GET', '/v1/templates')).json.items.some(
          (x: { name: string }) => x.name === 'busybox',
        ),
      );
    });

    await t.test('sandbox: exec, files, pause/resume, timeout, kill', async () => {
      const s = await A('POST', '/v1/sandboxes', {
        body: { metadata: { owner: 'e2e' }, limits: { memoryMiB: 128 } },
      });
      assert.equal(s.status, 201, s.text);
      const id = s.json.id as string;
      try {
        assert.equal(s.json.state, 'running');
        assert.equal(s.json.limits.memoryMiB, 128);
        assert.deepEqual(s.json.metadata, { owner: 'e2e' });
        assert.ok(
          (await A('GET', '/v1/sandboxes?state=running')).json.items.some(
            (x: { id: string }) => x.id === id,
          ),
        );

        const ex = await A('POST', `/v1/sandboxes/${id}/exec`, {
          body: { command: 'echo out; echo err >&2; exit 7', env: { X: '1' } },
        });
        assert.deepEqual([ex.json.exitCode, ex.json.stdout, ex.json.stderr], [7, 'out\n', 'err\n']);
        const withStdin = await A('POST', `/v1/sandboxes/${id}/exec`, {
          body: { argv: ['cat'], stdin: 'piped' },
        });
        assert.equal(withStdin.json.stdout, 'piped');

        const sse = await A('POST', `/v1/sandboxes/${id}/exec`, {
          body: { command: 'echo a; echo b >&2' },
          headers: { accept: 'text/event-stream' },
        });
        assert.match(sse.text, /event: stdout\ndata: \{"data":"a\\n"/);
        assert.match(sse.text, /event: stderr/);
        assert.match(sse.text, /event: exit\ndata: \{"exitCode":0/);

        const frames = await new Promise<string[]>((resolve, reject) => {
          const got: string[] = [];
          const ws = new WebSocket(`${h.url.replace('http', 'ws')}/v1/sandboxes/${id}/exec/ws`, {
            headers: { authorization: `Bearer ${h.adminKey}` },
          });
          ws.on('open', () => {
            ws.send(JSON.stringify({ argv: ['cat'] }));
            ws.send(JSON.stringify({ type: 'stdin', data: 'live\n' }));
            ws.send(JSON.stringify({ type: 'closeStdin' }));
          });
          ws.on('message', (m: Buffer) => got.push(m.toString()));
          ws.on('close', () => resolve(got));
          ws.on('error', reject);
        });
        assert.ok(
          frames.some(
            (f) => JSON.parse(f).type === 'exit' && JSON.parse(f).result.stdout === 'live\n',
          ),
          frames.join(),
        );

        const put = await A('PUT', `/v1/sandboxes/${id}/files?path=/tmp/d/f.bin&mode=600`, {
          raw: Buffer.from([0, 1, 2, 255]),
          headers: { 'content-type': 'application/octet-stream' },
        });
        assert.equal(put.status, 204, put.text);
        const res = await fetch(`${h.url}/v1/sandboxes/${id}/files?path=/tmp/d/f.bin`, {
          headers: { authorization: `Bearer ${h.adminKey}` },
        });
        assert.deepEqual([...new Uint8Array(await res.arrayBuffer())], [0, 1, 2, 255]);
        const list = (await A('GET', `/v1/sandboxes/${id}/files/list?path=/tmp/d`)).json.items;
        assert.deepEqual(
          list.map((e: { name: string; mode: number }) => [e.name, e.mode & 0o777]),
          [['f.bin', 0o600]],
        );
        assert.equal(
          (await A('DELETE', `/v1/sandboxes/${id}/files?path=/tmp/d&recursive=true`)).status,
          204,
        );
        assert.equal((await A('GET', `/v1/sandboxes/${id}/files?path=/tmp/d/f.bin`)).status, 404);

        assert.equal((await A('POST', `/v1/sandboxes/${id}/pause`)).json.state, 'paused');
        assert.equal(
          (await A('POST', `/v1/sandboxes/${id}/exec`, { body: { argv: ['true'] } })).status,
          409,
        );
        assert.equal((await A('POST', `/v1/sandboxes/${id}/resume`)).json.state, 'running');
        const ext = await A('POST', `/v1/sandboxes/${id}/timeout`, {
          body: { timeoutMs: 3_600_000 },
        });
        assert.ok(Date.parse(ext.json.timeoutAt) > Date.now() + 3_000_000);
      } finally {
        const k = await A('DELETE', `/v1/sandboxes/${id}`);
        assert.equal(k.json.state, 'killed');
      }
    });

    await t.test('sandbox timeout kills it', async () => {
      const s = await A('POST', '/v1/sandboxes', { body: { timeoutMs: 1000 } });
      const gone = await eventually(
        async () => {
          const r = await A('GET', `/v1/sandboxes/${s.json.id}`);
          return r.json.state === 'running' ? undefined : r.json;
        },
        30_000,
        'the sandbox timeout',
      );
      assert.equal(gone.state, 'killed');
      assert.equal(gone.exit.reason, 'timeout');
    });

    await t.test('runs: wait, logs, follow, cancel, attempts, pagination', async () => {
      const done = await A('POST', '/v1/runs?wait=60s', {
        body: { argv: ['sh', '-c', 'echo one; echo two >&2; exit 3'] },
      });
      assert.equal(done.status, 201);
      assert.deepEqual(
        [done.json.state, done.json.exitCode, done.json.stdout, done.json.stderr],
        ['failed', 3, 'one\n', 'two\n'],
      );
      const logs = (await A('GET', `/v1/runs/${done.json.id}/logs`)).json;
      assert.deepEqual(logs.items.map((l: { data: string }) => l.data).sort(), ['one\n', 'two\n']);
      assert.equal(
        (await A('GET', `/v1/runs/${done.json.id}/logs?since=${logs.nextSince}`)).json.items.length,
        0,
      );

      const slow = await A('POST', '/v1/runs', {
        body: { command: 'for i in 1 2 3; do echo $i; sleep 0.2; done' },
      });
      const follow = await A('GET', `/v1/runs/${slow.json.id}/logs?follow=true`);
      assert.match(
        follow.text,
        /event: log[\s\S]*"data":"3\\n"[\s\S]*event: end\ndata: \{"state":"succeeded"\}/,
      );

      const hang = await A('POST', '/v1/runs', { body: { argv: ['sleep', '600'] } });
      await eventually(
        async () =>
          (await A('GET', `/v1/runs/${hang.json.id}`)).json.state === 'running' ? true : undefined,
        60_000,
        'run start',
      );
      assert.equal((await A('POST', `/v1/runs/${hang.json.id}/cancel`)).json.state, 'cancelled');
      const atts = (await A('GET', `/v1/runs/${hang.json.id}/attempts`)).json.items;
      assert.equal(atts.length, 1);

      const page1 = (await A('GET', '/v1/runs?limit=2')).json;
      assert.equal(page1.items.length, 2);
      assert.ok(page1.nextCursor);
      const page2 = (
        await A('GET', `/v1/runs?limit=2&cursor=${encodeURIComponent(page1.nextCursor)}`)
      ).json;
      assert.ok(page2.items.length >= 1);
      assert.ok(
        !page2.items.some((r: { id: string }) =>
          page1.items.some((q: { id: string }) => q.id === r.id),
        ),
      );
    });

    await t.test('a run on every runtime the node offers', async (st) => {
      const runtimes = (await A('GET', '/v1/nodes')).json.items[0].runtimes as string[];
      for (const runtime of ['container', 'gvisor', 'microvm']) {
        if (!runtimes.includes(runtime)) {
          st.diagnostic(`skipped ${runtime}: the node does not offer it`);
          continue;
        }
        const r = await A('POST', '/v1/runs?wait=120s', {
          body: { command: 'echo via-$0', runtime },
        });
        assert.deepEqual(
          [runtime, r.json.state, r.json.stdout],
          [runtime, 'succeeded', 'via-/bin/sh\n'],
        );
      }
    });

    await t.test('every mutating call is in the audit log', async () => {
      const actions = (await A('GET', '/v1/audit?limit=500')).json.items.map(
        (e: { action: string }) => e.action,
      );
      for (const a of [
        'sandbox.create',
        'sandbox.exec',
        'sandbox.file.write',
        'sandbox.pause',
        'sandbox.kill',
        'run.submit',
        'run.cancel',
      ]) {
        assert.ok(actions.includes(a), a);
      }
    });
  });
});
