// base64 without Buffer: the same bytes and text as Node's Buffer, on every length around the
// padding boundaries and across the chunking of large inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeBase64, encodeBase64, utf8 } from './base64.js';

test('encodeBase64 and decodeBase64 agree with Buffer', () => {
  for (const n of [0, 1, 2, 3, 4, 5, 0x8000 - 1, 0x8000, 0x8000 * 3 + 2]) {
    const bytes = new Uint8Array(randomBytes(n));
    const b64 = encodeBase64(bytes);
    assert.equal(b64, Buffer.from(bytes).toString('base64'), `length ${n}`);
    assert.deepEqual(decodeBase64(b64), bytes, `length ${n}`);
  }
});

test('utf8 decodes like Buffer, invalid sequences included', () => {
  for (const bytes of [Buffer.from('héllo ✓ 🚀'), Buffer.from([0x61, 0xff, 0x62, 0xe2, 0x82])])
    assert.equal(utf8(new Uint8Array(bytes)), bytes.toString('utf8'));
});
