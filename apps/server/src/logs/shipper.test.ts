/**
 * The Loki shipper against a Loki stand-in on loopback (real HTTP, gzip, Loki's JSON push API):
 * batches by stream in order, waits out a Loki that is down and delivers after, bounds its memory
 * by dropping the oldest (counted), drops what Loki refuses, flushes on close; and the structured
 * log reaches it through a destination added to a real pino logger.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '../context.js';
import { createMetrics, type ServerMetrics } from '../http/metrics.js';
import { addLogDestination, createLogger } from '../logging.js';
import { startLokiStandIn, type LokiStandIn } from '../testing/loki.js';
import { pushTarget, type LabelOptions } from './loki-push.js';
import { LokiShipper, type LokiShipperOptions } from './shipper.js';
import { controlPlaneDestination } from './sources.js';

let loki: LokiStandIn;
before(async () => {
  loki = await startLokiStandIn();
});
after(() => loki.close());

/** A real registry without a store (its scrape-time gauges read nothing). */
function metrics(): ServerMetrics {
  return createMetrics(true, { readyRuns: async () => 0, queueDepth: async () => [], liveSandboxes: async () => [], nodes: async () => [] });
}

/** A counter's value in the registry's text, for the sample with `labels` (e.g. `reason="buffer_full"`). */
async function value(m: ServerMetrics, name: string, labels = ''): Promise<number> {
  const text = await m.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(labels === '' ? `${name} ` : `${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

/** A logger keeping what the shipper says about itself. */
function notes(): Logger & { said: string[] } {
  const said: string[] = [];
  return { said, info: (_o, m) => said.push(`info ${m ?? ''}`), warn: (_o, m) => said.push(`warn ${m ?? ''}`), error: (_o, m) => said.push(`error ${m ?? ''}`) };
}

function shipper(m: ServerMetrics, log: Logger, o: Partial<LokiShipperOptions> & { labels?: LabelOptions } = {}): LokiShipper {
  return new LokiShipper({
    target: pushTarget(loki.url, { 'X-Scope-OrgID': 'test' }),
    labels: { ids: 'labels', staticLabels: {} },
    batchMs: 50,
    batchBytes: 64 * 1024,
    bufferBytes: 1024 * 1024,
    metrics: m.logShipping,
    log,
    retry: { initialMs: 50, maxMs: 200 },
    ...o,
  });
}

test('lines reach Loki batched by stream, in order, with increasing ns timestamps and the headers', async () => {
  loki.entries.length = 0;
  const m = metrics();
  const s = shipper(m, notes());
  const origin = { source: 'run', tenant: 't1', run: 'run_a', node: 'n1', stream: 'stdout' } as const;
  const at = Date.now();
  for (let i = 0; i < 50; i++) s.push(origin, at, `line ${i}`);
  s.push({ ...origin, stream: 'stderr' }, at, 'oops');
  await loki.waitFor((e) => e.length === 51, 5000, '51 lines');
  const out = loki.entries.filter((e) => e.labels.stream === 'stdout');
  assert.deepEqual(out.map((e) => e.line), Array.from({ length: 50 }, (_, i) => `line ${i}`));
  assert.deepEqual(out[0]?.labels, { service_name: 'tartarus', source: 'run', tenant: 't1', run: 'run_a', node: 'n1', stream: 'stdout' });
  const ts = out.map((e) => BigInt(e.ts));
  assert.ok(ts.every((t, i) => i === 0 || t > (ts[i - 1] as bigint)), 'strictly increasing');
  assert.equal(ts[0], BigInt(at) * 1_000_000n);
  const req = loki.requests.at(-1);
  assert.deepEqual([req?.headers['content-encoding'], req?.headers['x-scope-orgid']], ['gzip', 'test']);
  assert.equal(await value(m, 'tartarus_log_lines_shipped_total', 'source="run"'), 51);
  await s.close();
});

test('Loki down, then up: the lines wait, failures are counted, and they arrive in order after', async () => {
  loki.entries.length = 0;
  const m = metrics();
  const log = notes();
  const s = shipper(m, log);
  await loki.stop();
  try {
    for (let i = 0; i < 20; i++) s.push({ source: 'server', level: 'info' }, Date.now(), `event ${i}`);
    // Pushing never waited: all 20 were taken while nothing listens.
    for (let i = 0; i < 500 && (await value(m, 'tartarus_log_push_failures_total', 'reason="network"')) < 1; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok((await value(m, 'tartarus_log_push_failures_total', 'reason="network"')) >= 1);
    assert.deepEqual(log.said, ['warn Loki push failed: retrying with backoff, lines wait in memory']);
  } finally {
    await loki.start();
  }
  await loki.waitFor((e) => e.length === 20, 5000, 'the lines after Loki came back');
  assert.deepEqual(loki.entries.map((e) => e.line), Array.from({ length: 20 }, (_, i) => `event ${i}`));
  assert.equal(log.said.at(-1), 'info Loki takes pushes again');
  await s.close();
});

test('memory is bounded: while Loki is away the oldest lines are dropped and counted', async () => {
  loki.entries.length = 0;
  const m = metrics();
  const s = shipper(m, notes(), { bufferBytes: 16 * 1024, batchBytes: 4 * 1024 });
  loki.setMode('unavailable');
  try {
    for (let i = 0; i < 1000; i++) s.push({ source: 'server', level: 'info' }, Date.now(), `line ${String(i).padStart(4, '0')} ${'x'.repeat(100)}`);
    const dropped = await value(m, 'tartarus_log_lines_dropped_total', 'reason="buffer_full"');
    assert.ok(dropped > 800, `dropped ${dropped}`);
    assert.ok((await value(m, 'tartarus_log_buffer_bytes')) <= 16 * 1024);
  } finally {
    loki.setMode('up');
  }
  await loki.waitFor((e) => e.some((x) => x.line.startsWith('line 0999')), 5000, 'the newest line');
  await s.close();
  // What arrived: the batch in flight when Loki went away (the oldest), then the newest.
  assert.ok(loki.entries.length < 200, `${loki.entries.length} arrived`);
  const lines = loki.entries.map((e) => e.line);
  assert.deepEqual(lines, [...lines].sort(), 'in order');
});

test('a push Loki refuses is dropped and counted, not retried', async () => {
  loki.entries.length = 0;
  const m = metrics();
  const log = notes();
  const s = shipper(m, log);
  loki.setMode('refuse');
  const before = loki.requests.length;
  try {
    s.push({ source: 'server', level: 'info' }, Date.now(), 'too old');
    for (let i = 0; i < 500 && (await value(m, 'tartarus_log_lines_dropped_total', 'reason="rejected"')) === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await value(m, 'tartarus_log_lines_dropped_total', 'reason="rejected"'), 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(loki.requests.length - before, 1, 'one request, no retry');
    assert.equal(log.said[0], 'warn Loki refused a push: its lines are dropped');
  } finally {
    loki.setMode('up');
  }
  await s.close();
});

test('close pushes what waits at once; metadata mode sends ids as structured metadata', async () => {
  loki.entries.length = 0;
  const m = metrics();
  const s = shipper(m, notes(), { batchMs: 60_000, labels: { ids: 'metadata', staticLabels: { cluster: 'c1' } } });
  s.push({ source: 'sandbox', tenant: 't1', sandbox: 'sbx_1', node: 'n1' }, Date.now(), 'sandbox.started {}');
  await s.close();
  assert.equal(loki.entries.length, 1);
  assert.deepEqual(loki.entries[0]?.labels, { cluster: 'c1', service_name: 'tartarus', source: 'sandbox', tenant: 't1', node: 'n1' });
  assert.deepEqual(loki.entries[0]?.metadata, { sandbox: 'sbx_1' });
  s.push({ source: 'server' }, Date.now(), 'after close');
  assert.equal(await value(m, 'tartarus_log_buffer_bytes'), 0, 'nothing is taken after close');
});

test('the structured log: each JSON line as written, labelled with its level and ids; detached, nothing more', async () => {
  loki.entries.length = 0;
  const m = metrics();
  const s = shipper(m, notes());
  const kept: string[] = [];
  const logger = createLogger('info', { write: (l: string) => void kept.push(l) });
  const detach = addLogDestination(logger, controlPlaneDestination(s));
  assert.ok(detach);
  logger.info({ tenantId: 't1', runId: 'run_x', nodeId: 'n1', exitCode: 0 }, 'work finished');
  logger.warn({ workId: 'sbx_y' }, 'work failed');
  logger.debug({}, 'below the level');
  detach();
  logger.info({}, 'not shipped');
  await s.close();
  assert.equal(kept.length, 3, 'the first destination still gets every line');
  assert.deepEqual(loki.entries.map((e) => [e.labels.level, e.labels.run ?? e.labels.sandbox, JSON.parse(e.line).msg]), [
    ['info', 'run_x', 'work finished'],
    ['warn', 'sbx_y', 'work failed'],
  ]);
  assert.deepEqual(loki.entries[0]?.labels, { service_name: 'tartarus', source: 'server', level: 'info', tenant: 't1', node: 'n1', run: 'run_x' });
  assert.equal(addLogDestination({}, controlPlaneDestination(s)), null, 'not a logger of createLogger');
});
