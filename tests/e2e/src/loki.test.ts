/**
 * Log shipping end to end (real runc, real HTTP): a Loki stand-in on loopback, speaking Loki's
 * push API, receives a run's output line by line with its tenant, run, node and stream labels and
 * strictly increasing nanosecond timestamps; a sandbox's lifecycle lines; and the structured log's
 * lines with their level and ids. A Loki that hangs, then one that is down, never holds up a run:
 * the runs finish while nothing has reached Loki, and their lines arrive once it is back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '@tartarus/server';
import { startLokiStandIn, type LokiEntry } from '@tartarus/server/testing/loki';
import { testTemplateDir } from '@tartarus/runtime/testing';
import { call, containerSkipReason, eventually, withEmbedded } from './helpers.js';

/** A destination keeping the structured log's lines (what stderr would get). */
function memory(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter((l) => l.trim() !== ''));
      done();
    },
  });
  return { lines, stream };
}

const of = (entries: readonly LokiEntry[], labels: Record<string, string>): LokiEntry[] =>
  entries.filter((e) => Object.entries(labels).every(([k, v]) => e.labels[k] === v));

/** A counter's total over its samples in a Prometheus text. */
function total(metrics: string, name: string): number {
  return metrics
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
}

test('log shipping: run output, sandbox lines and the structured log reach Loki; a hung or absent Loki never holds up a run', async (t) => {
  const skip = await containerSkipReason();
  if (skip) return t.skip(skip);
  const loki = await startLokiStandIn();
  // Loki accepts connections and never answers, from the platform's first line on.
  loki.setMode('hang');
  const log = memory();
  try {
    await withEmbedded(
      async (h) => {
        const A = (m: string, p: string, o?: Parameters<typeof call>[4]) => call(h.url, h.adminKey, m, p, o);
        const node = ((await A('GET', '/v1/nodes')).json.items[0] as { id: string }).id;

        // Loki hangs: the run still finishes, with nothing shipped.
        const before = BigInt(Date.now()) * 1_000_000n;
        const a = await A('POST', '/v1/runs?wait=true', { body: { template: 'busybox', command: "printf 'alpha\\nbeta\\n'; echo gamma >&2; printf 'delta\\n'" } });
        assert.equal(a.json.state, 'succeeded', a.text);
        assert.equal(a.json.stdout, 'alpha\nbeta\ndelta\n');
        const runA = a.json.id as string;
        await eventually(async () => (loki.requests.some((r) => r.status === 0) ? true : undefined), 5000, 'a push held by Loki');

        // Then Loki is down (connections refused): another run and a sandbox's whole life, nothing shipped.
        await loki.stop();
        const b = await A('POST', '/v1/runs?wait=true', { body: { template: 'busybox', command: 'echo bravo' } });
        assert.equal(b.json.state, 'succeeded', b.text);
        const runB = b.json.id as string;
        const s = await A('POST', '/v1/sandboxes', { body: { template: 'busybox' } });
        assert.equal(s.status, 201, s.text);
        const sid = s.json.id as string;
        assert.ok((await A('DELETE', `/v1/sandboxes/${sid}`)).status < 300);
        assert.equal(loki.entries.length, 0, 'nothing reached Loki while it hung and while it was down');

        // Back: everything arrives.
        loki.setMode('up');
        await loki.start();
        await loki.waitFor((e) => of(e, { run: runB, source: 'run' }).length === 1 && of(e, { sandbox: sid, source: 'sandbox' }).length === 3, 20_000, 'the lines after Loki came back');

        // The run's output: one entry per line, by stream, in order, with its labels and ns times.
        const out = of(loki.entries, { run: runA, source: 'run', stream: 'stdout' });
        assert.deepEqual(out.map((e) => e.line), ['alpha', 'beta', 'delta']);
        assert.deepEqual(of(loki.entries, { run: runA, stream: 'stderr' }).map((e) => e.line), ['gamma']);
        assert.deepEqual(out[0]?.labels, { service_name: 'tartarus', source: 'run', tenant: 'default', node, stream: 'stdout', run: runA });
        const ts = out.map((e) => BigInt(e.ts));
        assert.ok(ts.every((x, i) => i === 0 || x > (ts[i - 1] as bigint)), `increasing: ${ts.join(' ')}`);
        assert.ok((ts[0] as bigint) >= before - 60_000_000_000n && (ts.at(-1) as bigint) <= BigInt(Date.now()) * 1_000_000n + 60_000_000_000n, 'nanoseconds since the epoch');

        // The sandbox's life, with its node once it has one.
        const sbx = of(loki.entries, { sandbox: sid, source: 'sandbox' });
        assert.deepEqual(sbx.map((e) => e.line.split(' ')[0]), ['sandbox.created', 'sandbox.started', 'sandbox.ended']);
        assert.deepEqual(sbx.map((e) => e.labels.node), [undefined, node, node]);
        assert.equal(sbx[0]?.labels.tenant, 'default');
        assert.match(sbx[2]?.line ?? '', /^sandbox\.ended \{"state":"killed"/);

        // The structured log: the same JSON lines as stderr got, labelled with level and ids.
        const started = of(loki.entries, { source: 'server', run: runA }).find((e) => JSON.parse(e.line).msg === 'work started');
        assert.ok(started, 'the run started line');
        assert.deepEqual([started.labels.level, started.labels.tenant, started.labels.node], ['info', 'default', node]);
        assert.ok(log.lines.includes(started.line), 'as written to the local log');
        assert.ok(of(loki.entries, { source: 'server', level: 'warn' }).some((e) => JSON.parse(e.line).msg.startsWith('Loki push failed')), 'the shipper said Loki was away');

        const m = (await call(h.url, undefined, 'GET', '/metrics')).text;
        assert.ok(total(m, 'tartarus_log_push_failures_total') >= 1, 'failed pushes counted');
        assert.ok(total(m, 'tartarus_log_lines_shipped_total') > 0, 'shipped lines counted');
        assert.equal(total(m, 'tartarus_log_lines_dropped_total'), 0);
      },
      { templateDir: testTemplateDir(), log: createLogger('info', log.stream), server: { lokiUrl: loki.url, lokiBatchMs: 100 } },
    );
  } finally {
    await loki.close();
  }
});
