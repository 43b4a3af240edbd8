import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@tartarus/core';
import { parseServerConfig } from './config.js';

test('defaults work on one machine', () => {
  const c = parseServerConfig();
  assert.equal(c.port, 7070);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.placement, 'binpack');
});

test('a bad option is named in the message', () => {
  assert.throws(
    () => parseServerConfig({ port: 70_000 }),
    (e: unknown) => e instanceof InvalidArgumentError && /port/.test(e.message),
  );
  assert.throws(() => parseServerConfig({ bogus: 1 } as never), /bogus/);
});
