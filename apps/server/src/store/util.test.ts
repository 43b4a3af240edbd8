/** Pure helpers of the store: canonical request hashing, cursors, retry backoff. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '@tartarus/core';
import { backoffDelayMs } from './queue/backoff.js';
import { beforeCursor, canonicalJson, newId, pageLimit, toPage } from './util.js';

test('canonicalJson: key order does not matter, array order does', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [2, 1], c: null } }),
    canonicalJson({ a: { c: null, d: [2, 1] }, b: 1 }),
  );
  assert.notEqual(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [2, 1] }));
});

test('pages: limit defaults and bounds; a cursor round-trips and garbage is a 400', () => {
  assert.equal(pageLimit(undefined), 50);
  assert.equal(pageLimit({ limit: 10_000 }), 500);
  assert.throws(() => pageLimit({ limit: 0 }), InvalidArgumentError);
  const rows = [1, 2, 3].map((i) => ({ id: `x${i}`, t: i }));
  const page = toPage(
    rows,
    2,
    (r) => r.id,
    (r) => ({ t: r.t, id: r.id }),
  );
  assert.deepEqual(page.items, ['x1', 'x2']);
  assert.ok(page.nextCursor !== null);
  assert.doesNotThrow(() => beforeCursor(page.nextCursor ?? '', 'created_at'));
  assert.throws(() => beforeCursor('bm90IGpzb24', 'created_at'), InvalidArgumentError);
  for (const t of ['1e400', '1.5', '"1"']) {
    const forged = Buffer.from(`{"t":${t},"id":"x"}`).toString('base64url');
    assert.throws(() => beforeCursor(forged, 'created_at'), InvalidArgumentError);
  }
  assert.equal(
    toPage(
      rows,
      3,
      (r) => r.id,
      (r) => ({ t: r.t, id: r.id }),
    ).nextCursor,
    null,
  );
});

test('backoff: doubles from initialMs, capped at maxMs', () => {
  const policy = { initialMs: 100, maxMs: 1000 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 200].map((n) => backoffDelayMs(n, policy)),
    [100, 200, 400, 800, 1000, 1000],
  );
});

test('ids: prefixed and distinct', () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newId('run')));
  assert.equal(ids.size, 1000);
  assert.ok([...ids].every((id) => /^run_[0-9a-z]{21}$/.test(id)));
});
