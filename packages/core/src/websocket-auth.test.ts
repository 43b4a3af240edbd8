import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WS_PROTOCOL, bearerFromWsProtocols, wsProtocolsFor } from './websocket-auth.js';

test('the key offered as a subprotocol is read back from the header, in any position', () => {
  const offered = wsProtocolsFor('tt_abc-_1');
  assert.deepEqual(offered, [WS_PROTOCOL, 'tartarus.bearer.tt_abc-_1']);
  assert.equal(bearerFromWsProtocols(offered.join(', ')), 'tt_abc-_1');
  assert.equal(bearerFromWsProtocols([...offered].reverse().join(',')), 'tt_abc-_1');
  assert.deepEqual(wsProtocolsFor(undefined), [WS_PROTOCOL]);
});

test('no bearer subprotocol, or an empty one, gives no key', () => {
  for (const h of [undefined, '', 'tartarus', 'chat, tartarus.bearer.', 'tartarus.bearerx'])
    assert.equal(bearerFromWsProtocols(h), undefined, String(h));
});
