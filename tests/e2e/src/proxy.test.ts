/**
 * The port proxy end to end (real runc, real networks): a server in a sandbox is reached through
 * the API server's proxy — path-based and host-based — over HTTP (bodies streamed both ways),
 * server-sent events (each event as it is sent) and WebSocket; with the API key (never forwarded
 * into the sandbox) or an access token, and without either only when the sandbox is public. A
 * connection whose first request is for a port is tunnelled whole (bulk spliced in the kernel). No
 * key, a bad token, another tenant's key: refused. Nothing listening, a sandbox without a network:
 * clear errors, never a 500.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

const SERVER_PY = new URL('../src/fixtures/port-server.py', import.meta.url);
const DOMAIN = 'sandboxes.test';

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  bytes: Buffer;
}

/** A request with full control of the headers (Host included); the body streamed when given. */
function get(url: string, o: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method ?? 'GET', headers: o.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes.toString(), bytes });
      });
    });
    req.on('error', reject);
    // With `Expect: 100-continue` the body goes once the server asks for it.
    if (o.headers?.expect === undefined) req.end(o.body);
    else req.on('continue', () => req.end(o.body));
  });
}

async function skipReason(): Promise<string | undefined> {
  if (spawnSync('nft', ['--version']).status !== 0) return 'nft is not installed (scripts/setup.sh installs nftables)';
  return containerSkipReason();
}

