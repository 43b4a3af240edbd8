import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@tartarus/core';
import { parseServerConfig } from './config.js';

test('defaults work on one machine', () => {
  const c = parseServerConfig();
  assert.equal(c.port, 7070);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.placement, 'binpack');
  assert.equal(c.runLogRetentionMs, 7 * 86_400_000);
  assert.equal(c.auditRetentionMs, 90 * 86_400_000);
});

test('a bad option is named in the message', () => {
  assert.throws(
    () => parseServerConfig({ port: 70_000 }),
    (e: unknown) => e instanceof InvalidArgumentError && /port/.test(e.message),
  );
  assert.throws(() => parseServerConfig({ bogus: 1 } as never), /bogus/);
  assert.throws(
    () => parseServerConfig({ runLogRetentionMs: 0 }),
    /server config runLogRetentionMs/,
  );
});

test('agent tokens: NODE_ID=TOKEN binds a token to a node, TOKEN is shared', () => {
  const c = parseServerConfig({
    agentTokens: ['node-a=0123456789abcdef', 'shared-0123456789', 'cGFkZGVkLXRva2VuLTEyMw=='],
  });
  assert.deepEqual(c.agentTokens, [
    { nodeId: 'node-a', secret: '0123456789abcdef' },
    { nodeId: null, secret: 'shared-0123456789' },
    // Base64 padding is part of a shared token, not a binding.
    { nodeId: null, secret: 'cGFkZGVkLXRva2VuLTEyMw==' },
  ]);
  assert.throws(
    () => parseServerConfig({ agentTokens: ['node-a=short'] }),
    /agentTokens\.0: an agent token must have at least 16 characters \(as TOKEN or NODE_ID=TOKEN\)/,
  );
});
