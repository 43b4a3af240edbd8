// `tartarus nodes token` against a real server (no agent or runtime needed), found through TARTARUS_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrap, openStore, startServer, type ServerHandle, type Store } from '@tartarus/server';
import { cli } from './cli-test-helpers.js';

describe('tartarus nodes token', () => {
  let dir: string;
  let store: Store;
  let server: ServerHandle;
  let env: Record<string, string>;
  const t = (args: string[]) => cli(args, env);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tt-cli-nodes-'));
    store = await openStore({ backend: 'sqlite', path: join(dir, 'db.sqlite') });
    const { adminKey } = await bootstrap(store, dir);
    server = await startServer({ store, config: { port: 0 } });
    env = { TARTARUS_URL: server.url, TARTARUS_API_KEY: adminKey ?? '' };
  });
  after(async () => {
    await server?.close();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('create prints the secret once on stdout; ls shows no secret; revoke refuses it', async () => {
    const created = await t(['nodes', 'token', 'create', 'node-a']);
    assert.equal(created.status, 0, created.stderr);
    const secret = created.stdout.trim();
    assert.match(secret, /^tt_node_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.stdout, `${secret}\n`, 'stdout is the secret alone');
    const id = /created (ntk_\w+) for node node-a/.exec(created.stderr)?.[1] ?? '';
    assert.ok(id, created.stderr);
    assert.deepEqual(await store.nodeTokens.verify(secret), { id, nodeId: 'node-a' });

    const ls = await t(['nodes', 'token', 'ls']);
    assert.equal(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /^ID\s+NODE\s+CREATED\s+REVOKED\n/);
    assert.match(ls.stdout, new RegExp(`${id}\\s+node-a\\s+\\d+s ago\\s+-\\n`));
    assert.ok(!ls.stdout.includes(secret.slice(8)), 'no secret in the listing');

    const revoked = await t(['nodes', 'token', 'revoke', id]);
    assert.deepEqual([revoked.status, revoked.stdout], [0, `revoked ${id}\n`]);
    assert.equal(await store.nodeTokens.verify(secret), null);
    const json = JSON.parse((await t(['nodes', 'token', 'ls', '--json'])).stdout) as {
      id: string;
      revokedAt: string | null;
    }[];
    assert.ok(json.some((x) => x.id === id && x.revokedAt !== null));
  });

  test('create --json carries the secret; bad input is one line naming what to change', async () => {
    const created = JSON.parse(
      (await t(['nodes', 'token', 'create', 'node-b', '--json'])).stdout,
    ) as {
      id: string;
      nodeId: string;
      secret: string;
    };
    assert.equal(created.nodeId, 'node-b');
    assert.match(created.secret, /^tt_node_/);
    const missing = await t(['nodes', 'token', 'revoke', 'ntk_missing']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^error: .*node token ntk_missing not found\n$/);
    const long = await t(['nodes', 'token', 'create', 'n'.repeat(129)]);
    assert.equal(long.status, 1);
    assert.match(long.stderr, /nodeId must be at most 128 characters/);
  });
});
