import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OutputChunk } from '../driver.js';
import { OutputCapture, truncationMarker } from './capture.js';

test('streams are kept apart, capped, and marked once when truncated', () => {
  const seen: OutputChunk[] = [];
  const c = new OutputCapture(5, (ch) => seen.push(ch));
  c.push('stdout', Buffer.from('abc'));
  c.push('stderr', Buffer.from('e'));
  c.push('stdout', Buffer.from('defgh'));
  c.push('stdout', Buffer.from('ijk'));
  const r = c.result();
  assert.equal(r.stdout.toString(), `abcde${truncationMarker(5).toString()}`);
  assert.equal(r.stderr.toString(), 'e');
  assert.equal(r.stdoutTruncated, true);
  assert.equal(r.stderrTruncated, false);
  assert.deepEqual(seen.map((s) => [s.stream, s.data.toString()]), [
    ['stdout', 'abc'],
    ['stderr', 'e'],
    ['stdout', 'de'],
    ['stdout', truncationMarker(5).toString()],
  ]);
  assert.ok(seen.every((s) => typeof s.timeMs === 'number'));
});

test('a zero cap keeps nothing but the marker', () => {
  const c = new OutputCapture(0);
  c.push('stdout', Buffer.from('x'));
  assert.equal(c.result().stdout.toString(), truncationMarker(0).toString());
});

test('a throwing listener does not break the capture', () => {
  const c = new OutputCapture(10, () => {
    throw new Error('listener bug');
  });
  c.push('stdout', Buffer.from('ok'));
  assert.equal(c.result().stdout.toString(), 'ok');
});
