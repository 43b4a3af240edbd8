// The dashboard at `/` of a real server (in-memory store, loopback): its files, its pages for
// GETs that want HTML and no route serves, and the API's answers unchanged around it; and the
// plain note of a server whose dashboard is not built.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import type { ZodApp } from '../routes/types.js';
import { startServer, type ServerHandle } from '../server.js';
import { openStore, type Store } from '../store/index.js';
import { findDashboardDir, installDashboard, isDashboardPage } from './web.js';

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('the dashboard served by the server', () => {
  let store: Store;
  let server: ServerHandle;
  before(async () => {
    assert.ok(await findDashboardDir(), 'apps/web/dist is missing: run `npm run build`');
    store = await openStore({ backend: 'sqlite', path: ':memory:' });
    server = await startServer({ store, config: { port: 0 } });
  });
  after(async () => {
    await server?.close();
    await store?.close();
  });
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { headers });

  test('/ and the app’s own pages answer index.html, with a content security policy', async () => {
    for (const path of ['/', '/runs/run_abc', '/sandboxes', '/usage?x=1']) {
      const res = await get(path, HTML);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.match(await res.text(), /<script type="module" src="\/app.js">/);
    }
    const js = await get('/app.js', { 'accept-encoding': 'br' });
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    await js.arrayBuffer();
  });

  test('the API, its docs and anything not asking for HTML keep their answers', async () => {
    for (const [path, headers] of [['/v1/nope', HTML], ['/v1', HTML], ['/metrics/x', HTML], ['/runs/run_abc', { accept: 'application/json' }]] as const) {
      const res = await get(path, headers);
      assert.equal(res.status, 404, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_found');
    }
    const post = await fetch(`${server.url}/runs`, { method: 'POST', headers: HTML });
    assert.equal(post.status, 404);
    await post.body?.cancel();
    assert.equal((await get('/v1/runs', HTML)).status, 401);
    const openapi = (await (await get('/openapi.json')).json()) as { paths: Record<string, unknown> };
    assert.ok(Object.keys(openapi.paths).every((p) => p.startsWith('/v1/')), 'no dashboard path in the API document');
  });
});

test('a server without a built dashboard says so at /, in plain text', async () => {
  const app = Fastify();
  const dashboard = await installDashboard(app as unknown as ZodApp, { dir: null });
  app.setNotFoundHandler(async (req, reply) =>
    isDashboardPage(req) ? dashboard.sendPage(reply) : reply.code(404).send({ error: 'none' }),
  );
  const res = await app.inject({ method: 'GET', url: '/' });
  assert.equal(res.statusCode, 404);
  assert.match(res.headers['content-type'] as string, /^text\/plain/);
  assert.match(res.body, /dashboard is not built: run `npm run build`/);
  await app.close();
});
