/** Conformance: node tokens (agent secrets bound to one node). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError, NotFoundError } from '@tartarus/core';
import { withStore, type BackendFixture } from './harness.js';

/** Defines the node-token tests for a backend. */
export function nodeTokensSuite(fx: BackendFixture): void {
  describe('node tokens', () => {
    test('create shows the secret once; verify gives the bound node; only the hash is kept', () =>
      withStore(fx, async ({ store, clock, replica }) => {
        const { token, secret } = await store.nodeTokens.create('node-a');
        assert.match(token.id, /^ntk_/);
        assert.match(secret, /^tt_node_[A-Za-z0-9_-]{43}$/);
        assert.deepEqual(token, {
          id: token.id,
          nodeId: 'node-a',
          createdAt: clock.now,
          revokedAt: null,
        });
        assert.deepEqual(await store.nodeTokens.verify(secret), { id: token.id, nodeId: 'node-a' });
        assert.equal(await store.nodeTokens.verify(`${secret}x`), null);
        assert.equal(await store.nodeTokens.verify(''), null);
        assert.deepEqual(await (await replica()).nodeTokens.get(token.id), token);
        const listed = JSON.stringify(await store.nodeTokens.list());
        assert.ok(!listed.includes(secret.slice(8)), 'no secret in the listing');
      }));

    test('revoke is idempotent, refuses the secret after, and keeps the row', () =>
      withStore(fx, async ({ store, clock }) => {
        const a = await store.nodeTokens.create('node-a');
        clock.advance(5);
        const b = await store.nodeTokens.create('node-b');
        assert.equal(await store.nodeTokens.hasActive('node-a'), true);
        assert.equal(await store.nodeTokens.hasActive('node-c'), false);
        clock.advance(5);
        const revoked = await store.nodeTokens.revoke(a.token.id);
        assert.equal(revoked.revokedAt, clock.now);
        clock.advance(5);
        assert.equal((await store.nodeTokens.revoke(a.token.id)).revokedAt, revoked.revokedAt);
        assert.equal(await store.nodeTokens.verify(a.secret), null);
        assert.equal(await store.nodeTokens.hasActive('node-a'), false);
        assert.deepEqual(await store.nodeTokens.verify(b.secret), {
          id: b.token.id,
          nodeId: 'node-b',
        });
        assert.deepEqual(
          (await store.nodeTokens.list()).map((t) => [t.id, t.revokedAt]),
          [
            [b.token.id, null],
            [a.token.id, revoked.revokedAt],
          ],
        );
        await assert.rejects(store.nodeTokens.revoke('ntk_missing'), NotFoundError);
        await assert.rejects(store.nodeTokens.get('ntk_missing'), NotFoundError);
      }));

    test('a node may hold several tokens (rotation); a bad node id is refused', () =>
      withStore(fx, async ({ store }) => {
        const first = await store.nodeTokens.create('node-a');
        const second = await store.nodeTokens.create('node-a');
        assert.notEqual(first.secret, second.secret);
        await store.nodeTokens.revoke(first.token.id);
        assert.equal(await store.nodeTokens.hasActive('node-a'), true);
        await assert.rejects(store.nodeTokens.create(''), InvalidArgumentError);
        await assert.rejects(store.nodeTokens.create('n'.repeat(129)), InvalidArgumentError);
      }));
  });
}
