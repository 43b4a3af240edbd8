// Loki's push API, the pure part: labels and metadata, stream identity, timestamps, the body, the target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePush } from '../testing/loki.js';
import { labelsOf, linesOf, pushBody, pushTarget, StreamClock, streamKey } from './loki-push.js';

const run = { source: 'run', tenant: 'acme', run: 'run_1', node: 'node-a', stream: 'stdout' } as const;

test('ids as labels: tenant, run, node and stream label the stream; static labels under them', () => {
  const l = labelsOf(run, { ids: 'labels', staticLabels: { cluster: 'eu1', source: 'overridden' } });
  assert.deepEqual(l.labels, { cluster: 'eu1', service_name: 'tartarus', source: 'run', tenant: 'acme', node: 'node-a', stream: 'stdout', run: 'run_1' });
  assert.equal(l.metadata, undefined);
  assert.equal(l.key, '{cluster="eu1",node="node-a",run="run_1",service_name="tartarus",source="run",stream="stdout",tenant="acme"}');
});

test('ids as metadata: the run leaves the labels for structured metadata; lines without ids have none', () => {
  const l = labelsOf(run, { ids: 'metadata', staticLabels: {} });
  assert.equal(l.labels.run, undefined);
  assert.deepEqual(l.metadata, { run: 'run_1' });
  const s = labelsOf({ source: 'sandbox', tenant: 'acme', sandbox: 'sbx_1' }, { ids: 'metadata', staticLabels: {} });
  assert.deepEqual([s.labels, s.metadata], [{ service_name: 'tartarus', source: 'sandbox', tenant: 'acme' }, { sandbox: 'sbx_1' }]);
  const server = labelsOf({ source: 'server', level: 'info', tenant: '' }, { ids: 'metadata', staticLabels: {} });
  assert.deepEqual([server.labels, server.metadata], [{ service_name: 'tartarus', source: 'server', level: 'info' }, undefined]);
});

test('a stream key does not depend on the order of the labels', () => {
  assert.equal(streamKey({ b: '2', a: '1' }), streamKey({ a: '1', b: '2' }));
  assert.notEqual(streamKey({ a: '1' }), streamKey({ a: '1', b: '' }));
  assert.equal(streamKey({ a: 'x"y' }), '{a="x\\"y"}');
});

test('timestamps are nanoseconds, strictly increasing per stream, never going back', () => {
  const c = new StreamClock();
  assert.equal(c.stamp('a', 1_700_000_000_123), '1700000000123000000');
  assert.equal(c.stamp('a', 1_700_000_000_123), '1700000000123000001', 'the same millisecond: +1 ns');
  assert.equal(c.stamp('a', 1_700_000_000_100), '1700000000123000002', 'an older line follows the last');
  assert.equal(c.stamp('b', 1_700_000_000_100), '1700000000100000000', 'streams are independent');
  assert.equal(c.stamp('a', 1_700_000_000_124), '1700000000124000000');
});

test('the body groups lines by stream in the order given, and Loki would take it', () => {
  const a = labelsOf(run, { ids: 'labels', staticLabels: {} });
  const e = labelsOf({ ...run, stream: 'stderr' }, { ids: 'metadata', staticLabels: {} });
  const body = pushBody([
    { ...a, ts: '1', line: 'one' },
    { ...e, ts: '2', line: 'err' },
    { ...a, ts: '3', line: 'two' },
  ]);
  assert.equal(body.streams.length, 2);
  assert.deepEqual(body.streams[0]?.values, [['1', 'one'], ['3', 'two']]);
  assert.deepEqual(body.streams[1]?.values, [['2', 'err', { run: 'run_1' }]]);
  const parsed = parsePush(JSON.parse(JSON.stringify(body)));
  assert.ok(Array.isArray(parsed), String(parsed));
  assert.deepEqual(parsed.map((x) => x.line), ['one', 'two', 'err']);
});

test('the push target: the path added once, basic auth from the URL, headers kept', () => {
  const t = pushTarget('https://u%40x:p%3Aw@logs.example.com/base/', { 'X-Scope-OrgID': 'acme' });
  assert.equal(t.url.href, 'https://logs.example.com/base/loki/api/v1/push');
  assert.equal(t.headers['authorization'], `Basic ${Buffer.from('u@x:p:w').toString('base64')}`);
  assert.equal(t.headers['x-scope-orgid'], 'acme');
  assert.deepEqual([t.headers['content-type'], t.headers['content-encoding']], ['application/json', 'gzip']);
  assert.equal(pushTarget('http://loki:3100/loki/api/v1/push', {}).url.href, 'http://loki:3100/loki/api/v1/push');
  assert.equal(pushTarget('http://loki:3100', {}).headers['authorization'], undefined);
});

test('output chunks become lines: split at newlines, the last newline not a line of its own', () => {
  assert.deepEqual(linesOf('a\nb\n'), ['a', 'b']);
  assert.deepEqual(linesOf('partial'), ['partial']);
  assert.deepEqual(linesOf('a\n\nb'), ['a', '', 'b']);
  assert.deepEqual(linesOf(''), []);
});