test('a sandbox port through the proxy: HTTP, SSE and WebSocket; key, token or public; clear refusals', async (t) => {
  const skip = await skipReason();
  if (skip) return t.skip(skip);
  await withEmbedded(
    async (h) => {
      const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
      const start = async (body: Record<string, unknown>): Promise<string> => {
        const s = await A('POST', '/v1/sandboxes', { body: { template: 'python', ...body } });
        assert.equal(s.status, 201, s.text);
        const id = s.json.id as string;
        const put = await A('PUT', `/v1/sandboxes/${id}/files?path=/tmp/srv.py`, { raw: await readFile(SERVER_PY), headers: { 'content-type': 'application/octet-stream' } });
        assert.ok(put.status < 300, put.text);
        const ex = await A('POST', `/v1/sandboxes/${id}/exec`, { body: { command: 'setsid python3 /tmp/srv.py 8000 >/tmp/srv.log 2>&1 &' } });
        assert.equal(ex.json.exitCode, 0, ex.text);
        return id;
      };
      const id = await start({});
      const base = `${h.url}/v1/sandboxes/${id}/ports/8000`;
      const key = { authorization: `Bearer ${h.adminKey}` };
      const echo = await eventually(async () => {
        const r = await get(`${base}/echo?a=1`, { headers: { ...key, 'x-app': 'yes' } });
        return r.status === 200 ? r : undefined;
      }, 30_000, 'the server in the sandbox');
      const seen = JSON.parse(echo.body) as { path: string; headers: Record<string, string> };
      assert.equal(seen.path, '/echo?a=1', 'the prefix is stripped, the query kept');
      assert.equal(seen.headers['x-app'], 'yes');
      assert.equal(seen.headers.authorization, undefined, 'the API key never reaches the sandbox');
      assert.ok(seen.headers['x-forwarded-for']);

      // The URL the API gives, and a streamed upload.
      const urls = await A('GET', `/v1/sandboxes/${id}/urls/8000`);
      assert.equal(urls.json.url, `${base}/`);
      assert.equal(urls.json.hostUrl, `${new URL(h.url).protocol}//8000-${id.replace('_', '-')}.${DOMAIN}:${new URL(h.url).port}/`);
      const big = Buffer.alloc(5 * 1024 * 1024, 7);
      const up = await get(`${base}/upload`, { method: 'POST', headers: { ...key, 'content-type': 'application/octet-stream' }, body: big });
      assert.deepEqual(JSON.parse(up.body), { received: big.length });

      // Host-based: the Host header names port and sandbox.
      const byHost = await get(`${h.url}/echo`, { headers: { ...key, host: `8000-${id.replace('_', '-')}.${DOMAIN}` } });
      assert.equal(byHost.status, 200, byHost.body);
      assert.equal((JSON.parse(byHost.body) as { path: string }).path, '/echo');
      // Host-based requests are tunnelled at the connection: the key still never reaches the sandbox,
      // a token in the query is removed, and without credentials it is refused.
      const hostName = `8000-${id.replace('_', '-')}.${DOMAIN}`;
      const seenByHost = JSON.parse(byHost.body) as { headers: Record<string, string> };
      assert.equal(seenByHost.headers.authorization, undefined);
      assert.equal(seenByHost.headers.connection, 'close', 'one request per tunnelled connection');
      const hostToken = await A('POST', `/v1/sandboxes/${id}/access-tokens`, { body: {} });
      const viaHostToken = await get(`${h.url}/echo?b=2&tt_token=${encodeURIComponent(hostToken.json.token as string)}`, { headers: { host: hostName } });
      assert.equal(viaHostToken.status, 200, viaHostToken.body);
      assert.equal((JSON.parse(viaHostToken.body) as { path: string }).path, '/echo?b=2');
      assert.equal((await get(`${h.url}/echo`, { headers: { host: hostName } })).status, 401);
      const hostUpload = await get(`${h.url}/upload`, { method: 'POST', headers: { ...key, host: hostName, 'content-type': 'application/octet-stream' }, body: big });
      assert.deepEqual(JSON.parse(hostUpload.body), { received: big.length });
      // A connection whose first request is for a port is tunnelled whole, path-based or host-based:
      // the answer says the connection closes after it (a keep-alive client then opens a new one),
      // bulk moves into the kernel relay with every byte in order, and an interim 100 Continue passes.
      const n = 24 * 1024 * 1024 + 17;
      const pattern = Buffer.alloc(n);
      for (let i = 0; i < n; i++) pattern[i] = i % 256;
      for (const [url, headers] of [[`${base}/bytes/${n}`, key], [`${h.url}/bytes/${n}`, { ...key, host: hostName }]] as const) {
        const down = await get(url, { headers });
        assert.equal(down.status, 200, url);
        assert.equal(down.headers.connection, 'close', url);
        assert.ok(down.bytes.equals(pattern), `${url}: ${down.bytes.length} bytes arrived, in order: ${down.bytes.equals(pattern)}`);
      }
      const expectUpload = await get(`${base}/upload`, { method: 'POST', headers: { ...key, expect: '100-continue', 'content-type': 'application/octet-stream', 'content-length': String(big.length) }, body: big });
      assert.deepEqual(JSON.parse(expectUpload.body), { received: big.length });
      // The API on the same listener is untouched by the connection-level look at each first request.
      assert.equal((await A('GET', `/v1/sandboxes/${id}`)).status, 200);

      // Server-sent events arrive one by one, not at the end.
      const times: number[] = [];
      await new Promise<void>((resolve, reject) => {
        request(`${base}/events`, { headers: key }, (res) => {
          assert.equal(res.headers['content-type'], 'text/event-stream');
          res.on('data', (d: Buffer) => {
            for (const _ of d.toString().matchAll(/data: event/g)) times.push(Date.now());
          });
          res.on('end', resolve);
        })
          .on('error', reject)
          .end();
      });
      assert.equal(times.length, 3);
      // Sent 1 s apart: a stall under load shorter than that cannot make them look buffered.
      assert.ok((times[2] ?? 0) - (times[0] ?? 0) >= 1000, `events were streamed as sent: ${times.map((x) => x - (times[0] ?? 0)).join(', ')} ms`);

      // WebSocket through the proxy, with an access token in the query (as a browser would).
      const token = await A('POST', `/v1/sandboxes/${id}/access-tokens`, { body: { ttlMs: 60_000 } });
      assert.equal(token.status, 201, token.text);
      const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?tt_token=${encodeURIComponent(token.json.token as string)}`);
      const answer = await new Promise<string>((resolve, reject) => {
        ws.on('open', () => ws.send('hello sandbox'));
        ws.on('message', (m: Buffer) => resolve(m.toString()));
        ws.on('error', reject);
      });
      ws.close();
      assert.equal(answer, 'HELLO SANDBOX');

      // Without credentials, with a bad token, with a token of another sandbox: 401.
      assert.equal((await get(`${base}/echo`)).status, 401);
      assert.equal((await get(`${base}/echo`, { headers: { 'x-tartarus-access-token': 'nope' } })).status, 401);
      const viaToken = await get(`${base}/echo`, { headers: { 'x-tartarus-access-token': token.json.token as string } });
      assert.equal(viaToken.status, 200, viaToken.body);
      // A key sent along with a token is not forwarded either; an app's own Authorization is.
      const both = await get(`${base}/echo`, { headers: { ...key, 'x-tartarus-access-token': token.json.token as string } });
      assert.equal((JSON.parse(both.body) as { headers: Record<string, string> }).headers.authorization, undefined);
      const own = await get(`${base}/echo`, { headers: { authorization: 'Bearer app-token', 'x-tartarus-access-token': token.json.token as string } });
      assert.equal((JSON.parse(own.body) as { headers: Record<string, string> }).headers.authorization, 'Bearer app-token');
      // Another tenant's key does not see the sandbox.
      const tenant = await A('POST', '/v1/tenants', { body: { name: 'other' } });
      const otherKey = await A('POST', '/v1/api-keys', { body: { tenantId: tenant.json.id, role: 'member', name: 'k' } });
      const other = await get(`${base}/echo`, { headers: { authorization: `Bearer ${otherKey.json.secret as string}` } });
      assert.equal(other.status, 404, other.body);

      // Nothing listening: 502 naming the port; an unknown port route shape is the API's own 404.
      const closed = await get(`${h.url}/v1/sandboxes/${id}/ports/8999/`, { headers: key });
      assert.equal(closed.status, 502, closed.body);
      assert.match(closed.body, /port 8999/);
      // Something that does not answer in HTTP: refused with a 502, never passed on (the client
      // would be told nothing about the connection ending, and might send its next request, key
      // and all, into the sandbox).
      const raw = await A('POST', `/v1/sandboxes/${id}/exec`, {
        body: { command: `setsid python3 -c "import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 8002)); s.listen(8)\nwhile True:\n c, _ = s.accept(); c.recv(4096); c.sendall(b'SSH-2.0-not-http\\r\\n'); c.close()" >/dev/null 2>&1 &` },
      });
      assert.equal(raw.json.exitCode, 0, raw.text);
      const notHttp = await eventually(async () => {
        const r = await get(`${h.url}/v1/sandboxes/${id}/ports/8002/`, { headers: key }).catch(() => undefined);
        return r && r.status !== 0 && !/ECONNREFUSED|nothing answers/.test(r.body) ? r : undefined;
      }, 30_000, 'the raw server');
      assert.equal(notHttp.status, 502, notHttp.body);
      assert.match(notHttp.body, /did not answer with an HTTP response head/);

      // A public sandbox: no credentials needed; the other token does not open it either way.
      const pub = await start({ public: true });
      const pubEcho = await eventually(async () => {
        const r = await get(`${h.url}/v1/sandboxes/${pub}/ports/8000/echo`);
        return r.status === 200 ? r : undefined;
      }, 30_000, 'the public sandbox server');
      assert.equal(pubEcho.status, 200);

      // A sandbox without a network: 409 that says why.
      const lo = await A('POST', '/v1/sandboxes', { body: { template: 'busybox', egress: 'none' } });
      const noNet = await get(`${h.url}/v1/sandboxes/${lo.json.id as string}/ports/80/`, { headers: key });
      assert.equal(noNet.status, 409, noNet.body);
      assert.match(noNet.body, /no network/);
    },
    // The machine's template cache: the python template is built once, not per data dir.
    { server: { proxyDomain: DOMAIN }, templateDir: testTemplateDir() },
  );
});
