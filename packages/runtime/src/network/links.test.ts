import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkExists, parseNetDev, readLinks } from './links.js';

test('interfaces and counters from /proc/net/dev', async () => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  1234      10    0    0    0     0          0         0     1234      10    0    0    0     0       0          0
tvabc:    99       1    0    0    0     0          0         0      42       1    0    0    0     0       0          0
`;
  assert.deepEqual([...parseNetDev(text)], [
    ['lo', { rxBytes: 1234, txBytes: 1234 }],
    ['tvabc', { rxBytes: 99, txBytes: 42 }],
  ]);
  // This machine's own: loopback is always there, a made-up name never.
  assert.ok((await readLinks()).has('lo'));
  assert.equal(await linkExists('tt-no-such-link'), false);
});
