/**
 * Every route caps its own request body and refuses an oversized one before reading it: each
 * request below declares a body larger than the route takes but sends only its first 64 KiB, and
 * must be answered (413, or 400 for raw bytes where JSON is expected) without the rest ever being
 * sent. A body without a declared length is cut off at the limit. Routes come from /openapi.json,
 * so a new route is covered by itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { call, withEmbedded } from './helpers.js';

interface Answer {
  status: number;
  body: string;
  /** Bytes of the body sent when the answer came. */
  sentBytes: number;
}

/**
 * With `declared`: sends that Content-Length but only the body's first 64 KiB, and waits for the
 * answer. Without: streams the body chunked until the server answers (at most `sendAtMost`).
 */
function oversized(url: string, key: string, method: string, path: string, o: { type: string; declared?: number; sendAtMost: number }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(path, url);
    const headers: Record<string, string | number> = { authorization: `Bearer ${key}`, 'content-type': o.type };
    if (o.declared !== undefined) headers['content-length'] = o.declared;
    const req = request(target, { method, headers });
    let sent = 0;
    let answered = false;
    const chunk = Buffer.alloc(64 * 1024, o.type === 'application/json' ? ' ' : 'x');
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body, sentBytes: sent });
      });
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    const pump = (): void => {
      if (answered || sent >= o.sendAtMost) return;
      sent += chunk.length;
      if (req.write(chunk)) setTimeout(pump, 1);
      else req.once('drain', pump);
    };
    if (o.declared === undefined) return pump();
    // A declared length: send one chunk and wait — the answer must come without the rest.
    sent = chunk.length;
    req.write(chunk);
    setTimeout(() => {
      if (answered) return;
      req.destroy();
      resolve({ status: 0, body: 'no answer within 10 s without the rest of the body', sentBytes: sent });
    }, 10_000).unref();
  });
}

test('every route refuses an oversized body before reading it', async () => {
  await withEmbedded(async (h) => {
    const doc = (await call(h.url, h.adminKey, 'GET', '/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => ['post', 'put', 'patch'].includes(m))
        .map((m) => ({ method: m.toUpperCase(), path: path.replace(/\{[^}]+\}/g, 'x1') })),
    );
    assert.ok(routes.length >= 10, `${routes.length} routes with bodies`);
    for (const r of routes) {
      // Declared 1 GiB: past every route's own limit (files 100 MiB, template contexts 32 MiB).
      const json = await oversized(h.url, h.adminKey, r.method, r.path, { type: 'application/json', declared: 1 << 30, sendAtMost: 1 << 20 });
      assert.equal(json.status, 413, `${r.method} ${r.path} with a 1 GiB JSON body: ${json.status} ${json.body}`);
      assert.match(JSON.parse(json.body).error.message, /larger than .*limit/);
      if (r.path === '/v1/sandboxes/x1/files') continue;
      const raw = await oversized(h.url, h.adminKey, r.method, r.path, { type: 'application/octet-stream', declared: 10 << 20, sendAtMost: 10 << 20 });
      // An integration's own routes take any body as bytes (a provider's signature is over them): over their limit, 413.
      if (/^\/v1\/integrations\/[a-z-]+\/(webhook|commands)\//.test(r.path)) {
        assert.equal(raw.status, 413, `${r.method} ${r.path} with 10 MiB of raw bytes: ${raw.status} ${raw.body}`);
        continue;
      }
      assert.equal(raw.status, 400, `${r.method} ${r.path} with 10 MiB of raw bytes: ${raw.status} ${raw.body}`);
      assert.match(JSON.parse(raw.body).error.message, /takes a JSON body, not raw bytes/);
    }
    // A 101 MiB upload (the file limit is 100 MiB): 413 from its declared length, at once.
    const upload = await oversized(h.url, h.adminKey, 'PUT', '/v1/sandboxes/x1/files?path=/tmp/f', { type: 'application/octet-stream', declared: 101 << 20, sendAtMost: 101 << 20 });
    assert.equal(upload.status, 413, upload.body);
    // Without a declared length (chunked), the body is cut off as soon as it passes the limit.
    const chunked = await oversized(h.url, h.adminKey, 'POST', '/v1/runs', { type: 'application/json', sendAtMost: 8 << 20 });
    assert.equal(chunked.status, 413, chunked.body);
    assert.ok(chunked.sentBytes < 8 << 20, `a chunked body was read to its end (${chunked.sentBytes} bytes)`);
  });
});
