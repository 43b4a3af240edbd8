// Tenants' secrets on a real server (SQLite file, loopback): sealed at rest (the value is nowhere
// in the database file), write-only through the API, bound to their tenant and name, refused
// clearly by a server without a secretKey; and the cipher's own guarantees.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InternalError } from '@tartarus/core';
import { startServer, type ServerHandle } from '../server.js';
import { openStore, type Store } from '../store/index.js';
import { SecretCipher } from './cipher.js';

const KEY = 'k'.repeat(40);
const VALUE = 'ghp_SuperSecretValue_0123456789';

describe('secrets', () => {
  let dir: string;
  let store: Store;
  let server: ServerHandle;
  let admin: string;
  let viewer: string;
  const call = (key: string, method: string, path: string, body?: unknown) =>
    fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? null : JSON.stringify(body) });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tt-secrets-'));
    store = await openStore({ backend: 'sqlite', path: join(dir, 'db') });
    await store.tenants.create({ id: 'default', name: 'default' });
    admin = (await store.apiKeys.create('default', { name: 'a', role: 'admin' })).secret;
    viewer = (await store.apiKeys.create('default', { name: 'v', role: 'viewer' })).secret;
    server = await startServer({ store, config: { port: 0, secretKey: KEY } });
  });
  after(async () => {
    await server?.close();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('stored sealed, listed by name, never returned; only admins write', async () => {
    const put = await call(admin, 'PUT', '/v1/secrets/github-token', { value: VALUE });
    assert.equal(put.status, 200);
    const text = JSON.stringify(await put.json()) + (await (await call(viewer, 'GET', '/v1/secrets')).text());
    assert.match(text, /github-token/);
    assert.doesNotMatch(text, /SuperSecret/);
    assert.equal(await server.secrets.reveal('default', 'github-token'), VALUE);
    // Nowhere in the database in clear (the WAL included).
    for (const f of ['db', 'db-wal']) assert.doesNotMatch(await readFile(join(dir, f), 'latin1').catch(() => ''), /SuperSecret/, f);
    const audit = await (await call(admin, 'GET', '/v1/audit')).text();
    assert.match(audit, /secret\.put/);
    assert.doesNotMatch(audit, /SuperSecret/);
    assert.equal((await call(viewer, 'PUT', '/v1/secrets/x', { value: 'y' })).status, 403);
    const bad = await call(admin, 'PUT', '/v1/secrets/bad%20name', { value: 'y' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /letters, digits/);
    assert.equal((await call(admin, 'PUT', '/v1/secrets/empty', { value: '' })).status, 400);
    assert.equal((await call(admin, 'DELETE', '/v1/secrets/github-token')).status, 204);
    const gone = await call(admin, 'DELETE', '/v1/secrets/github-token');
    assert.equal(gone.status, 404);
    assert.match(((await gone.json()) as { error: { message: string } }).error.message, /tartarus secrets set github-token/);
  });

  test('a server without a secretKey keeps no secrets, and says how to give it one', async () => {
    const bare = await startServer({ store, config: { port: 0 } });
    try {
      const res = await fetch(`${bare.url}/v1/secrets/x`, { method: 'PUT', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: '{"value":"y"}' });
      assert.equal(res.status, 409);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /TARTARUS_SECRET_KEY/);
    } finally {
      await bare.close();
    }
  });
});

test('the cipher: a fresh IV each time; another key, another row or a flipped bit does not open', () => {
  const c = new SecretCipher(KEY);
  const a = c.seal(VALUE, 't1/n');
  assert.notEqual(a, c.seal(VALUE, 't1/n'));
  assert.equal(c.open(a, 't1/n'), VALUE);
  assert.throws(() => c.open(a, 't2/n'), InternalError);
  assert.throws(() => new SecretCipher('x'.repeat(40)).open(a, 't1/n'), /secretKey/);
  const flipped = a.slice(0, -2) + (a.at(-2) === 'A' ? 'B' : 'A') + a.at(-1);
  assert.throws(() => c.open(flipped, 't1/n'), InternalError);
  assert.throws(() => c.open('v0.abc', 't1/n'), /known format/);
});
