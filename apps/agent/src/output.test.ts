import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextOutput } from './output.js';

test('a character split across chunks is emitted whole, per stream', () => {
  const got: string[] = [];
  const out = new TextOutput((stream, text) => got.push(`${stream}:${text}`));
  const euro = Buffer.from('€', 'utf8');
  out.push({ stream: 'stdout', data: euro.subarray(0, 1), timeMs: 0 });
  out.push({ stream: 'stderr', data: Buffer.from('e'), timeMs: 0 });
  out.push({ stream: 'stdout', data: euro.subarray(1), timeMs: 0 });
  out.flush();
  assert.deepEqual(got, ['stderr:e', 'stdout:€']);
});
